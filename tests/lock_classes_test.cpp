// Lock classes (lockgraph/lock_class.hpp, detector/graph/class_graph.hpp): cycles of classes that no
// single set of locks closes, same-class nesting, gate locks, site forwarding and member locks.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lockgraph/lockgraph.hpp"
#include "support/subprocess.hpp"
#include "support/text.hpp"

namespace {

using lgtest::contains;

void in_order(lockgraph::mutex& first, lockgraph::mutex& second) {
  std::lock_guard<lockgraph::mutex> g1(first);
  std::lock_guard<lockgraph::mutex> g2(second);
}

std::string file_line(int line) { return "lock_classes_test.cpp:" + std::to_string(line); }

// Two members of one type: every object's `a` is one class, every object's `b` another.
struct account {
  lockgraph::mutex a;
  lockgraph::mutex b;
  account() {}  // kAccountLine: both members are built here
};
constexpr int kAccountLine = __LINE__ - 2;

// The scenario: thread 1 locks a1 then b1, thread 2 locks b2 then a2. No pair of locks closes
// a cycle; their classes do.
TEST(LockClasses, CycleOfClassesAcrossDifferentObjectsIsReportedOnce) {
  account x1, x2;
  std::thread([&] { in_order(x1.a, x1.b); }).join();
  std::thread([&] { in_order(x2.b, x2.a); }).join();
  std::thread([&] { in_order(x2.b, x2.a); }).join();  // the same cycle again: not a second report
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  const lockgraph::report& r = reps[0];
  EXPECT_EQ(r.kind, lockgraph::report_kind::lock_order_inversion);
  EXPECT_EQ(r.scope, "class");
  ASSERT_EQ(r.locks.size(), 2u);
  const std::string a = file_line(kAccountLine), b = file_line(kAccountLine) + "[1]";
  EXPECT_TRUE((r.locks[0] == a && r.locks[1] == b) || (r.locks[0] == b && r.locks[1] == a)) << r.summary;
  EXPECT_EQ(r.classes, r.locks);
  ASSERT_EQ(r.edges.size(), 2u);
  EXPECT_NE(r.edges[0].thread.id, r.edges[1].thread.id);  // one real acquisition per edge
  EXPECT_FALSE(r.edges[0].stack.empty());
  EXPECT_FALSE(r.edges[1].stack.empty());
  EXPECT_TRUE(contains(lockgraph::to_json(r), "\"scope\":\"class\"") ||
              contains(lockgraph::to_json(r), "\"scope\": \"class\""))
      << lockgraph::to_json(r);
  EXPECT_TRUE(contains(lockgraph::to_text(r), "between lock classes")) << lockgraph::to_text(r);
}

// reset() forgets the class graph too: an order of classes seen before it closes no cycle after it.
TEST(LockClasses, ResetForgetsTheOrderOfClasses) {
  account x1, x2;
  std::thread([&] { in_order(x1.a, x1.b); }).join();
  lockgraph::reset();
  std::thread([&] { in_order(x2.b, x2.a); }).join();
  EXPECT_EQ(lockgraph::reports().size(), 0u) << lockgraph::reports().front().summary;
  std::thread([&] { in_order(x1.a, x1.b); }).join();  // control: the class graph works after it
  ASSERT_EQ(lockgraph::reports().size(), 1u);
  EXPECT_EQ(lockgraph::reports().front().scope, "class");
}

// An inversion of the same two locks is reported at instance level only: one report per bug.
TEST(LockClasses, InstanceCycleIsNotReportedAgainAsAClassCycle) {
  account x;
  std::thread([&] { in_order(x.a, x.b); }).join();
  std::thread([&] { in_order(x.b, x.a); }).join();
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].scope, "instance");
  ASSERT_EQ(reps[0].classes.size(), 2u);
  EXPECT_TRUE(contains(lockgraph::to_json(reps[0]), "instance")) << lockgraph::to_json(reps[0]);
}

struct item {
  lockgraph::mutex mu;
  item() {}
};

// Hand-over-hand along a list and ordered pairs of one class: nesting within one class, never an
// inversion, shown in the lock-order DOT.
TEST(LockClasses, SameClassNestingIsNotReportedAndShownInDot) {
  std::vector<std::unique_ptr<item>> list;
  for (int i = 0; i < 5; ++i) list.push_back(std::make_unique<item>());
  std::thread([&] {
    std::unique_lock<lockgraph::mutex> held(list[0]->mu);
    for (std::size_t i = 1; i < list.size(); ++i) {
      std::unique_lock<lockgraph::mutex> next(list[i]->mu);
      held.swap(next);
    }
  }).join();
  item p, q;
  std::thread([&] { in_order(q.mu, p.mu); }).join();  // the opposite direction on other objects
  EXPECT_EQ(lockgraph::reports().size(), 0u);
  const std::string dot = lockgraph::lock_order_dot();
  EXPECT_TRUE(contains(dot, "same-class nesting")) << dot;
}

// A wrapper that forwards its caller's site: one class per construction site.
class forwarding_mutex {
 public:
  explicit forwarding_mutex(lockgraph::site where = lockgraph::site::current()) : mu_(where) {}
  lockgraph::mutex& get() { return mu_; }

 private:
  lockgraph::mutex mu_;
};

// A wrapper that does not: every lock it builds carries the wrapper's line.
class plain_wrapper {
 public:
  plain_wrapper() {}
  lockgraph::mutex& get() { return mu_; }

 private:
  lockgraph::mutex mu_;  // kPlainWrapperLine - 1 is the constructor
};
constexpr int kPlainWrapperLine = __LINE__ - 6;

TEST(LockClasses, WrapperForwardingTheSiteGivesOneClassPerCallSite) {
  forwarding_mutex first;
  constexpr int kFirst = __LINE__ - 1;
  forwarding_mutex second;
  constexpr int kSecond = __LINE__ - 1;
  std::thread([&] { in_order(first.get(), second.get()); }).join();
  std::thread([&] { in_order(second.get(), first.get()); }).join();
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].classes, (std::vector<std::string>{file_line(kFirst), file_line(kSecond)})) << reps[0].summary;
}

TEST(LockClasses, WrapperNotForwardingTheSiteGivesTheWrappersLine) {
  plain_wrapper first;
  plain_wrapper second;
  std::thread([&] { in_order(first.get(), second.get()); }).join();
  std::thread([&] { in_order(second.get(), first.get()); }).join();
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  // Both carry the wrapper's line. (Built by two inlined copies of its constructor, at neighbouring
  // addresses, the second may look like a second member and show as "[1]".)
  ASSERT_EQ(reps[0].classes.size(), 2u);
  for (const std::string& c : reps[0].classes) EXPECT_EQ(c.rfind(file_line(kPlainWrapperLine), 0), 0u) << c;
}

// Three member locks an owner's constructor builds (as spdlog's registry has): three classes.
struct registry {
  lockgraph::mutex logger_map_mutex;
  lockgraph::mutex flusher_mutex;
  lockgraph::recursive_mutex tp_mutex;
  int other = 0;
  forwarding_mutex wrapped;  // a wrapper forwarding the site: also told apart
  registry() {}
};
constexpr int kRegistryLine = __LINE__ - 2;

TEST(LockClasses, MemberLocksBuiltByOneConstructorAreDistinctClasses) {
  registry r;
  {
    std::lock_guard<lockgraph::mutex> g1(r.logger_map_mutex);
    std::lock_guard<lockgraph::mutex> g2(r.flusher_mutex);
    std::lock_guard<lockgraph::recursive_mutex> g3(r.tp_mutex);
    std::lock_guard<lockgraph::mutex> g4(r.wrapped.get());
  }
  {
    std::lock_guard<lockgraph::mutex> g4(r.wrapped.get());
    std::lock_guard<lockgraph::mutex> g1(r.logger_map_mutex);
  }
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  const std::string line = file_line(kRegistryLine);
  EXPECT_TRUE(contains(reps[0].summary, line + " => ") && contains(reps[0].summary, line + "[3]")) << reps[0].summary;
  const std::string dot = lockgraph::lock_order_dot();
  for (const char* suffix : {"", "[1]", "[2]", "[3]"}) {
    EXPECT_TRUE(contains(dot, "\"" + line + suffix + "\"")) << suffix << "\n" << dot;
  }
}

// The same member of the elements of an array (LevelDB's 16 cache shards) is one class.
struct shard {
  lockgraph::mutex mu;
  int usage = 0;
  shard() {}
};
constexpr int kShardLine = __LINE__ - 2;

TEST(LockClasses, ArrayElementsShareOneClass) {
  shard shards[16];
  std::thread([&] { in_order(shards[3].mu, shards[5].mu); }).join();
  std::thread([&] { in_order(shards[5].mu, shards[3].mu); }).join();
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].scope, "instance");
  EXPECT_EQ(reps[0].classes, (std::vector<std::string>{file_line(kShardLine), file_line(kShardLine)}));
}

constexpr lockgraph::lock_class g_shard_class("cache.shard");
constinit lockgraph::mutex g_constant_shard(g_shard_class);  // constexpr: constant-initialised

TEST(LockClasses, ExplicitClassIsSharedByItsLocksAndNamesThem) {
  lockgraph::mutex shard(g_shard_class);
  lockgraph::mutex index("index");
  std::thread([&] { in_order(g_constant_shard, index); }).join();
  std::thread([&] { in_order(index, shard); }).join();
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].scope, "class");
  EXPECT_TRUE(contains(reps[0].summary, "cache.shard => index") || contains(reps[0].summary, "index => cache.shard"))
      << reps[0].summary;
}

// ---- options that must be set before the detector starts: a child process ----

lgtest::run_result run_program(const std::string& scenario, const std::string& options) {
  return lgtest::run({lgtest::program("lock_classes_program"), scenario}, {{"LOCKGRAPH_OPTIONS", options}},
                     std::chrono::seconds(60));
}

TEST(LockClassesOptions, ClassesZeroDisablesClassReports) {
  const auto on = run_program("class_cycle", "exitcode=7");
  EXPECT_TRUE(on.exited_with(7)) << on.describe();
  EXPECT_TRUE(contains(on.err, "between lock classes")) << on.describe();
  const auto off = run_program("class_cycle", "exitcode=7:classes=0");
  EXPECT_TRUE(off.exited_with(0)) << off.describe();
  EXPECT_FALSE(contains(off.err, "lock-order-inversion")) << off.describe();
}

TEST(LockClassesOptions, GatedCycleIsNotReportedByDefaultButSummarised) {
  const auto r = run_program("gate", "exitcode=7");
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_FALSE(contains(r.err, "lock-order-inversion")) << r.describe();
  EXPECT_TRUE(contains(r.err, "1 lock-order cycle not reported")) << r.describe();
  EXPECT_TRUE(contains(r.err, "(g)")) << r.describe();
  // Visible in the lock-order DOT: the cycle's edges orange, and a note naming the gate.
  EXPECT_TRUE(contains(r.out, "gated cycle, not reported")) << r.describe();
  EXPECT_TRUE(contains(r.out, "every edge taken under g")) << r.describe();
  EXPECT_TRUE(contains(r.out, "color=orange")) << r.describe();
}

TEST(LockClassesOptions, GatedCycleIsReportedWithGateLocksReport) {
  const auto r = run_program("gate", "exitcode=7:gate_locks=report");
  EXPECT_TRUE(r.exited_with(7)) << r.describe();
  EXPECT_TRUE(contains(r.err, "a => b => a") || contains(r.err, "b => a => b")) << r.describe();
}

TEST(LockClassesOptions, GateBrokenByALaterSightingIsReported) {
  const auto r = run_program("gate_broken", "exitcode=7");
  EXPECT_TRUE(r.exited_with(7)) << r.describe();
  // Reported when the third thread takes b then a without the gate, not before.
  const auto gated = r.out.find("gated");
  ASSERT_NE(gated, std::string::npos) << r.describe();
  EXPECT_TRUE(contains(r.err, "lock-order-inversion")) << r.describe();
  EXPECT_FALSE(contains(r.err, "not reported")) << r.describe();
}

TEST(LockClassesOptions, BadGateLocksValueIsOneLineAndExitTwo) {
  const auto r = run_program("gate", "gate_locks=maybe");
  EXPECT_TRUE(r.exited_with(2)) << r.describe();
  EXPECT_TRUE(contains(r.err, "gate_locks")) << r.describe();
  EXPECT_TRUE(contains(r.err, "ignore or report")) << r.describe();
}

}  // namespace
