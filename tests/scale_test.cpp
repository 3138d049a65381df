// Issue 9, items 8, 9 and 10: cliffs. Memory and output size are measured, never wall time:
// heap bytes in use (glibc mallinfo2) before and after, the graph's own edge count, the DOT's length.
//
// Each test failed before its item was fixed (regression tests for issue 9).
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdint>
#include <deque>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lockgraph/graphviz.hpp"
#include "lockgraph/lockgraph.hpp"
#include "base/labels.hpp"
#include "runtime/runtime.hpp"
#include "support/sanitizers.hpp"
#include "support/subprocess.hpp"

#define LG_SANITIZED (LGTEST_ASAN || LGTEST_TSAN)

namespace {

using namespace std::chrono_literals;

// Bytes the program has allocated and not freed (glibc's malloc; sanitizers replace it).
std::int64_t heap_in_use() {
  const struct mallinfo2 mi = ::mallinfo2();
  return static_cast<std::int64_t>(mi.uordblks + mi.hblkhd);
}

#define SKIP_IF_SANITIZED() \
  if (LG_SANITIZED) GTEST_SKIP() << "heap accounting needs glibc's malloc"

// Nests `locks` in order, then releases them.
void nest_all(std::deque<lockgraph::mutex>& locks) {
  for (auto& m : locks) m.lock();
  for (auto it = locks.rbegin(); it != locks.rend(); ++it) it->unlock();
}

// ---- item 8: deep nesting ----------------------------------------------------------------------------

// 1024 locks nested in one order, twice. The graph may hold the order, but its size must be linear in
// the depth (today: an edge from every held lock, depth^2/2 = 523,776 edges, ~200 MB).
TEST(Scale, DeepNestingMemoryIsLinearInDepth) {
  SKIP_IF_SANITIZED();
  constexpr std::size_t kDepth = 1024;
  std::deque<lockgraph::mutex> locks;
  for (std::size_t i = 0; i < kDepth; ++i) locks.emplace_back();
  const std::int64_t before = heap_in_use();
  const std::size_t edges_before = lockgraph::detail::rt().graph.edge_count();
  nest_all(locks);
  nest_all(locks);
  const std::int64_t grown = heap_in_use() - before;
  const std::size_t edges = lockgraph::detail::rt().graph.edge_count() - edges_before;
  EXPECT_LE(edges, 4 * kDepth) << "edges recorded for one nesting of depth " << kDepth;
  EXPECT_LE(grown, static_cast<std::int64_t>(kDepth) * 8 * 1024) << "heap growth in bytes";
}

// Held entries this thread's self-deadlock checks walked so far.
std::uint64_t self_check_walked() {
  return lockgraph::detail::slot_of(lockgraph::detail::tl_record)->extra.self_check_walked;
}

// A deep nesting under a new outer lock each time: every chain is new (the slow path runs for each
// acquisition), but every edge but the first is known. Checking that the thread does not already hold
// the lock must not walk the held stack each time (1024 * 1024 / 2 entries per nesting before): at
// most the inline entries per acquisition. Repeated as it is, the nesting is known: its deep chains
// walk nothing (a shallow one evicted from the thread's and the process's caches may walk its few).
TEST(Scale, DeepNestingSelfDeadlockCheckDoesNotWalkTheStack) {
  constexpr std::size_t kDepth = 1024;
  std::deque<lockgraph::mutex> locks;
  for (std::size_t i = 0; i < kDepth; ++i) locks.emplace_back();
  for (int round = 0; round < 3; ++round) {
    lockgraph::mutex outer;
    std::lock_guard<lockgraph::mutex> g(outer);
    const std::uint64_t before = self_check_walked();
    nest_all(locks);
    const std::uint64_t walked = self_check_walked() - before;
    EXPECT_LE(walked, kDepth * (lockgraph::detail::kInlineHeld + 1)) << "round " << round;
    nest_all(locks);
    EXPECT_LE(self_check_walked() - before - walked, lockgraph::detail::kInlineHeld * lockgraph::detail::kInlineHeld)
        << "round " << round << ": the repeated nesting";
  }
}

// ---- item 9: unique names -----------------------------------------------------------------------------

// 100k named lifetimes ("conn-<i>", construct + lock + destroy): the names of destroyed locks must not
// accumulate (today every name is interned for good: ~48 B each, and lookups walk ever longer chains).
TEST(Scale, UniqueNamesOfDestroyedLocksDoNotAccumulate) {
  SKIP_IF_SANITIZED();
  constexpr int kLifetimes = 100'000;
  { lockgraph::mutex warm("conn-warm-up"); std::lock_guard<lockgraph::mutex> g(warm); }
  const std::int64_t before = heap_in_use();
  for (int i = 0; i < kLifetimes; ++i) {
    lockgraph::mutex m("conn-" + std::to_string(i));
    std::lock_guard<lockgraph::mutex> g(m);
  }
  const std::int64_t grown = heap_in_use() - before;
  EXPECT_LE(grown, 1 << 20) << "heap growth in bytes after " << kLifetimes << " named lifetimes";
}

// A computed name is shared by the locks that bear it and freed with the last of them, also when the
// lock took part in the graph (whose node holds a reference of its own until the lock is destroyed).
TEST(Scale, InternedNamesAreSharedAndFreedWithTheirLastLock) {
  using lockgraph::detail::interned_name_count;
  const std::size_t before = interned_name_count();
  {
    lockgraph::mutex a(std::string("churn-a"));
    lockgraph::mutex b(std::string("churn-b"));
    EXPECT_EQ(interned_name_count(), before + 2);
    {
      lockgraph::mutex a2(std::string("churn-a"));
      EXPECT_EQ(interned_name_count(), before + 2);
    }
    std::lock_guard<lockgraph::mutex> ga(a);  // a -> b: both get graph nodes
    std::lock_guard<lockgraph::mutex> gb(b);
    EXPECT_NE(lockgraph::lock_order_dot().find("churn-b"), std::string::npos);
  }
  EXPECT_EQ(interned_name_count(), before);
  lockgraph::mutex literal("churn-literal");  // literals are never interned
  EXPECT_EQ(interned_name_count(), before);
}

// Threads construct and destroy locks of the same few names at once, nesting them (so graph nodes take
// and drop references too): names are shared, freed and interned again concurrently. Under TSan this
// checks the reference counting; everywhere, that every name is freed at the end.
TEST(Scale, ConcurrentNamedLifetimesFreeEveryName) {
  using lockgraph::detail::interned_name_count;
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  const std::size_t before = interned_name_count();
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&start, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kRounds; ++i) {
        lockgraph::mutex outer("shared-" + std::to_string((i + t) % 8));
        lockgraph::mutex inner("inner-" + std::to_string(i % 3));
        std::lock_guard<lockgraph::mutex> go(outer);
        std::lock_guard<lockgraph::mutex> gi(inner);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(interned_name_count(), before);
}

// Control (passes today): unnamed lifetimes keep the heap flat.
TEST(Scale, UnnamedLifetimesKeepTheHeapFlat) {
  SKIP_IF_SANITIZED();
  constexpr int kLifetimes = 100'000;
  { lockgraph::mutex warm; std::lock_guard<lockgraph::mutex> g(warm); }
  const std::int64_t before = heap_in_use();
  for (int i = 0; i < kLifetimes; ++i) {
    lockgraph::mutex m;
    std::lock_guard<lockgraph::mutex> g(m);
  }
  EXPECT_LE(heap_in_use() - before, 1 << 20);
}

// ---- item 10: graph memory and output size ----------------------------------------------------------

constexpr std::size_t kGraphLocks = 300;  // nested pairwise in one order: 44,850 distinct edges

void make_all_pairs(std::deque<lockgraph::mutex>& locks, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      std::lock_guard<lockgraph::mutex> gi(locks[i]);
      std::lock_guard<lockgraph::mutex> gj(locks[j]);
    }
  }
}

// The cost of a distinct edge (the stacks of an edge matter only when it is in a report: keep them
// compact or capture lazily). Bound chosen for the fix: at most 256 B per edge, all included
// (today 504 B measured here; the issue saw ~300-430 B).
TEST(Scale, PerEdgeMemoryIsBounded) {
  SKIP_IF_SANITIZED();
  std::deque<lockgraph::mutex> locks;
  // Two more locks from the same construction site, nested once before measuring: the one-time cost of
  // that site's label (built inside std::deque, so resolved by symbolizing once, cached) is not an
  // edge's.
  for (std::size_t i = 0; i < kGraphLocks + 2; ++i) locks.emplace_back();
  { std::lock_guard<lockgraph::mutex> a(locks[kGraphLocks]); std::lock_guard<lockgraph::mutex> b(locks[kGraphLocks + 1]); }
  const std::int64_t before = heap_in_use();
  const std::size_t edges_before = lockgraph::detail::rt().graph.edge_count();
  make_all_pairs(locks, kGraphLocks);
  const std::int64_t grown = heap_in_use() - before;
  const std::size_t edges = lockgraph::detail::rt().graph.edge_count() - edges_before;
  ASSERT_EQ(edges, kGraphLocks * (kGraphLocks - 1) / 2);
  EXPECT_LE(grown / static_cast<std::int64_t>(edges), 256) << "bytes per edge; total " << grown;
}

// The whole-graph DOT of a big graph stays renderable: at most 1 MiB, and it says what it left out
// ("omitted"), instead of one box per lock and one arrow per edge (today ~4 MB here; 200 MB seen).
TEST(Scale, WholeGraphDotIsBoundedAtScale) {
  std::deque<lockgraph::mutex> locks;
  for (std::size_t i = 0; i < kGraphLocks; ++i) locks.emplace_back();
  make_all_pairs(locks, locks.size());
  const std::string dot = lockgraph::lock_order_dot();
  EXPECT_LE(dot.size(), std::size_t{1} << 20);
  EXPECT_NE(dot.find("omitted"), std::string::npos) << dot.substr(0, 400);
}

// A cap on the graph: max_edges=N (a new option) stops recording new edges past N, with one clear
// notice naming the option, instead of unbounded growth.
TEST(Scale, MaxEdgesCapsTheGraphWithOneNotice) {
  const lgtest::run_result r = lgtest::run({lgtest::program("life_edges_program"), "edge_cap", "100"},
                                           {{"LOCKGRAPH_OPTIONS", "max_edges=1000"}}, 60s);
  ASSERT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_NE(r.out.find("edges made"), std::string::npos) << r.describe();
  EXPECT_EQ(lgtest::count_of(r.err, "max_edges=1000"), 1u) << r.describe();
}

}  // namespace
