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

TEST(GtestHook, FailsOnlyTheTestThatRaisedAReport) {
  const run_result r = run("LOCKGRAPH_OPTIONS=print_reports=0 LOCKGRAPH_GTEST_QUIESCENT=0");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "[       OK ] Listener.CleanTestPasses")) << r.output;
  EXPECT_TRUE(contains(r.output, "[  FAILED  ] Listener.InversionFailsTheTestThatIntroducedIt")) << r.output;
  EXPECT_TRUE(contains(r.output, "lockgraph raised a report during this test: lock-order inversion: a => b => a"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "[       OK ] Listener.LaterCleanTestPasses")) << r.output;
  EXPECT_TRUE(contains(r.output, "[       OK ] Listener.LockLeftHeldFailsWhenQuiescenceIsChecked")) << r.output;
  EXPECT_TRUE(contains(r.output, "1 FAILED TEST")) << r.output;
}

TEST(GtestHook, QuiescenceCheckFailsATestThatLeavesALockHeld) {
  const run_result r = run("LOCKGRAPH_OPTIONS=print_reports=0 LOCKGRAPH_GTEST_QUIESCENT=1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "[  FAILED  ] Listener.LockLeftHeldFailsWhenQuiescenceIsChecked")) << r.output;
  EXPECT_TRUE(contains(r.output, "not quiescent at the end of this test: unreleased lock: left-held still held by thread T0 (main) at check_quiescent()"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "[       OK ] Listener.LaterCleanTestPasses")) << r.output;
  EXPECT_TRUE(contains(r.output, "2 FAILED TESTS")) << r.output;
}

}  // namespace
