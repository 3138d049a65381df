// Declared lock order (option lock_order=FILE, issue 12 part 5): the file format, the verdicts, and
// end to end: an acquisition against the declaration is reported the first time, by one thread.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "base/glob.hpp"
#include "graph/declared_order.hpp"
#include "support/subprocess.hpp"
#include "support/text.hpp"

namespace {

using lockgraph::detail::declared_order;
using lockgraph::detail::glob_match;
using lockgraph::detail::has_wildcard;
using verdict = declared_order::verdict;

TEST(Glob, MatchesShellWildcards) {
  static_assert(glob_match("db.*", "db.table"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "src/a.cpp:12"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("shard[0-9]", "shard7"));
  EXPECT_FALSE(glob_match("shard[0-9]", "shardx"));
  EXPECT_TRUE(glob_match("shard[!0-9]", "shardx"));
  EXPECT_TRUE(glob_match("*.cpp:*", "db/impl.cpp:40"));
  EXPECT_FALSE(glob_match("*.cpp", "db/impl.cpp:40"));  // the whole text must match
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
  EXPECT_TRUE(glob_match("x[", "x["));  // a '[' without ']' is itself
  EXPECT_FALSE(glob_match("abc", "abcd"));
  EXPECT_TRUE(has_wildcard("db.*"));
  EXPECT_FALSE(has_wildcard("db.cpp:12"));
}

void parse_ok(declared_order& d, const std::string& text) { EXPECT_EQ(d.parse(text, "order.txt"), ""); }

TEST(DeclaredOrder, DirectAndTransitiveContradictions) {
  declared_order d;
  parse_ok(d, "# the db layer\na -> b   # a first\n\nb -> c -> d\n");
  EXPECT_EQ(d.rule_count(), 3u);
  EXPECT_EQ(d.check("a", "b", false).v, verdict::allowed);
  EXPECT_EQ(d.check("a", "d", false).v, verdict::allowed);  // a -> b -> c -> d
  const declared_order::result direct = d.check("b", "a", false);
  EXPECT_EQ(direct.v, verdict::contradicts);
  EXPECT_EQ(direct.rules, std::vector<std::string>{"order.txt:2: a -> b"});
  const declared_order::result transitive = d.check("d", "a", false);
  EXPECT_EQ(transitive.v, verdict::contradicts);
  EXPECT_EQ(transitive.rules, (std::vector<std::string>{"order.txt:2: a -> b", "order.txt:4: b -> c",
                                                        "order.txt:4: c -> d"}));
  EXPECT_EQ(d.check("a", "zzz", false).v, verdict::unchecked);
  EXPECT_EQ(d.check("a", "a", true).v, verdict::unchecked);  // same class: never checked
}

TEST(DeclaredOrder, GlobsAndChainsThroughNames) {
  declared_order d;
  parse_ok(d, "db.* -> cache.*\nA -> b1\nb* -> C\nX -> y*\ny1 -> Z\n");
  EXPECT_EQ(d.check("db.users", "cache.rows", false).v, verdict::allowed);
  EXPECT_EQ(d.check("cache.rows", "db.users", false).v, verdict::contradicts);
  // A -> b1 and b1 is a b*: A before C.
  EXPECT_EQ(d.check("A", "C", false).v, verdict::allowed);
  EXPECT_EQ(d.check("C", "A", false).v, verdict::contradicts);
  // X -> y* puts X before every y, y1 included, and y1 before Z: X before Z.
  EXPECT_EQ(d.check("Z", "X", false).v, verdict::contradicts);
  // ...but another y is not y1: nothing orders y2 and Z.
  EXPECT_EQ(d.check("Z", "y2", false).v, verdict::unchecked);
}

TEST(DeclaredOrder, Levels) {
  declared_order d;
  parse_ok(d, "level 10: db.*, wal\nlevel 20: cache.*\nlevel 20: stats\n");
  EXPECT_EQ(d.check("db.users", "cache.rows", false).v, verdict::allowed);
  EXPECT_EQ(d.check("wal", "stats", false).v, verdict::allowed);
  const declared_order::result r = d.check("cache.rows", "wal", false);
  EXPECT_EQ(r.v, verdict::contradicts);
  EXPECT_EQ(r.rules, (std::vector<std::string>{"order.txt:1: level 10: db.*, wal", "order.txt:2: level 20: cache.*"}));
  EXPECT_EQ(d.check("cache.rows", "stats", false).v, verdict::unchecked);  // equal levels declare nothing
  EXPECT_EQ(d.check("cache.rows", "stats", true).v, verdict::undeclared);
}

TEST(DeclaredOrder, StrictOnlyBetweenDeclaredClasses) {
  declared_order d;
  parse_ok(d, "a -> b\nc -> d\n");
  EXPECT_EQ(d.check("b", "c", false).v, verdict::unchecked);
  EXPECT_EQ(d.check("b", "c", true).v, verdict::undeclared);
  EXPECT_EQ(d.check("b", "elsewhere", true).v, verdict::unchecked);
}

TEST(DeclaredOrder, ErrorsNameTheLineAndWhatIsAccepted) {
  struct bad {
    const char* text;
    const char* error_part;
  };
  for (const bad& b : {bad{"a -> b\nlonely\n", "order.txt:2: expected a lock order, got 'lonely'"},
                       bad{"a ->\n", "order.txt:1: a name is missing in 'a ->'"},
                       bad{"-> b\n", "order.txt:1: a name is missing"},
                       bad{"a -> a\n", "orders a class after itself"},
                       bad{"level x: a\n", "order.txt:1: bad level 'x'"},
                       bad{"level 3 a\n", "missing ':'"},
                       bad{"level 3:\n", "'level 3:' names no class"},
                       bad{"a -> b\nb -> c\nc -> a\n", "order.txt:1: a -> b: contradicts the other rules"}}) {
    declared_order d;
    const std::string error = d.parse(b.text, "order.txt");
    EXPECT_TRUE(lgtest::contains(error, b.error_part)) << b.text << " gave: " << error;
    EXPECT_TRUE(lgtest::contains(error, "accepted:") || lgtest::contains(error, "contradicts")) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_TRUE(d.empty()) << "a bad file keeps nothing: " << b.text;
  }
}

TEST(DeclaredOrder, FormatWritesADeclarationThatParsesBack) {
  const std::string text = declared_order::format(
      {{"b", "c"}, {"a", "b"}, {"a", "b"}, {"x", "x"}, {"odd*name", "c"}}, "observed by lockgraph-merge\n3 logs");
  EXPECT_EQ(text, "# observed by lockgraph-merge\n# 3 logs\na -> b\nb -> c\nodd?name -> c\n");
  declared_order d;
  ASSERT_EQ(d.parse(text, "written"), "");
  EXPECT_EQ(d.check("a", "c", true).v, verdict::allowed);
  EXPECT_EQ(d.check("c", "odd*name", false).v, verdict::contradicts);
}

// ---- end to end -----------------------------------------------------------------------------------

struct declared_run {
  lgtest::temp_dir dir{"lockgraph-order"};

  std::string write_order(const std::string& text) const {
    const std::string path = dir.str() + "/order.txt";
    std::ofstream(path) << text;
    return path;
  }
  lgtest::run_result nest(const std::vector<std::string>& args, const std::string& options) const {
    std::vector<std::string> argv{lgtest::program("nest_program")};
    argv.insert(argv.end(), args.begin(), args.end());
    return lgtest::run(argv, {{"LOCKGRAPH_OPTIONS", options}}, std::chrono::seconds(30));
  }
};

TEST(DeclaredOrderRun, OneThreadAgainstTheDeclarationIsReportedAtOnce) {
  declared_run t;
  const std::string order = t.write_order("a -> b\n");
  // b then a, on one thread, once: no cycle, no second thread, yet it goes against a -> b.
  const lgtest::run_result r = t.nest({"b", "a"}, "exitcode=3:lock_order=" + order + ":report_dir=" + t.dir.str());
  EXPECT_TRUE(r.exited_with(3)) << r.describe();
  EXPECT_EQ(lgtest::count_of(r.err, "lockgraph: lock-order-inversion (against the declared lock order)"), 1u)
      << r.describe();
  EXPECT_TRUE(lgtest::contains(r.err, "a acquired while holding b")) << r.err;
  EXPECT_TRUE(lgtest::contains(r.err, order + ":1: a -> b")) << r.err;
  EXPECT_TRUE(lgtest::contains(r.err, "nest_program.cpp")) << "the acquisition's stack: " << r.err;
  const std::vector<std::string> json = t.dir.files_ending(".json");
  ASSERT_EQ(json.size(), 1u);
  const std::string j = lgtest::read_file(t.dir.path() / json[0]);
  EXPECT_TRUE(lgtest::contains(j, "\"declared\": true")) << j;
  EXPECT_TRUE(lgtest::contains(j, "\"locks\": [\n    \"b\",\n    \"a\"\n  ]")) << j;
  EXPECT_TRUE(lgtest::contains(j, "\"declaration\": [\n    \"" + order + ":1: a -> b\"\n  ]")) << j;
  const std::string dot = lgtest::read_file(t.dir.path() / (json[0].substr(0, json[0].size() - 5) + ".dot"));
  EXPECT_TRUE(lgtest::contains(dot, "declared")) << dot;
}

TEST(DeclaredOrderRun, TransitiveDeclarationAndAllowedOrders) {
  declared_run t;
  const std::string order = t.write_order("a -> b\nb -> c\n");
  const lgtest::run_result ok = t.nest({"a", "b", "c", "--", "a", "c"}, "exitcode=3:lock_order=" + order);
  EXPECT_TRUE(ok.exited_with(0)) << ok.describe();
  EXPECT_FALSE(lgtest::contains(ok.err, "lockgraph:")) << ok.err;
  const lgtest::run_result bad = t.nest({"c", "a", "--", "c", "a"}, "exitcode=3:lock_order=" + order);
  EXPECT_TRUE(bad.exited_with(3)) << bad.describe();
  EXPECT_EQ(lgtest::count_of(bad.err, "against the declared lock order"), 1u) << "once per pair: " << bad.err;
  EXPECT_TRUE(lgtest::contains(bad.err, ":1: a -> b")) << bad.err;
  EXPECT_TRUE(lgtest::contains(bad.err, ":2: b -> c")) << bad.err;
}

TEST(DeclaredOrderRun, StrictReportsAnOrderTheFileDoesNotAllow) {
  declared_run t;
  const std::string order = t.write_order("a -> b\nc -> d\n");
  const lgtest::run_result lax = t.nest({"b", "c"}, "exitcode=3:lock_order=" + order);
  EXPECT_TRUE(lax.exited_with(0)) << lax.describe();
  const lgtest::run_result strict = t.nest({"b", "c", "--", "b", "undeclared"},
                                           "exitcode=3:lock_order_strict=1:lock_order=" + order);
  EXPECT_TRUE(strict.exited_with(3)) << strict.describe();
  EXPECT_EQ(lgtest::count_of(strict.err, "(an order the declared lock order does not allow)"), 1u) << strict.err;
  EXPECT_TRUE(lgtest::contains(strict.err, "declare 'b -> c' to allow it")) << strict.err;
}

TEST(DeclaredOrderRun, BadFilesAreOneLineAndExit2) {
  declared_run t;
  const lgtest::run_result missing = t.nest({"a", "b"}, "lock_order=" + t.dir.str() + "/none.txt");
  EXPECT_TRUE(missing.exited_with(2)) << missing.describe();
  EXPECT_TRUE(lgtest::contains(missing.err, "lockgraph: lock_order=" + t.dir.str() + "/none.txt: cannot read it"))
      << missing.err;
  EXPECT_EQ(lgtest::count_of(missing.err, "\n"), 1u) << missing.err;
  // A directory opens but does not read: an error too, not an empty declaration that checks nothing.
  const lgtest::run_result dir = t.nest({"a", "b"}, "lock_order=" + t.dir.str());
  EXPECT_TRUE(dir.exited_with(2)) << dir.describe();
  EXPECT_TRUE(lgtest::contains(dir.err, "cannot read it (Is a directory)")) << dir.err;
  const std::string order = t.write_order("a -> b\nb => c\n");
  const lgtest::run_result malformed = t.nest({"a", "b"}, "lock_order=" + order);
  EXPECT_TRUE(malformed.exited_with(2)) << malformed.describe();
  EXPECT_TRUE(lgtest::contains(malformed.err, "lockgraph: lock_order: " + order + ":2: expected a lock order"))
      << malformed.err;
  EXPECT_EQ(lgtest::count_of(malformed.err, "\n"), 1u) << malformed.err;
}

}  // namespace
