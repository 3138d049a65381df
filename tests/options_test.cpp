// tests/options_test.cpp: LOCKGRAPH_OPTIONS parsing (detector/base/options.hpp).
#include "base/options.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace lockgraph::detail {
namespace {

constexpr std::string_view kAllKeys =
    "report_dir, exitcode, enabled, abort_on_deadlock, halt_on_report, long_wait_ms, stack_depth, "
    "print_reports, check_at_exit, dump_signal, log_path, strip_path_prefix, max_edges, lock_order, lock_order_strict, "
    "suppressions";
constexpr std::string_view kFormat = "(format: key=value pairs separated by ':', ',' or spaces)";

// Parses `text` over default options; the error message, or "" on success.
std::string error_for(std::string_view text) {
  options opts;
  return parse_options(text, opts);
}

// Parses `text` over default options and fails the test on any error.
options parsed(std::string_view text) {
  options opts;
  EXPECT_EQ(parse_options(text, opts), "") << "for '" << text << "'";
  return opts;
}

TEST(Options, EmptyStringKeepsDefaults) {
  const options opts = parsed("");
  EXPECT_EQ(opts.report_dir, "");
  EXPECT_EQ(opts.exitcode, -1);
  EXPECT_TRUE(opts.enabled);
  EXPECT_TRUE(opts.abort_on_deadlock);
  EXPECT_FALSE(opts.halt_on_report);
  EXPECT_EQ(opts.long_wait_ms, 0u);
  EXPECT_EQ(opts.stack_depth, 24u);
  EXPECT_TRUE(opts.print_reports);
  EXPECT_TRUE(opts.check_at_exit);
  EXPECT_EQ(opts.dump_signal, 0);
}

TEST(Options, ParsesEveryKey) {
  const options opts = parsed(
      "report_dir=/tmp/r:exitcode=66:enabled=0:abort_on_deadlock=0:halt_on_report=1:long_wait_ms=5000:"
      "stack_depth=8:print_reports=0:check_at_exit=0:dump_signal=12");
  EXPECT_EQ(opts.report_dir, "/tmp/r");
  EXPECT_EQ(opts.exitcode, 66);
  EXPECT_FALSE(opts.enabled);
  EXPECT_FALSE(opts.abort_on_deadlock);
  EXPECT_TRUE(opts.halt_on_report);
  EXPECT_EQ(opts.long_wait_ms, 5000u);
  EXPECT_EQ(opts.stack_depth, 8u);
  EXPECT_FALSE(opts.print_reports);
  EXPECT_FALSE(opts.check_at_exit);
  EXPECT_EQ(opts.dump_signal, 12);
}

TEST(Options, DumpSignalAcceptsSignalNumbersOnly) {
  EXPECT_EQ(error_for("dump_signal=65"),
            "LOCKGRAPH_OPTIONS: bad value '65' for 'dump_signal' (accepted: 0 (off) or a catchable asynchronous "
            "signal: 1-3, 10, 12-18, 20-30 or 34-64; not 9 or 19 (uncatchable), 4-8, 11 or 31 (synchronous), 32 or "
            "33 (glibc's own))");
}

TEST(Options, AbsentKeysKeepTheCallersValues) {
  options opts;
  opts.exitcode = 3;
  opts.report_dir = "/keep";
  EXPECT_EQ(parse_options("stack_depth=4", opts), "");
  EXPECT_EQ(opts.exitcode, 3);
  EXPECT_EQ(opts.report_dir, "/keep");
  EXPECT_EQ(opts.stack_depth, 4u);
}

TEST(Options, EmptySegmentsAreIgnored) {
  EXPECT_EQ(parsed("exitcode=1::stack_depth=2").stack_depth, 2u);
  EXPECT_EQ(parsed("exitcode=1:").exitcode, 1);
  EXPECT_EQ(parsed(":exitcode=1").exitcode, 1);
  EXPECT_EQ(parsed(":::").exitcode, -1);
}

TEST(Options, LockOrderTakesAPathAndAStrictFlag) {
  const options o = parsed("lock_order=/etc/app/order.txt:lock_order_strict=1");
  EXPECT_EQ(o.lock_order, "/etc/app/order.txt");
  EXPECT_TRUE(o.lock_order_strict);
  EXPECT_EQ(error_for("lock_order="),
            "LOCKGRAPH_OPTIONS: 'lock_order' needs a value (accepted: lock_order=FILE (a declared lock order))");
}

TEST(Options, LastOccurrenceOfAKeyWins) {
  EXPECT_EQ(parsed("exitcode=1:exitcode=2").exitcode, 2);
  EXPECT_FALSE(parsed("enabled=1:enabled=0").enabled);
}

TEST(Options, BooleansAcceptZeroOneTrueFalse) {
  EXPECT_TRUE(parsed("halt_on_report=1").halt_on_report);
  EXPECT_TRUE(parsed("halt_on_report=true").halt_on_report);
  EXPECT_FALSE(parsed("enabled=0").enabled);
  EXPECT_FALSE(parsed("enabled=false").enabled);
}

TEST(Options, BooleansRejectAnythingElse) {
  EXPECT_EQ(error_for("enabled=yes"), "LOCKGRAPH_OPTIONS: bad value 'yes' for 'enabled' (accepted: 0 or 1)");
  EXPECT_EQ(error_for("enabled=TRUE"),
            "LOCKGRAPH_OPTIONS: bad value 'TRUE' for 'enabled' (accepted: 0 or 1)");
  EXPECT_EQ(error_for("print_reports=2"),
            "LOCKGRAPH_OPTIONS: bad value '2' for 'print_reports' (accepted: 0 or 1)");
  EXPECT_EQ(error_for("check_at_exit=' 1'"),
            "LOCKGRAPH_OPTIONS: bad value ' 1' for 'check_at_exit' (accepted: 0 or 1)");
}

TEST(Options, IntegersAcceptTheirWholeRange) {
  EXPECT_EQ(parsed("exitcode=0").exitcode, 0);
  EXPECT_EQ(parsed("exitcode=255").exitcode, 255);
  EXPECT_EQ(parsed("exitcode=007").exitcode, 7);
  EXPECT_EQ(parsed("long_wait_ms=86400000").long_wait_ms, 86'400'000u);
  EXPECT_EQ(parsed("stack_depth=0").stack_depth, 0u);
  EXPECT_EQ(parsed("stack_depth=128").stack_depth, 128u);
}

TEST(Options, IntegersRejectOutOfRange) {
  EXPECT_EQ(error_for("exitcode=300"),
            "LOCKGRAPH_OPTIONS: bad value '300' for 'exitcode' (accepted: an integer from 0 to 255)");
  EXPECT_EQ(
      error_for("long_wait_ms=86400001"),
      "LOCKGRAPH_OPTIONS: bad value '86400001' for 'long_wait_ms' (accepted: an integer from 0 to 86400000)");
  EXPECT_EQ(error_for("stack_depth=129"),
            "LOCKGRAPH_OPTIONS: bad value '129' for 'stack_depth' (accepted: an integer from 0 to 128)");
}

TEST(Options, IntegersRejectNonDecimalSignsAndOverflow) {
  for (std::string_view value : {"08x", "-1", "+1", "0x10", " 1", "1.0", "99999999999999999999"}) {
    EXPECT_EQ(error_for("exitcode='" + std::string(value) + "'"),
              "LOCKGRAPH_OPTIONS: bad value '" + std::string(value) +
                  "' for 'exitcode' (accepted: an integer from 0 to 255)");
  }
}

TEST(Options, EmptyValueNeedsAValue) {
  EXPECT_EQ(error_for("report_dir="),
            "LOCKGRAPH_OPTIONS: 'report_dir' needs a value (accepted: report_dir=DIR)");
  EXPECT_EQ(error_for("exitcode="),
            "LOCKGRAPH_OPTIONS: 'exitcode' needs a value (accepted: an integer from 0 to 255)");
  EXPECT_EQ(error_for("enabled="), "LOCKGRAPH_OPTIONS: 'enabled' needs a value (accepted: 0 or 1)");
}

TEST(Options, UnquotedValueRunsToTheNextSeparator) {
  EXPECT_EQ(parsed("report_dir=/tmp/a=b").report_dir, "/tmp/a=b");
  const options opts = parsed("report_dir=/tmp/a exitcode=3");
  EXPECT_EQ(opts.report_dir, "/tmp/a");
  EXPECT_EQ(opts.exitcode, 3);
}

// Quotes keep separators in a value (paths with spaces, colons or commas); either quote works and the
// other may appear inside.
TEST(Options, QuotedValuesKeepSeparators) {
  EXPECT_EQ(parsed("report_dir='/tmp/a b:c,d'").report_dir, "/tmp/a b:c,d");
  EXPECT_EQ(parsed("report_dir=\"/tmp/it's here\"").report_dir, "/tmp/it's here");
  const options opts = parsed("log_path='/tmp/x y/lg':exitcode=4,strip_path_prefix=\"/src/\" stack_depth=5");
  EXPECT_EQ(opts.log_path, "/tmp/x y/lg");
  EXPECT_EQ(opts.exitcode, 4);
  EXPECT_EQ(opts.strip_path_prefix, "/src/");
  EXPECT_EQ(opts.stack_depth, 5u);
}

TEST(Options, QuotesMustCloseAndEndTheValue) {
  EXPECT_EQ(error_for("exitcode=1 report_dir='/tmp/a"),
            "LOCKGRAPH_OPTIONS: unterminated ' quote in 'report_dir='/tmp/a' " + std::string(kFormat));
  EXPECT_EQ(error_for("report_dir='/tmp/a'b exitcode=1"),
            "LOCKGRAPH_OPTIONS: text after the closing quote in 'report_dir='/tmp/a'b' " + std::string(kFormat));
  EXPECT_EQ(error_for("report_dir=''"),
            "LOCKGRAPH_OPTIONS: 'report_dir' needs a value (accepted: report_dir=DIR)");
}

// Space, comma and colon separate pairs, in any mix and any number, as the sanitizers accept them.
TEST(Options, SpacesCommasAndColonsAllSeparate) {
  for (std::string_view text : {"exitcode=5:stack_depth=6:enabled=0", "exitcode=5 stack_depth=6 enabled=0",
                                "exitcode=5,stack_depth=6,enabled=0", " exitcode=5, stack_depth=6 :enabled=0 ",
                                "exitcode=5\tstack_depth=6\nenabled=0"}) {
    SCOPED_TRACE(text);
    const options opts = parsed(text);
    EXPECT_EQ(opts.exitcode, 5);
    EXPECT_EQ(opts.stack_depth, 6u);
    EXPECT_FALSE(opts.enabled);
  }
}

TEST(Options, LogPathAndStripPathPrefix) {
  EXPECT_EQ(parsed("").log_path, "");
  EXPECT_EQ(parsed("log_path=stdout").log_path, "stdout");
  EXPECT_EQ(parsed("log_path=/tmp/lg").log_path, "/tmp/lg");
  EXPECT_EQ(parsed("strip_path_prefix=/work/src/").strip_path_prefix, "/work/src/");
  EXPECT_EQ(error_for("log_path="),
            "LOCKGRAPH_OPTIONS: 'log_path' needs a value (accepted: stderr, stdout or a path)");
}

// Messages name where the text came from: the in-program defaults or the environment.
TEST(Options, MessagesNameTheirSource) {
  options opts;
  EXPECT_EQ(parse_options("enabled=2", opts, "lockgraph_default_options()"),
            "lockgraph_default_options(): bad value '2' for 'enabled' (accepted: 0 or 1)");
}

TEST(Options, UnknownKeyListsAcceptedKeys) {
  EXPECT_EQ(error_for("exit_code=1"),
            "LOCKGRAPH_OPTIONS: unknown key 'exit_code' (accepted: " + std::string(kAllKeys) + ")");
}

TEST(Options, KeysAreCaseSensitive) {
  EXPECT_EQ(error_for("ExitCode=1"),
            "LOCKGRAPH_OPTIONS: unknown key 'ExitCode' (accepted: " + std::string(kAllKeys) + ")");
}

TEST(Options, MissingEqualsNamesTheSegment) {
  EXPECT_EQ(error_for("exitcode"),
            "LOCKGRAPH_OPTIONS: missing '=' in 'exitcode' " + std::string(kFormat));
  EXPECT_EQ(error_for("enabled=1:exitcode"), "LOCKGRAPH_OPTIONS: missing '=' in 'exitcode' " + std::string(kFormat));
  EXPECT_EQ(error_for("enabled=1 exitcode stack_depth=2"),
            "LOCKGRAPH_OPTIONS: missing '=' in 'exitcode' " + std::string(kFormat));
}

TEST(Options, MissingKeyNamesTheSegment) {
  EXPECT_EQ(error_for("=1"), "LOCKGRAPH_OPTIONS: missing key in '=1' " + std::string(kFormat));
}

TEST(Options, ErrorLeavesOptionsUntouched) {
  options opts;
  EXPECT_NE(parse_options("exitcode=5:enabled=maybe", opts), "");
  EXPECT_EQ(opts.exitcode, -1);
  EXPECT_TRUE(opts.enabled);
}

TEST(Options, ErrorIsOneLine) {
  for (std::string_view text : {"x=1", "enabled=2", "exitcode", "report_dir=", "report_dir='a\nb"}) {
    const std::string error = error_for(text);
    EXPECT_NE(error, "");
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

TEST(Options, AcceptedKeysListsEveryKeyInOrder) { EXPECT_EQ(accepted_option_keys(), kAllKeys); }

}  // namespace
}  // namespace lockgraph::detail

// The key list in the public header is what users read: every accepted key must be in it.
TEST(Options, PublicHeaderDocumentsEveryKey) {
  std::ifstream in(std::string(LOCKGRAPH_SOURCE_DIR) + "/include/lockgraph/options.hpp");
  ASSERT_TRUE(in.good());
  const std::string header((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string_view keys = lockgraph::detail::accepted_option_keys();
  while (!keys.empty()) {
    const std::size_t comma = keys.find(", ");
    const std::string key(keys.substr(0, comma));
    EXPECT_NE(header.find("//   " + key + "="), std::string::npos) << key << " missing from include/lockgraph/options.hpp";
    keys = comma == std::string_view::npos ? std::string_view() : keys.substr(comma + 2);
  }
}
