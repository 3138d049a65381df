// End-to-end checks of lock-order inversion detection through the public types.
#include <gtest/gtest.h>

#include <latch>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "lockgraph/lockgraph.hpp"

namespace {


std::string cycle_of(const lockgraph::report& r) {
  std::string s;
  for (const auto& l : r.locks) s += l + " => ";
  return s + (r.locks.empty() ? "" : r.locks.front());
}

// Cycle: a->b (thread 1), b->a (thread 2). Threads run one after the other: nothing hangs.
TEST(Inversion, TwoLocksOppositeOrderInTwoThreadsIsReportedOnce) {
  lockgraph::mutex a("a"), b("b");
  std::thread([&] {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::lock_guard<lockgraph::mutex> gb(b);
  }).join();
  std::thread([&] {
    for (int i = 0; i < 3; ++i) {
      std::lock_guard<lockgraph::mutex> gb(b);
      std::lock_guard<lockgraph::mutex> ga(a);
    }
  }).join();
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].kind, lockgraph::report_kind::lock_order_inversion);
  EXPECT_EQ(cycle_of(reps[0]), "a => b => a");
  ASSERT_EQ(reps[0].edges.size(), 2u);
  EXPECT_EQ(reps[0].edges[0].from, "a");
  EXPECT_EQ(reps[0].edges[0].to, "b");
  EXPECT_EQ(reps[0].edges[1].from, "b");
  EXPECT_EQ(reps[0].edges[1].to, "a");
  EXPECT_NE(reps[0].edges[0].thread.id, reps[0].edges[1].thread.id);
  EXPECT_FALSE(reps[0].edges[0].stack.empty());
}

TEST(Inversion, ConsistentOrderIsNotReported) {
  lockgraph::mutex a("a"), b("b"), c("c");
  for (int i = 0; i < 100; ++i) {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::lock_guard<lockgraph::mutex> gb(b);
    std::lock_guard<lockgraph::mutex> gc(c);
  }
  {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::lock_guard<lockgraph::mutex> gc(c);
  }
  EXPECT_EQ(lockgraph::reports().size(), 0u);
}

// Cycle: a->b->c->a, each edge from a different place; found when the third edge appears.
TEST(Inversion, ThreeLockCycleListsLocksInCycleOrder) {
  lockgraph::mutex a("a"), b("b"), c("c");
  auto pair = [](lockgraph::mutex& x, lockgraph::mutex& y) {
    std::lock_guard<lockgraph::mutex> gx(x);
    std::lock_guard<lockgraph::mutex> gy(y);
  };
  pair(a, b);
  pair(b, c);
  EXPECT_EQ(lockgraph::reports().size(), 0u);
  pair(c, a);
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(cycle_of(reps[0]), "a => b => c => a");
}

TEST(Inversion, ScopedLockAndStdLockAreNeverReported) {
  lockgraph::mutex a("a"), b("b");
  std::thread([&] { std::scoped_lock both(a, b); }).join();
  std::thread([&] { std::scoped_lock both(b, a); }).join();
  std::thread([&] {
    std::unique_lock<lockgraph::mutex> lb(b, std::defer_lock), la(a, std::defer_lock);
    std::lock(lb, la);
  }).join();
  EXPECT_EQ(lockgraph::reports().size(), 0u);
}

TEST(Inversion, UnnamedLocksAreLabelledWithTheirConstructionSite) {
  lockgraph::mutex a;
  lockgraph::mutex b;
  const int line_a = __LINE__ - 2;
  {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::lock_guard<lockgraph::mutex> gb(b);
  }
  {
    std::lock_guard<lockgraph::mutex> gb(b);
    std::lock_guard<lockgraph::mutex> ga(a);
  }
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].locks[0], "inversion_test.cpp:" + std::to_string(line_a));
  EXPECT_EQ(reps[0].locks[1], "inversion_test.cpp:" + std::to_string(line_a + 1));
}

}  // namespace
