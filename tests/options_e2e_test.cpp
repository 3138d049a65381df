// tests/options_e2e_test.cpp: LOCKGRAPH_OPTIONS end to end (suite OptionsEndToEnd).
//
// Each test runs tests/programs/inversion_program (N lock-order inversions, progress on stdout) as a
// child process with a LOCKGRAPH_OPTIONS value, and checks its exit status, stdout, stderr and the
// files it left, as TSan's lit tests do per option. Children are killed after 60 s at the latest.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "support/subprocess.hpp"
#include "support/text.hpp"

namespace {

using namespace std::chrono_literals;
using lgtest::count_of;
using lgtest::lines_of;
using lgtest::run_result;

constexpr auto kTimeout = 60s;
constexpr const char* kInversionTitle = "lockgraph: lock-order-inversion (potential deadlock)";

std::map<std::string, std::string> env_with(const std::string& options) {
  std::map<std::string, std::string> env{{"LOCKGRAPH_OPTIONS", options}};
#if defined(__SANITIZE_THREAD__)
  env["TSAN_OPTIONS"] = "detect_deadlocks=0 halt_on_error=1";  // lockgraph is the detector under test
#endif
  return env;
}

run_result run_program(const std::string& options, std::vector<std::string> args = {}) {
  std::vector<std::string> argv{lgtest::program("inversion_program")};
  argv.insert(argv.end(), args.begin(), args.end());
  return lgtest::run(argv, env_with(options), kTimeout);
}

using lgtest::contains;

// ---- baseline -------------------------------------------------------------------------------------

// No options: the inversion is printed on stderr, the program goes on and exits 0.
TEST(OptionsEndToEnd, DefaultReportsOnStderrAndGoesOn) {
  const run_result r = run_program("", {"2"});
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_EQ(r.out, "start\ninversion 0 done\ninversion 1 done\nexit\n") << r.describe();
  EXPECT_EQ(count_of(r.err, kInversionTitle), 2u) << r.describe();
  EXPECT_TRUE(contains(r.err, "Cycle in lock order graph: inv0.a => inv0.b => inv0.a")) << r.describe();
}

// ---- errors: one line, status 2 ----------------------------------------------------------------------

// An unknown key: exit status 2 and exactly one stderr line, naming the key and every accepted key.
TEST(OptionsEndToEnd, UnknownKeyExitsWithStatusTwoAndOneLine) {
  const run_result r = run_program("exit_code=3");
  EXPECT_TRUE(r.exited_with(2)) << r.describe();
  const auto err_lines = lines_of(r.err);
  ASSERT_EQ(err_lines.size(), 1u) << r.describe();
  EXPECT_TRUE(contains(err_lines[0], "'exit_code'")) << err_lines[0];
  for (const char* key : {"report_dir", "exitcode", "enabled", "abort_on_deadlock", "halt_on_report"}) {
    EXPECT_TRUE(contains(err_lines[0], key)) << "accepted key " << key << " missing from: " << err_lines[0];
  }
  EXPECT_FALSE(contains(r.out, "inversion 0 done")) << "the program ran on after a bad LOCKGRAPH_OPTIONS";
}

// A known key with a bad value: status 2, one line naming the key and the value.
TEST(OptionsEndToEnd, BadValuesExitWithStatusTwo) {
  for (const char* options : {"exitcode=abc", "exitcode=256", "exitcode=-1", "enabled=2", "halt_on_report=yes",
                              "report_dir=", "exitcode", "=1", "exitcode=7:enabled=maybe"}) {
    SCOPED_TRACE(options);
    const run_result r = run_program(options);
    EXPECT_TRUE(r.exited_with(2)) << r.describe();
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.describe();
    EXPECT_TRUE(contains(r.err, "LOCKGRAPH_OPTIONS")) << r.describe();
    EXPECT_FALSE(contains(r.out, "inversion 0 done")) << r.describe();
  }
  const run_result r = run_program("enabled=2");
  EXPECT_TRUE(contains(r.err, "'enabled'")) << r.describe();
  EXPECT_TRUE(contains(r.err, "'2'")) << r.describe();
}

// Well-formed strings are accepted (empty segments, a key given twice).
TEST(OptionsEndToEnd, WellFormedStringsAreAccepted) {
  for (const char* options : {"", ":", "print_reports=1::check_at_exit=1:", "exitcode=3:exitcode=0"}) {
    SCOPED_TRACE(options);
    const run_result r = run_program(options, {"0"});
    EXPECT_TRUE(r.exited_with(0)) << r.describe();
    EXPECT_EQ(r.out, "start\nexit\n") << r.describe();
  }
}

// ---- exitcode ------------------------------------------------------------------------------------------

TEST(OptionsEndToEnd, ExitcodeAppliesOnlyWhenAReportWasRaised) {
  const run_result with_report = run_program("exitcode=7");
  EXPECT_TRUE(with_report.exited_with(7)) << with_report.describe();
  EXPECT_TRUE(contains(with_report.out, "exit\n")) << with_report.describe();  // ran to the end
  const run_result without = run_program("exitcode=7", {"0"});
  EXPECT_TRUE(without.exited_with(0)) << without.describe();
  EXPECT_EQ(without.err, "") << without.describe();
}

// ---- enabled=0 -----------------------------------------------------------------------------------------

TEST(OptionsEndToEnd, EnabledZeroTurnsCheckingOff) {
  lgtest::temp_dir dir;
  const run_result r = run_program("enabled=0:exitcode=7:report_dir=" + dir.str(), {"3"});
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();
  EXPECT_EQ(r.out, "start\ninversion 0 done\ninversion 1 done\ninversion 2 done\nexit\n") << r.describe();
  EXPECT_TRUE(dir.files().empty());
  // Control: the same with enabled=1.
  const run_result on = run_program("enabled=1:exitcode=7", {"3"});
  EXPECT_TRUE(on.exited_with(7)) << on.describe();
}

// ---- halt_on_report ------------------------------------------------------------------------------------

TEST(OptionsEndToEnd, HaltOnReportAbortsAfterTheFirstReport) {
  const run_result r = run_program("halt_on_report=1", {"3"});
  EXPECT_TRUE(r.killed_by(SIGABRT)) << r.describe();
  EXPECT_EQ(count_of(r.err, kInversionTitle), 1u) << r.describe();
  EXPECT_TRUE(contains(r.err, "inv0.a => inv0.b")) << r.describe();
  EXPECT_EQ(r.out, "start\n") << r.describe();  // stopped inside the first inversion
}

// ---- report_dir --------------------------------------------------------------------------------------

// One report: one .json (kind, locks) and one .dot beside it with the same stem, no temporaries.
TEST(OptionsEndToEnd, ReportDirGetsOneJsonAndOneDotPerReport) {
  lgtest::temp_dir dir;
  const run_result r = run_program("report_dir=" + dir.str());
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  const auto all = dir.files();
  const auto json = dir.files_ending(".json");
  const auto dot = dir.files_ending(".dot");
  ASSERT_EQ(json.size(), 1u) << r.describe();
  ASSERT_EQ(dot.size(), 1u);
  EXPECT_EQ(all.size(), 2u) << "leftover files, e.g. temporaries: " << ::testing::PrintToString(all);
  EXPECT_EQ(json[0].substr(0, json[0].size() - 5), dot[0].substr(0, dot[0].size() - 4));
  const std::string text = lgtest::read_file(dir.path() / json[0]);
  EXPECT_TRUE(std::regex_search(text, std::regex(R"("kind"\s*:\s*"lock_order_inversion")"))) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex(R"("locks"\s*:\s*\[\s*"inv0\.a"\s*,\s*"inv0\.b"\s*\])"))) << text;
  const std::string dot_text = lgtest::read_file(dir.path() / dot[0]);
  EXPECT_TRUE(contains(dot_text, "digraph")) << dot_text;
  EXPECT_TRUE(contains(dot_text, "inv0.a") && contains(dot_text, "inv0.b")) << dot_text;
  // The text report names the files.
  EXPECT_TRUE(contains(r.err, json[0])) << r.describe();
}

// Several reports: one file pair each, distinct names.
TEST(OptionsEndToEnd, ReportDirGetsAFilePairForEveryReport) {
  lgtest::temp_dir dir;
  const run_result r = run_program("report_dir=" + dir.str(), {"5"});
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_EQ(dir.files_ending(".json").size(), 5u) << r.describe();
  EXPECT_EQ(dir.files_ending(".dot").size(), 5u);
  EXPECT_EQ(dir.files().size(), 10u);
}

// Two processes released at the same moment into one directory: every file distinct, nothing lost.
TEST(OptionsEndToEnd, TwoProcessesSharingAReportDirWriteDistinctFiles) {
  lgtest::temp_dir dir;
  constexpr int kReportsEach = 20;
  const std::vector<std::string> argv{lgtest::program("inversion_program"), std::to_string(kReportsEach),
                                      "--wait-stdin"};
  auto first = lgtest::spawn(argv, env_with("report_dir=" + dir.str()));
  auto second = lgtest::spawn(argv, env_with("report_dir=" + dir.str()));
  const std::string pid1 = std::to_string(first.pid()), pid2 = std::to_string(second.pid());
  first.close_stdin();  // both start now
  second.close_stdin();
  const run_result r1 = first.wait(kTimeout);
  const run_result r2 = second.wait(kTimeout);
  EXPECT_TRUE(r1.exited_with(0)) << r1.describe();
  EXPECT_TRUE(r2.exited_with(0)) << r2.describe();
  const auto json = dir.files_ending(".json");
  EXPECT_EQ(json.size(), 2u * kReportsEach);
  EXPECT_EQ(dir.files_ending(".dot").size(), 2u * kReportsEach);
  EXPECT_EQ(dir.files().size(), 4u * kReportsEach) << ::testing::PrintToString(dir.files());
  // Each process's files carry its pid: kReportsEach files for each.
  std::map<std::string, int> per_pid;
  for (const auto& f : json) {
    std::smatch m;
    if (std::regex_search(f, m, std::regex(R"(-(\d+)-)"))) ++per_pid[m[1]];
  }
  EXPECT_EQ(per_pid, (std::map<std::string, int>{{pid1, kReportsEach}, {pid2, kReportsEach}}));
}

// An unwritable report_dir: one clear error line (once, however many reports), the reports still on
// stderr, and the program unaffected.
TEST(OptionsEndToEnd, UnwritableReportDirPrintsOneErrorAndStillReportsOnStderr) {
  lgtest::temp_dir dir;
  {
    std::ofstream file(dir.path() / "a-file");
    file << "not a directory\n";
  }
  const std::string bad = (dir.path() / "a-file" / "reports").string();  // ENOTDIR, even for root
  const run_result r = run_program("report_dir=" + bad, {"3"});
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_EQ(count_of(r.err, kInversionTitle), 3u) << r.describe();
  std::vector<std::string> error_lines;
  for (const auto& line : lines_of(r.err)) {
    if (contains(line, bad)) error_lines.push_back(line);
  }
  ASSERT_EQ(error_lines.size(), 1u) << r.describe();
  EXPECT_TRUE(contains(error_lines[0], "report_dir")) << error_lines[0];
  EXPECT_TRUE(contains(error_lines[0], "Not a directory")) << error_lines[0];
  EXPECT_EQ(r.out, "start\ninversion 0 done\ninversion 1 done\ninversion 2 done\nexit\n");
}

// print_reports=0: nothing on stderr, but the report still counts for exitcode and report_dir.
TEST(OptionsEndToEnd, PrintReportsZeroKeepsStderrQuiet) {
  lgtest::temp_dir dir;
  const run_result r = run_program("print_reports=0:exitcode=9:report_dir=" + dir.str());
  EXPECT_TRUE(r.exited_with(9)) << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();
  EXPECT_EQ(dir.files_ending(".json").size(), 1u);
}

}  // namespace
