// lockgraph::gtest_main / lockgraph/gtest.hpp: the listener fails exactly the tests that raised a report.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include <sys/wait.h>
#include "support/text.hpp"

namespace {

struct run_result {
  int status = -1;
  std::string output;
};

run_result run(const std::string& env) {
  run_result r;
  const std::string cmd = env + " " LOCKGRAPH_TEST_PROGRAM_DIR "/listener_program 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) r.output += buf;
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

using lgtest::contains;

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The line of Listener.UnmetExpectationFailsTheTest's expect_report in listener_program.cpp.
int unmet_line() {
  std::FILE* f = std::fopen(LOCKGRAPH_SOURCE_DIR "/tests/gtest_program/listener_program.cpp", "r");
  if (f == nullptr) return -1;
  char buf[512];
  int line = 0;
  int found = -1;
  while (std::fgets(buf, sizeof buf, f) != nullptr) {
    ++line;
    if (std::string(buf).find("expect_report never(") != std::string::npos) found = line;
  }
  std::fclose(f);
  return found;
}
const int kUnmetLine = unmet_line();

TEST(GtestHook, FailsOnlyTheTestThatRaisedAReport) {
  const run_result r = run("LOCKGRAPH_OPTIONS=print_reports=0 LOCKGRAPH_GTEST_QUIESCENT=0");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "[       OK ] Listener.CleanTestPasses")) << r.output;
  EXPECT_TRUE(contains(r.output, "[  FAILED  ] Listener.InversionFailsTheTestThatIntroducedIt")) << r.output;
  EXPECT_TRUE(contains(r.output, "lockgraph raised a report during this test: lock-order inversion: a => b => a"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "[       OK ] Listener.LaterCleanTestPasses")) << r.output;
  EXPECT_TRUE(contains(r.output, "[       OK ] Listener.LockLeftHeldFailsWhenQuiescenceIsChecked")) << r.output;
  EXPECT_TRUE(contains(r.output, "[       OK ] Listener.ExpectedInversionIsSwallowed")) << r.output;
  EXPECT_TRUE(contains(r.output, "[  FAILED  ] Listener.UnmetExpectationFailsTheTest")) << r.output;
  EXPECT_TRUE(contains(r.output, "listener_program.cpp:" + std::to_string(kUnmetLine) +
                                     ": Failure\nFailed\nlockgraph: expect_report(bad_unlock, \"nowhere\") at "))
      << r.output;
  EXPECT_TRUE(contains(r.output, "[  FAILED  ] Listener.ReportAfterResetFailsTheTest")) << r.output;
  EXPECT_TRUE(contains(r.output, "lockgraph raised a report during this test: lock-order inversion: e => f => e"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "3 FAILED TESTS")) << r.output;
}

TEST(GtestHook, QuiescenceCheckFailsATestThatLeavesALockHeld) {
  const run_result r = run("LOCKGRAPH_OPTIONS=print_reports=0 LOCKGRAPH_GTEST_QUIESCENT=1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "[  FAILED  ] Listener.LockLeftHeldFailsWhenQuiescenceIsChecked")) << r.output;
  EXPECT_TRUE(contains(r.output, "not quiescent at the end of this test: unreleased lock: left-held still held by thread T0 (main) at check_quiescent()"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "[       OK ] Listener.LaterCleanTestPasses")) << r.output;
  // The lock is still held at the next test's end: blamed once, on the test that left it.
  EXPECT_TRUE(contains(r.output, "[       OK ] Listener.TestAfterALeakIsNotBlamedForIt")) << r.output;
  EXPECT_EQ(count_of(r.output, "not quiescent at the end of this test"), 1u) << r.output;
  EXPECT_TRUE(contains(r.output, "4 FAILED TESTS")) << r.output;
}

}  // namespace
