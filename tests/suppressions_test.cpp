// Suppressions (suite Suppressions) and the glob matcher under them (suite Glob): rules parsed with
// their errors, matched against names, functions, files and fingerprints, and end to end through
// suppressions=FILE, lockgraph_default_suppressions() and the GoogleTest listener.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/glob.hpp"
#include "base/stack_trace.hpp"
#include "lockgraph/lockgraph.hpp"
#include "report/fingerprint.hpp"
#include "report/suppressions.hpp"
#include "support/sanitizers.hpp"
#include "support/stacks.hpp"
#include "support/subprocess.hpp"
#include "support/text.hpp"

namespace {

using namespace std::chrono_literals;
using lgtest::contains;
using lockgraph::report;
using lockgraph::report_kind;
using lockgraph::detail::glob_match;
using lockgraph::detail::has_wildcard;
using lockgraph::detail::suppressions;

// ---- glob ------------------------------------------------------------------------------------------

static_assert(glob_match("*", ""));
static_assert(glob_match("a*c", "abbbc"));
static_assert(!glob_match("a*c", "abbbd"));
static_assert(glob_match("*third_party/*", "/src/third_party/x/y.cc"));
static_assert(glob_match("f?o", "foo"));
static_assert(!glob_match("f?o", "fo"));
static_assert(glob_match("[a-c]x", "bx"));
static_assert(!glob_match("[!a-c]x", "bx"));
static_assert(glob_match("[^a-c]x", "dx"));
static_assert(glob_match("[]]", "]"));
static_assert(glob_match("a[", "a["));  // an unclosed set is a literal '['
static_assert(glob_match("\\*", "*"));
static_assert(!glob_match("\\*", "x"));
static_assert(glob_match("*a*a*a*", "banana bandana"));
static_assert(!glob_match("abc", "abcd"));
static_assert(has_wildcard("a*") && has_wildcard("?") && has_wildcard("[ab]"));
static_assert(!has_wildcard("plain") && !has_wildcard("a\\*") && !has_wildcard("a["));

TEST(Glob, MatchesWholeTextOnly) {
  EXPECT_TRUE(glob_match("transfer", "transfer"));
  EXPECT_FALSE(glob_match("transfer", "legacy_transfer"));
  EXPECT_TRUE(glob_match("*transfer", "legacy_transfer"));
  // Many stars on a long text stay cheap (one backtrack point).
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*b", std::string(4000, 'a')));
}

TEST(Glob, FunctionWithoutParameters) {
  using lockgraph::detail::function_without_parameters;
  EXPECT_EQ(function_without_parameters("transfer(account&, account&, long)"), "transfer");
  EXPECT_EQ(function_without_parameters("ns::f<int>(int) const"), "ns::f<int>");
  EXPECT_EQ(function_without_parameters("main::{lambda()#1}::operator()() const"), "main::{lambda()#1}::operator()");
  EXPECT_EQ(function_without_parameters("plain_symbol"), "plain_symbol");
  using lockgraph::detail::unqualified;
  EXPECT_EQ(unqualified("ns::bank::transfer"), "transfer");
  EXPECT_EQ(unqualified("ns::f<a::b>"), "f<a::b>");
  EXPECT_EQ(unqualified("main::{lambda()#1}::operator()"), "operator()");
  EXPECT_EQ(unqualified("(anonymous namespace)::g"), "g");
  EXPECT_EQ(unqualified("plain"), "plain");
}

// ---- parsing -----------------------------------------------------------------------------------------

TEST(Suppressions, ParsesRulesCommentsAndBlankLines) {
  suppressions s;
  EXPECT_EQ(s.add("# known problems\n\nlock_order_inversion:legacy.*\n  *  :  *third_party/*  \r\n", "f.supp"), "");
  ASSERT_EQ(s.rules().size(), 2u);
  EXPECT_EQ(s.rules()[0].origin, "f.supp:3");
  EXPECT_EQ(s.rules()[0].glob, "legacy.*");
  EXPECT_FALSE(s.rules()[0].any_kind);
  EXPECT_EQ(s.rules()[1].origin, "f.supp:4");
  EXPECT_TRUE(s.rules()[1].any_kind);
  EXPECT_EQ(s.rules()[1].glob, "*third_party/*");
  EXPECT_EQ(s.rules()[1].text, "*  :  *third_party/*");
}

TEST(Suppressions, BadRuleIsOneLineNamingFileLineAndWhatIsAccepted) {
  suppressions s;
  const std::string no_colon = s.add("deadlock:x\nlegacy\n", "f.supp");
  EXPECT_TRUE(contains(no_colon, "f.supp:2: bad suppression rule 'legacy'")) << no_colon;
  EXPECT_TRUE(contains(no_colon, "accepted: <kind>:<glob> with <kind> one of lock_order_inversion,")) << no_colon;
  EXPECT_EQ(no_colon.find('\n'), std::string::npos);
  EXPECT_TRUE(s.empty());  // nothing of a bad text is added
  const std::string kind = s.add("lock-order-inversion:x", "f.supp");
  EXPECT_TRUE(contains(kind, "f.supp:1: bad suppression rule 'lock-order-inversion:x': unknown kind 'lock-order-inversion'"))
      << kind;
  const std::string empty = s.add("deadlock:   ", "f.supp");
  EXPECT_TRUE(contains(empty, "f.supp:1: bad suppression rule 'deadlock:': empty pattern")) << empty;
  const std::string missing = s.add_file("/nonexistent/lg.supp");
  EXPECT_TRUE(contains(missing, "suppressions=/nonexistent/lg.supp: cannot read the file")) << missing;
}

// ---- matching ----------------------------------------------------------------------------------------

report inversion(const std::string& a, const std::string& b) {
  report r;
  r.kind = report_kind::lock_order_inversion;
  r.locks = {a, b};
  r.edges.resize(2);
  r.edges[0].from = r.edges[1].to = a;
  r.edges[0].to = r.edges[1].from = b;
  r.fingerprint = lockgraph::detail::fingerprint_of(r);
  return r;
}

TEST(Suppressions, MatchesLockNamesClassKeysAndFingerprintsByKind) {
  suppressions s;
  ASSERT_EQ(s.add("deadlock:*\nlock_order_inversion:cache_mu\n*:account #\n", "f"), "");
  EXPECT_EQ(s.match(inversion("cache_mu", "sched_mu")), 1);
  EXPECT_EQ(s.match(inversion("account 17", "ledger")), 2);  // by class key
  EXPECT_EQ(s.match(inversion("x", "y")), -1);
  report r = inversion("x", "y");
  r.kind = report_kind::deadlock;
  EXPECT_EQ(s.match(r), 0);
  suppressions by_fingerprint;
  const report known = inversion("p", "q");
  ASSERT_EQ(by_fingerprint.add("lock_order_inversion:" + known.fingerprint, "f"), "");
  EXPECT_EQ(by_fingerprint.match(known), 0);
  EXPECT_EQ(by_fingerprint.match(inversion("p", "r")), -1);
}

__attribute__((noinline)) lockgraph::stack_trace captured_in_suppressed_site() {
  lockgraph::stack_trace st = lockgraph::detail::capture_stack(16);
  asm volatile("" ::: "memory");  // not a tail call: this frame stays on the stack
  return st;
}

TEST(Suppressions, MatchesFunctionNamesAndSourceFilesInStacks) {
  LGTEST_REQUIRE_SOURCE_LINES();
  report r = inversion("x", "y");
  r.edges[1].stack = captured_in_suppressed_site();
  std::string frames;  // for failure messages
  for (const auto& f : lockgraph::detail::user_frames(r.edges[1].stack)) frames += f.function + " | " + f.file + "\n";
  SCOPED_TRACE(frames);
  suppressions function;
  ASSERT_EQ(function.add("lock_order_inversion:*captured_in_suppressed_*", "f"), "");
  EXPECT_EQ(function.match(r), 0);
  suppressions bare;  // the name without its parameter list and scope, whole
  ASSERT_EQ(bare.add("*:captured_in_suppressed_site", "f"), "");
  EXPECT_EQ(bare.match(r), 0);
  suppressions file;
  ASSERT_EQ(file.add("*:suppressions_test.cpp\n", "f"), "");
  EXPECT_EQ(file.match(r), 0);
  suppressions path;
  ASSERT_EQ(path.add("*:*/tests/suppressions_test.cpp\n", "f"), "");
  EXPECT_EQ(path.match(r), 0);
  suppressions other;
  ASSERT_EQ(other.add("*:no_such_function\n*:other_file.cpp\n", "f"), "");
  EXPECT_EQ(other.match(r), -1);
}

// ---- end to end ----------------------------------------------------------------------------------------

using lgtest::env_with;

std::string write_rules(const lgtest::temp_dir& dir, const std::string& rules) {
  const std::string path = dir.str() + "/lg.supp";
  std::ofstream(path) << rules;
  return path;
}

// A suppressed report is not printed, not in reports(), writes no file and does not count for
// exitcode; the others still do. At exit: the hit count of each used rule and the unused rules.
TEST(Suppressions, FileRulesSilenceMatchingReportsOnly) {
  lgtest::temp_dir dir;
  const std::string file = write_rules(dir, "# known\nlock_order_inversion:inv1.*\nself_deadlock:*\n");
  const lgtest::run_result r = lgtest::run({lgtest::program("inversion_program"), "3"},
                                           env_with("exitcode=7:report_dir=" + dir.str() + "/out:suppressions=" + file),
                                           60s);
  EXPECT_TRUE(r.exited_with(7)) << r.describe();
  EXPECT_EQ(lgtest::count_of(r.err, "lockgraph: lock-order-inversion"), 2u) << r.describe();
  EXPECT_FALSE(contains(r.err, "inv1.a => inv1.b")) << r.describe();
  EXPECT_TRUE(contains(r.err, "lockgraph: suppression 'lock_order_inversion:inv1.*' (" + file + ":2) matched 1 report\n"))
      << r.describe();
  EXPECT_TRUE(contains(r.err, "lockgraph: unused suppressions: 'self_deadlock:*' (" + file + ":3)\n")) << r.describe();
  lgtest::temp_dir out_check;
  std::size_t json = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "out")) json += e.path().extension() == ".json";
  EXPECT_EQ(json, 2u);
}

TEST(Suppressions, AllSuppressedExitsZeroWithExitcode) {
  lgtest::temp_dir dir;
  const std::string file = write_rules(dir, "*:inv*\n");
  const lgtest::run_result r =
      lgtest::run({lgtest::program("inversion_program"), "2"}, env_with("exitcode=7:suppressions=" + file), 60s);
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_EQ(lgtest::count_of(r.err, "lockgraph: lock-order-inversion"), 0u) << r.describe();
  EXPECT_TRUE(contains(r.err, "matched 2 reports")) << r.describe();
}

TEST(Suppressions, BadFileIsOneErrorLineAndExitTwo) {
  lgtest::temp_dir dir;
  const std::string file = write_rules(dir, "deadlock:ok\n\nnot a rule\n");
  const lgtest::run_result r =
      lgtest::run({lgtest::program("inversion_program"), "1"}, env_with("suppressions=" + file), 60s);
  EXPECT_TRUE(r.exited_with(2)) << r.describe();
  EXPECT_EQ(r.err, "lockgraph: " + file + ":3: bad suppression rule 'not a rule': no ':' (accepted: <kind>:<glob> with "
                   "<kind> one of lock_order_inversion, deadlock, self_deadlock, unreleased_lock, bad_unlock, long_wait, "
                   "assertion_failed, all_threads_blocked, or *, and a glob of * ? [..]; '#' comment lines and blank "
                   "lines)\n")
      << r.describe();
  const lgtest::run_result missing = lgtest::run({lgtest::program("inversion_program"), "1"},
                                                 env_with("suppressions=" + dir.str() + "/missing.supp"), 60s);
  EXPECT_TRUE(missing.exited_with(2)) << missing.describe();
  EXPECT_TRUE(contains(missing.err, "missing.supp: cannot read the file (No such file or directory")) << missing.describe();
}

lgtest::run_result run_default_suppressions(const std::string& rules, const std::string& options = "") {
  auto env = env_with(options);
  env["LGTEST_SUPPRESSIONS"] = rules;
  return lgtest::run({lgtest::program("default_suppressions_program")}, env, 60s);
}

// lockgraph_default_suppressions(): the program's own rules, here matching a caller's function name.
TEST(Suppressions, DefaultSuppressionsFromTheProgram) {
  LGTEST_REQUIRE_SOURCE_LINES();
  const lgtest::run_result r = run_default_suppressions("# built in\nlock_order_inversion:*legacy_pair\n");
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_TRUE(contains(r.out, "reports 1\n")) << r.describe();
  EXPECT_TRUE(contains(r.err, "fresh.a => fresh.b")) << r.describe();
  EXPECT_FALSE(contains(r.err, "legacy.a => legacy.b")) << r.describe();
  EXPECT_TRUE(contains(r.err, "lockgraph: suppression 'lock_order_inversion:*legacy_pair' "
                              "(lockgraph_default_suppressions():2) matched 1 report"))
      << r.describe();
}

TEST(Suppressions, BadDefaultSuppressionNamesItsOrigin) {
  const lgtest::run_result r = run_default_suppressions("deadlock:x\nwhatever:legacy\n");
  EXPECT_TRUE(r.exited_with(2)) << r.describe();
  EXPECT_TRUE(contains(r.err, "lockgraph: lockgraph_default_suppressions():2: bad suppression rule 'whatever:legacy': "
                              "unknown kind 'whatever'"))
      << r.describe();
}

// The GoogleTest listener does not fail a test for a suppressed report, nor for a suppressed
// quiescence problem.
TEST(Suppressions, GtestListenerIgnoresSuppressedReports) {
  lgtest::temp_dir dir;
  const std::string file = write_rules(dir, "lock_order_inversion:a\nunreleased_lock:left-held\n");
  auto env = env_with("print_reports=0:suppressions=" + file);
  env["LOCKGRAPH_GTEST_QUIESCENT"] = "1";
  // Without the two tests that fail whatever the suppressions (an unmet expect_report, an unsuppressed
  // inversion e => f).
  const lgtest::run_result r = lgtest::run(
      {lgtest::program("listener_program"),
       "--gtest_filter=-Listener.UnmetExpectationFailsTheTest:Listener.ReportAfterResetFailsTheTest"},
      env, 60s);
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_TRUE(contains(r.out, "[  PASSED  ] 6 tests")) << r.describe();
  EXPECT_TRUE(contains(r.err, "lockgraph: suppression 'lock_order_inversion:a' (" + file + ":1) matched 1 report"))
      << r.describe();
}

}  // namespace
