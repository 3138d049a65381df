// tests/options_e2e_test.cpp: LOCKGRAPH_OPTIONS end to end (suite OptionsEndToEnd).
//
// Each test runs tests/programs/inversion_program (N lock-order inversions, progress on stdout) as a
// child process with a LOCKGRAPH_OPTIONS value, and checks its exit status, stdout, stderr and the
// files it left, as TSan's lit tests do per option. Children are killed after 60 s at the latest.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "support/stacks.hpp"
#include "support/subprocess.hpp"
#include "support/sanitizers.hpp"
#include "support/text.hpp"

namespace {

using namespace std::chrono_literals;
using lgtest::count_of;
using lgtest::lines_of;
using lgtest::run_result;

constexpr auto kTimeout = 60s;
constexpr const char* kInversionTitle = "lockgraph: lock-order-inversion (potential deadlock)";

using lgtest::env_with;

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

// ---- separators ---------------------------------------------------------------------------------------

// Space, comma and colon separate pairs; a quoted value keeps its spaces.
TEST(OptionsEndToEnd, SpaceCommaAndColonSeparatorsWork) {
  lgtest::temp_dir dir;
  const std::string spaced = (dir.path() / "with space").string();
  for (const std::string& options : {"exitcode=7 report_dir='" + spaced + "'", "exitcode=7,report_dir='" + spaced + "'",
                                     "exitcode=7:report_dir=\"" + spaced + "\""}) {
    SCOPED_TRACE(options);
    const run_result r = run_program(options);
    EXPECT_TRUE(r.exited_with(7)) << r.describe();
    EXPECT_EQ(count_of(r.err, kInversionTitle), 1u) << r.describe();
  }
  std::size_t json = 0;
  for (const auto& e : std::filesystem::directory_iterator(spaced)) json += e.path().extension() == ".json";
  EXPECT_EQ(json, 3u);  // one report per run, all in the directory whose name has a space
}

// ---- report_dir is created ---------------------------------------------------------------------------

TEST(OptionsEndToEnd, MissingReportDirIsCreatedWithItsParents) {
  lgtest::temp_dir dir;
  const auto nested = dir.path() / "a" / "b" / "c";
  const run_result r = run_program("report_dir=" + nested.string(), {"2"});
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  ASSERT_TRUE(std::filesystem::is_directory(nested)) << r.describe();
  std::size_t json = 0;
  for (const auto& e : std::filesystem::directory_iterator(nested)) json += e.path().extension() == ".json";
  EXPECT_EQ(json, 2u) << r.describe();
  EXPECT_EQ(count_of(r.err, "report_dir"), 0u) << r.describe();  // no error line
}

// A report_dir that cannot be created: one line naming the directory that failed and why.
TEST(OptionsEndToEnd, UncreatableReportDirSaysWhichDirectoryAndWhy) {
  lgtest::temp_dir dir;
  {
    std::ofstream file(dir.path() / "a-file");
    file << "not a directory\n";
  }
  const std::string bad = (dir.path() / "a-file" / "x" / "y").string();
  const run_result r = run_program("report_dir=" + bad, {"2"});
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  const auto err_lines = lines_of(r.err);
  std::vector<std::string> errors;
  for (const auto& line : err_lines) {
    if (contains(line, "report_dir")) errors.push_back(line);
  }
  ASSERT_EQ(errors.size(), 1u) << r.describe();
  EXPECT_TRUE(contains(errors[0], "cannot create directory '" + (dir.path() / "a-file" / "x").string() + "'"))
      << errors[0];
  EXPECT_TRUE(contains(errors[0], "Not a directory")) << errors[0];
  EXPECT_EQ(count_of(r.err, kInversionTitle), 2u) << r.describe();
}

// ---- log_path -------------------------------------------------------------------------------------------

// log_path=PATH: the report text goes to PATH.<pid>, nothing to stderr.
TEST(OptionsEndToEnd, LogPathWritesReportsToAFilePerProcess) {
  lgtest::temp_dir dir;
  const std::string base = (dir.path() / "lg").string();
  auto child = lgtest::spawn({lgtest::program("inversion_program"), "2"}, env_with("log_path=" + base));
  const std::string pid = std::to_string(child.pid());
  child.close_stdin();
  const run_result r = child.wait(kTimeout);
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();
  EXPECT_EQ(r.out, "start\ninversion 0 done\ninversion 1 done\nexit\n") << r.describe();
  EXPECT_EQ(dir.files(), std::vector<std::string>{"lg." + pid});
  const std::string log = lgtest::read_file(base + "." + pid);
  EXPECT_EQ(count_of(log, kInversionTitle), 2u) << log;
  EXPECT_TRUE(contains(log, "inv1.a => inv1.b")) << log;
}

// A forked child writes its own PATH.<pid>, even after the parent had opened its file.
TEST(OptionsEndToEnd, LogPathGivesAForkedChildItsOwnFile) {
  lgtest::temp_dir dir;
  const std::string base = (dir.path() / "lg").string();
  auto parent = lgtest::spawn({lgtest::program("inversion_program"), "2", "--fork-after-first"},
                              env_with("log_path=" + base));
  const std::string pid = std::to_string(parent.pid());
  parent.close_stdin();
  const run_result r = parent.wait(kTimeout);
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_TRUE(contains(r.out, "child exited 0")) << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();
  const auto files = dir.files();
  ASSERT_EQ(files.size(), 2u) << ::testing::PrintToString(files);
  const std::string parent_log = lgtest::read_file(base + "." + pid);
  EXPECT_EQ(count_of(parent_log, kInversionTitle), 1u) << parent_log;
  EXPECT_TRUE(contains(parent_log, "inv0.a => inv0.b")) << parent_log;
  const std::string child_file = files[0] == "lg." + pid ? files[1] : files[0];
  const std::string child_log = lgtest::read_file(dir.path() / child_file);
  EXPECT_EQ(count_of(child_log, kInversionTitle), 1u) << child_log;
  EXPECT_TRUE(contains(child_log, "inv1.a => inv1.b")) << child_log;
}

TEST(OptionsEndToEnd, LogPathStdoutAndStderr) {
  const run_result out = run_program("log_path=stdout");
  EXPECT_TRUE(out.exited_with(0)) << out.describe();
  EXPECT_EQ(out.err, "") << out.describe();
  EXPECT_EQ(count_of(out.out, kInversionTitle), 1u) << out.describe();
  const run_result err = run_program("log_path=stderr");
  EXPECT_EQ(count_of(err.err, kInversionTitle), 1u) << err.describe();
  EXPECT_EQ(count_of(err.out, kInversionTitle), 0u) << err.describe();
}

// A log file that cannot be opened: one line saying so, and the reports on stderr after all.
TEST(OptionsEndToEnd, UnopenableLogPathFallsBackToStderr) {
  lgtest::temp_dir dir;
  const std::string bad = (dir.path() / "missing-dir" / "lg").string();
  const run_result r = run_program("log_path=" + bad, {"2"});
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  std::vector<std::string> errors;
  for (const auto& line : lines_of(r.err)) {
    if (contains(line, "log_path")) errors.push_back(line);
  }
  ASSERT_EQ(errors.size(), 1u) << r.describe();
  EXPECT_TRUE(contains(errors[0], "cannot open '" + bad + ".")) << errors[0];
  EXPECT_TRUE(contains(errors[0], "No such file or directory")) << errors[0];
  EXPECT_EQ(count_of(r.err, kInversionTitle), 2u) << r.describe();
}

// ---- strip_path_prefix ----------------------------------------------------------------------------------

// The source tree's prefix is cut from the file paths of printed stacks.
TEST(OptionsEndToEnd, StripPathPrefixShortensStackPaths) {
  LGTEST_REQUIRE_SOURCE_LINES();
  const std::string full = std::string(LOCKGRAPH_SOURCE_DIR) + "/tests/programs/inversion_program.cpp:";
  const run_result plain = run_program("");
  ASSERT_TRUE(contains(plain.err, full)) << "the control run shows no absolute source path: " << plain.describe();
  const run_result stripped = run_program("strip_path_prefix=" + std::string(LOCKGRAPH_SOURCE_DIR) + "/");
  EXPECT_TRUE(stripped.exited_with(0)) << stripped.describe();
  EXPECT_FALSE(contains(stripped.err, full)) << stripped.describe();
  EXPECT_FALSE(contains(stripped.err, LOCKGRAPH_SOURCE_DIR)) << stripped.describe();
  EXPECT_TRUE(contains(stripped.err, " tests/programs/inversion_program.cpp:")) << stripped.describe();
}

// ---- lockgraph_default_options() ------------------------------------------------------------------------

run_result run_defaults_program(std::map<std::string, std::string> env) {
#if LGTEST_TSAN
  env["TSAN_OPTIONS"] = "detect_deadlocks=0 halt_on_error=1";
#endif
  return lgtest::run({lgtest::program("default_options_program")}, env, kTimeout);
}

// The program's own defaults apply without any environment; LOCKGRAPH_OPTIONS overrides them key by
// key, and keys it does not name keep the program's values.
TEST(OptionsEndToEnd, DefaultOptionsHookAppliesAndTheEnvironmentOverridesIt) {
  const run_result defaults = run_defaults_program({{"LOCKGRAPH_OPTIONS", ""}});
  EXPECT_TRUE(defaults.exited_with(42)) << defaults.describe();
  EXPECT_EQ(count_of(defaults.err, kInversionTitle), 1u) << defaults.describe();
  EXPECT_EQ(defaults.out, "exit\n");

  lgtest::temp_dir dir;
  const run_result overridden =
      run_defaults_program({{"LOCKGRAPH_OPTIONS", "exitcode=7"}, {"LGTEST_REPORT_DIR", dir.str()}});
  EXPECT_TRUE(overridden.exited_with(7)) << overridden.describe();
  EXPECT_EQ(dir.files_ending(".json").size(), 1u) << overridden.describe();  // report_dir from the hook kept
}

// A bad string from the hook: one line naming the hook, status 2, as for LOCKGRAPH_OPTIONS.
TEST(OptionsEndToEnd, BadDefaultOptionsExitWithStatusTwoNamingTheHook) {
  const run_result r = run_defaults_program({{"LOCKGRAPH_OPTIONS", ""}, {"LGTEST_DEFAULT_OPTIONS", "exitcode=300"}});
  EXPECT_TRUE(r.exited_with(2)) << r.describe();
  const auto err_lines = lines_of(r.err);
  ASSERT_EQ(err_lines.size(), 1u) << r.describe();
  EXPECT_EQ(err_lines[0],
            "lockgraph: lockgraph_default_options(): bad value '300' for 'exitcode' (accepted: an integer from 0 to 255)");
  EXPECT_EQ(r.out, "");
}

}  // namespace
