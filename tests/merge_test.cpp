// tests/merge_test.cpp: edge_log=DIR end to end and lockgraph-merge over the logs: opposite lock orders
// in two processes (two tests of tests/gtest_program/suite_order_program.cpp) make a suite-level cycle
// naming both tests; an acyclic suite exits 0; a malformed log exits 2 naming FILE:LINE; the log is
// written before lockgraph aborts. Then suite_graph itself on hand-made logs.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "merge/suite_graph.hpp"
#include "report/edge_log.hpp"
#include "support/subprocess.hpp"
#include "support/text.hpp"

namespace {

using lgtest::contains;

// Runs one test of suite_order_program in a process of its own, logging edges to `dir`.
lgtest::run_result run_test(const std::string& filter, const std::string& dir, bool disabled = false) {
  std::vector<std::string> argv{lgtest::program("suite_order_program"), "--gtest_filter=SuiteOrder." + filter};
  if (disabled) argv.push_back("--gtest_also_run_disabled_tests");
  return lgtest::run(argv, {{"LOCKGRAPH_OPTIONS", "edge_log='" + dir + "'"}}, std::chrono::seconds(60));
}

lgtest::run_result merge(std::vector<std::string> args) {
  args.insert(args.begin(), LOCKGRAPH_MERGE_PROGRAM);
  return lgtest::run(args, {}, std::chrono::seconds(60));
}

TEST(SuiteMerge, OppositeOrdersInTwoProcessesAreACycleNamingBothTests) {
  lgtest::temp_dir dir("lockgraph-merge");
  const std::string edges = dir.str() + "/edges";
  // Each process alone is clean: no report, exit 0.
  for (const char* t : {"AccountsThenLedger", "LedgerThenAccounts"}) {
    const lgtest::run_result r = run_test(t, edges);
    ASSERT_TRUE(r.exited_with(0)) << r.describe();
    EXPECT_FALSE(contains(r.err, "lock-order-inversion")) << r.describe();
  }
  const lgtest::run_result m = merge({"--text", "--json", dir.str() + "/out", "--dot", dir.str() + "/suite.dot", edges});
  ASSERT_TRUE(m.exited_with(1)) << m.describe();
  EXPECT_TRUE(contains(m.out, "lock-order-inversion across the test suite")) << m.out;
  EXPECT_TRUE(contains(m.out, "test SuiteOrder.AccountsThenLedger")) << m.out;
  EXPECT_TRUE(contains(m.out, "test SuiteOrder.LedgerThenAccounts")) << m.out;
  EXPECT_TRUE(contains(m.out, "suite_order_program.cpp:")) << m.out;  // the site, symbolized by the child
  EXPECT_TRUE(contains(m.out, "checked 2 logs from 2 processes: 2 classes, 2 edges (0 same-class), 1 cycles"))
      << m.out;
  const std::string json = lgtest::read_file(dir.path() / "out" / "lockgraph-suite-0001.json");
  EXPECT_TRUE(contains(json, "\"scope\": \"suite\"")) << json;
  EXPECT_TRUE(contains(json, "\"kind\": \"lock_order_inversion\"")) << json;
  EXPECT_TRUE(contains(json, "SuiteOrder.LedgerThenAccounts")) << json;
  const std::string dot = lgtest::read_file(dir.path() / "out" / "lockgraph-suite-0001.dot");
  EXPECT_TRUE(contains(dot, "SuiteOrder.AccountsThenLedger")) << dot;
  const std::string whole = lgtest::read_file(dir.path() / "suite.dot");
  EXPECT_TRUE(contains(whole, "color=red")) << whole;

  // A suppression rule on one of the classes leaves it out.
  {
    std::ofstream(dir.str() + "/supp.txt") << "# known\nlock_order_inversion:suite.ledger\n";
  }
  const lgtest::run_result quiet = merge({"--suppressions", dir.str() + "/supp.txt", edges});
  EXPECT_TRUE(quiet.exited_with(0)) << quiet.describe();
  EXPECT_TRUE(contains(quiet.out, "1 reports suppressed")) << quiet.out;

  // The gate's view: each process saw only half, so the cycle is across processes.
  const lgtest::run_result across = merge({"--across-processes", edges});
  EXPECT_TRUE(across.exited_with(1)) << across.describe();
}

TEST(SuiteMerge, AcyclicSuiteExitsZeroAndListsSameClassNestingApart) {
  lgtest::temp_dir dir("lockgraph-merge");
  for (const char* t : {"AccountsThenLedger", "SameClassNesting", "ReadersOneWay", "ReadersOtherWay"}) {
    const lgtest::run_result r = run_test(t, dir.str());
    ASSERT_TRUE(r.exited_with(0)) << r.describe();
  }
  EXPECT_EQ(dir.files_ending(".jsonl").size(), 4u);
  const lgtest::run_result m = merge({dir.str()});
  EXPECT_TRUE(m.exited_with(0)) << m.describe();
  EXPECT_TRUE(contains(m.out, "same-class nesting (not a cycle): suite.node -> suite.node")) << m.out;
  EXPECT_TRUE(contains(m.out, "test SuiteOrder.SameClassNesting")) << m.out;
  EXPECT_TRUE(contains(m.out, "checked 4 logs from 4 processes: 5 classes, 4 edges (1 same-class), 0 cycles")) << m.out;
}

TEST(SuiteMerge, MalformedLogExitsTwoNamingFileAndLine) {
  lgtest::temp_dir dir("lockgraph-merge");
  const std::string path = dir.str() + "/edges-1-0.jsonl";
  {
    std::ofstream f(path);
    f << "{\"lockgraph_edge_log\": 1, \"pid\": 1}\n{\"from\": \"a\", \"to\": \"b\"}\n{\"from\": \"a\"\n";
  }
  const lgtest::run_result m = merge({dir.str()});
  EXPECT_TRUE(m.exited_with(2)) << m.describe();
  EXPECT_EQ(m.err, "lockgraph-merge: " + path + ":3: expected ',' or '}'\n");

  const lgtest::run_result missing = merge({dir.str() + "/nothing-here"});
  EXPECT_TRUE(missing.exited_with(2)) << missing.describe();
  EXPECT_TRUE(contains(missing.err, "nothing-here: no such file or directory")) << missing.err;

  const lgtest::run_result usage = merge({"--bogus", dir.str()});
  EXPECT_TRUE(usage.exited_with(2)) << usage.describe();
  EXPECT_TRUE(contains(usage.err, "lockgraph-merge: unknown option '--bogus'")) << usage.err;
}

TEST(SuiteMerge, EdgeLogIsWrittenBeforeLockgraphAborts) {
  lgtest::temp_dir dir("lockgraph-merge");
  const lgtest::run_result r = run_test("DISABLED_AbortsAfterAnEdge", dir.str(), /*disabled=*/true);
  ASSERT_TRUE(r.killed_by(SIGABRT)) << r.describe();
  const std::vector<std::string> logs = dir.files_ending(".jsonl");
  ASSERT_EQ(logs.size(), 1u);
  lockgraph::detail::edge_log log;
  ASSERT_EQ(lockgraph::detail::parse_edge_log(lgtest::read_file(dir.path() / logs[0]), log), "");
  ASSERT_EQ(log.edges.size(), 1u);
  EXPECT_EQ(log.edges[0].from, "suite.accounts");
  EXPECT_EQ(log.edges[0].to, "suite.ledger");
  EXPECT_EQ(log.edges[0].test, "SuiteOrder.DISABLED_AbortsAfterAnEdge");
  EXPECT_TRUE(contains(log.command, "suite_order_program")) << log.command;
  EXPECT_EQ(dir.files_ending(".tmp").size(), 0u);
}

// --write-order writes what the suite did as a declaration; --check-order holds a later run to it.
TEST(SuiteMerge, WriteOrderThenCheckOrderFindsTheContradictingTest) {
  lgtest::temp_dir dir("lockgraph-merge");
  ASSERT_TRUE(run_test("AccountsThenLedger", dir.str() + "/first").exited_with(0));
  const std::string order = dir.str() + "/order.txt";
  const lgtest::run_result w = merge({"--write-order", order, dir.str() + "/first"});
  ASSERT_TRUE(w.exited_with(0)) << w.describe();
  const std::string declared = lgtest::read_file(order);
  EXPECT_TRUE(contains(declared, "\nsuite.accounts -> suite.ledger\n")) << declared;

  ASSERT_TRUE(run_test("LedgerThenAccounts", dir.str() + "/second").exited_with(0));
  const lgtest::run_result c = merge({"--check-order", order, "--text", dir.str() + "/second"});
  EXPECT_TRUE(c.exited_with(1)) << c.describe();
  EXPECT_TRUE(contains(c.out, "against the declared lock order")) << c.out;
  EXPECT_TRUE(contains(c.out, "test SuiteOrder.LedgerThenAccounts")) << c.out;
  EXPECT_TRUE(contains(c.out, order + ":4: suite.accounts -> suite.ledger")) << c.out;
  EXPECT_TRUE(contains(c.out, "lockgraph-merge: 1 declared-order violations")) << c.out;
  // The whole-suite DOT marks the observed edges against the declaration: this one goes against it.
  const std::string dot_path = dir.str() + "/suite.dot";
  EXPECT_TRUE(merge({"--check-order", order, "--dot", dot_path, dir.str() + "/second"}).exited_with(1));
  const std::string dot = lgtest::read_file(dot_path);
  EXPECT_TRUE(contains(dot, "0 edges declared (green), 1 against it (blue)")) << dot;
  EXPECT_TRUE(contains(dot, "against the declared order")) << dot;
  EXPECT_TRUE(contains(dot, "color=blue")) << dot;
  const std::string agreeing = dir.str() + "/agreeing.dot";
  EXPECT_TRUE(merge({"--check-order", order, "--dot", agreeing, dir.str() + "/first"}).exited_with(0));
  EXPECT_TRUE(contains(lgtest::read_file(agreeing), "1 edges declared (green), 0 against it (blue)"))
      << lgtest::read_file(agreeing);

  // The run that wrote it agrees with it; a malformed declaration is bad input.
  EXPECT_TRUE(merge({"--check-order", order, dir.str() + "/first"}).exited_with(0));
  {
    std::ofstream(dir.str() + "/bad.txt") << "a -> \n";
  }
  const lgtest::run_result bad = merge({"--check-order", dir.str() + "/bad.txt", dir.str() + "/first"});
  EXPECT_TRUE(bad.exited_with(2)) << bad.describe();
  EXPECT_TRUE(contains(bad.err, "lockgraph-merge: " + dir.str() + "/bad.txt:1: ")) << bad.err;
}

// exitcode=N ends the process with _exit() and halt_on_report=1 with abort(): the log is written first.
TEST(SuiteMerge, EdgeLogIsWrittenBeforeExitcodeAndHaltOnReportEndTheProcess) {
  for (const char* option : {"exitcode=7", "halt_on_report=1"}) {
    lgtest::temp_dir dir("lockgraph-merge");
    const lgtest::run_result r = lgtest::run({lgtest::program("inversion_program")},
                                             {{"LOCKGRAPH_OPTIONS", std::string(option) + ":print_reports=0:edge_log='" +
                                                                        dir.str() + "'"}},
                                             std::chrono::seconds(60));
    EXPECT_TRUE(std::string(option) == "exitcode=7" ? r.exited_with(7) : r.killed_by(SIGABRT)) << option << r.describe();
    const std::vector<std::string> logs = dir.files_ending(".jsonl");
    ASSERT_EQ(logs.size(), 1u) << option;
    const std::string text = lgtest::read_file(dir.path() / logs[0]);
    EXPECT_TRUE(contains(text, "{\"from\": \"inv0.b\", \"to\": \"inv0.a\"")) << option << text;
    // The merge finds the process's own cycle (without --across-processes).
    EXPECT_TRUE(merge({dir.str()}).exited_with(1)) << option;
  }
}

// suite_graph on hand-made logs.
lockgraph::detail::suite_log make_log(long pid, std::vector<std::vector<std::string>> edges) {
  lockgraph::detail::suite_log l;
  l.path = "log" + std::to_string(pid);
  l.log.pid = pid;
  for (auto& e : edges) {
    lockgraph::detail::logged_edge le;
    le.from = e[0];
    le.to = e[1];
    le.to_shared = e.size() > 2 && e[2] == "shared";
    le.from_shared = e.size() > 3 && e[3] == "shared";
    le.test = "T" + std::to_string(pid);
    l.log.edges.push_back(le);
  }
  return l;
}

TEST(SuiteGraph, ThreeClassCycleOverThreeProcesses) {
  // Cycle: a -> b (process 1), b -> c (process 2), c -> a (process 3).
  const std::vector<lockgraph::detail::suite_log> logs = {make_log(1, {{"a", "b"}}), make_log(2, {{"b", "c"}}),
                                                          make_log(3, {{"c", "a"}, {"a", "b"}})};
  lockgraph::detail::suite_graph g;
  g.add(logs);
  const std::vector<lockgraph::report> reports = g.check();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].scope, "suite");
  EXPECT_EQ(reports[0].locks, (std::vector<std::string>{"c", "a", "b"}));
  EXPECT_EQ(reports[0].summary, "lock-order inversion across the suite: c => a => b => c");
  ASSERT_EQ(reports[0].edges.size(), 3u);
  EXPECT_EQ(reports[0].edges[0].seen_in, "test T3, pid 3");
  EXPECT_EQ(reports[0].edges[1].seen_in, "test T1, pid 1");  // first sighting: the first log read
  EXPECT_EQ(g.edges().size(), 3u);
  EXPECT_EQ(g.process_count(), 3u);
}

TEST(SuiteGraph, CycleOneProcessSawWholeIsLeftOutAcrossProcessesOnly) {
  const std::vector<lockgraph::detail::suite_log> logs = {make_log(1, {{"a", "b"}, {"b", "a"}}), make_log(2, {{"a", "b"}})};
  lockgraph::detail::suite_graph g;
  g.add(logs);
  EXPECT_EQ(g.check(/*across_processes_only=*/true).size(), 0u);
  lockgraph::detail::suite_graph all;
  all.add(logs);
  EXPECT_EQ(all.check().size(), 1u);
}

TEST(SuiteGraph, ReaderRulesAsInAProcess) {
  // r1 -> r2 and r2 -> r1, both taken and held shared: readers never block readers, no cycle.
  const std::vector<lockgraph::detail::suite_log> readers = {
      make_log(1, {{"r1", "r2", "shared", "shared"}}), make_log(2, {{"r2", "r1", "shared", "shared"}})};
  lockgraph::detail::suite_graph g;
  g.add(readers);
  EXPECT_EQ(g.check().size(), 0u);
  // r1 held exclusive, r2 taken shared; r2 held shared, r1 taken exclusive: the reader gets r2 past the
  // other reader, so no deadlock either.
  const std::vector<lockgraph::detail::suite_log> mixed = {
      make_log(1, {{"r1", "r2", "shared", "exclusive"}}), make_log(2, {{"r2", "r1", "exclusive", "shared"}})};
  lockgraph::detail::suite_graph m;
  m.add(mixed);
  EXPECT_EQ(m.check().size(), 0u);
  // A writer waiting on the reader's lock makes it one: r1 -> r2 taken exclusive; r2 held shared -> r1.
  const std::vector<lockgraph::detail::suite_log> writer = {
      make_log(1, {{"r1", "r2"}}), make_log(2, {{"r2", "r1", "exclusive", "shared"}})};
  lockgraph::detail::suite_graph w;
  w.add(writer);
  EXPECT_EQ(w.check().size(), 1u);
}

TEST(SuiteGraph, SameClassEdgesAreNeverACycle) {
  const std::vector<lockgraph::detail::suite_log> logs = {make_log(1, {{"node", "node"}}), make_log(2, {{"node", "node"}})};
  lockgraph::detail::suite_graph g;
  g.add(logs);
  EXPECT_EQ(g.check().size(), 0u);
  ASSERT_EQ(g.same_class_edges().size(), 1u);
  EXPECT_TRUE(contains(g.to_dot(), "same class")) << g.to_dot();
}

}  // namespace
