// tests/stress_test.cpp: many threads, many locks, one global order (suite LockOrderStress).
//
// Shapes, after folly's DistributedMutex stress tests:
//  - StressEightThreadsGlobalOrder: 8 threads take random subsets of 40 locks, always in one global
//    order, in random modes (blocking exclusive, shared, try); zero reports.
//  - StressEightThreadsOnePlantedInversion: the same, and once, while the other threads wait at a
//    barrier, one thread takes one pair the other way round: exactly one report, of exactly that pair.
//  - StressHardwareConcurrencyThreads: hardware_concurrency() threads (at least 2) walk paths of a
//    random DAG of locks, holding every lock on the path; zero reports, exactly the walked edges in
//    the graph, then one reversed pair: exactly one report.
//  - StressLockLifetimesUnderContention: threads create and destroy locks nested under shared
//    long-lived ones while others use them; zero reports; the graph ends with the long-lived locks only.
// Every run starts all threads together with a std::barrier. Iteration counts are cut 10x under the
// sanitizers; each test takes a few seconds at most in a normal build.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "lockgraph/lockgraph.hpp"
#include "runtime/runtime.hpp"
#include "support/reports.hpp"
#include "support/sanitizers.hpp"

namespace {

using lgtest::report_watch;

#if LGTEST_TSAN || LGTEST_ASAN
constexpr int kScale = 10;
#else
constexpr int kScale = 1;
#endif

constexpr int kLocks = 40;
constexpr int kThreads = 8;

std::string name(const char* prefix, int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%02d", prefix, i);
  return buf;
}

// kLocks shared mutexes S00..S39; the global order is the index order.
struct ordered_locks {
  std::deque<lockgraph::shared_mutex> locks;
  ordered_locks() {
    for (int i = 0; i < kLocks; ++i) locks.emplace_back(name("S", i));
  }
};

// One iteration: a random subset of up to 6 locks, taken in index order, each blocking exclusive,
// shared or try (a failed try just skips the lock); released in a random order.
void one_round(ordered_locks& set, std::mt19937_64& rng) {
  enum mode : std::uint8_t { exclusive, shared, tried_exclusive, tried_shared };
  struct taken {
    int index;
    mode how;
  };
  taken held[6];
  int n = 0;
  const std::uint64_t bits = rng();
  for (int i = 0; i < kLocks && n < 6; ++i) {
    if (((bits >> i) & 1) == 0 || ((bits >> (i + 24) % 64) & 1) == 0) continue;  // ~1/4 of the locks
    auto& m = set.locks[i];
    switch (rng() % 4) {
      case 0: m.lock(); held[n++] = {i, exclusive}; break;
      case 1: m.lock_shared(); held[n++] = {i, shared}; break;
      case 2: if (m.try_lock()) held[n++] = {i, tried_exclusive}; break;
      default: if (m.try_lock_shared()) held[n++] = {i, tried_shared}; break;
    }
  }
  std::shuffle(held, held + n, rng);
  for (int k = 0; k < n; ++k) {
    auto& m = set.locks[held[k].index];
    if (held[k].how == exclusive || held[k].how == tried_exclusive) {
      m.unlock();
    } else {
      m.unlock_shared();
    }
  }
}

TEST(LockOrderStress, StressEightThreadsGlobalOrder) {
  report_watch w;
  ordered_locks set;
  const int iterations = 30000 / kScale;
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1000 + t);
      start.arrive_and_wait();
      for (int i = 0; i < iterations; ++i) one_round(set, rng);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(w.kinds(), "");
  EXPECT_GT(lockgraph::detail::rt().graph.edge_count(), 0u);  // the threads did nest locks
}

// S07 -> S20 is made first (a direct edge, so the shortest cycle through the planted edge is the
// pair). Halfway, every thread stops at a barrier; the planter takes S20 then S07 (nothing else held,
// and nobody else running, so it cannot really deadlock); everyone goes on.
TEST(LockOrderStress, StressEightThreadsOnePlantedInversion) {
  report_watch w;
  ordered_locks set;
  {
    std::lock_guard<lockgraph::shared_mutex> a(set.locks[7]);
    std::lock_guard<lockgraph::shared_mutex> b(set.locks[20]);
  }
  const int iterations = 30000 / kScale;
  constexpr int kPlanter = 5;
  std::barrier start(kThreads), halfway(kThreads), planted(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      if (t == kPlanter) lockgraph::set_thread_name("planter");
      std::mt19937_64 rng(2000 + t);
      start.arrive_and_wait();
      for (int i = 0; i < iterations / 2; ++i) one_round(set, rng);
      halfway.arrive_and_wait();
      if (t == kPlanter) {
        std::lock_guard<lockgraph::shared_mutex> b(set.locks[20]);
        std::lock_guard<lockgraph::shared_mutex> a(set.locks[7]);
      }
      planted.arrive_and_wait();
      for (int i = 0; i < iterations / 2; ++i) one_round(set, rng);
    });
  }
  for (auto& t : threads) t.join();
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u) << lgtest::kinds_of(reps);
  EXPECT_EQ(reps[0].kind, lockgraph::report_kind::lock_order_inversion);
  EXPECT_EQ(lgtest::canonical_cycle(reps[0]), "S07 => S20 => S07");
  EXPECT_EQ(reps[0].thread.name, "planter");
  EXPECT_EQ(lgtest::held_of(reps[0]), "S20");
}

// A random DAG over 48 locks (a random topological order, each lock with edges to up to 3 later
// ones); every thread repeatedly walks a random path along the edges, holding each lock on the path.
// Zero reports, and the graph holds exactly the lock-order edges the walks made (from the nearest held
// lock to the next one; no edge lost under contention, none invented). Then the main thread takes one
// walked pair the other way round: exactly one report, of exactly that pair, found in the big graph.
TEST(LockOrderStress, StressHardwareConcurrencyThreads) {
  report_watch w;
  auto& graph = lockgraph::detail::rt().graph;
  const std::size_t edges0 = graph.edge_count();
  constexpr int kN = 48;
  const int threads_n = std::max(2u, std::thread::hardware_concurrency());
  const int iterations = 100000 / kScale;
  std::mt19937 rng(424242);
  std::deque<lockgraph::mutex> locks;
  for (int i = 0; i < kN; ++i) locks.emplace_back(name("V", i));
  std::vector<int> order(kN);
  for (int i = 0; i < kN; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::vector<int>> next(kN);  // by position in `order`
  for (int p = 0; p + 1 < kN; ++p) {
    const int fanout = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < fanout; ++k) {
      next[p].push_back(p + 1 + static_cast<int>(rng() % static_cast<unsigned>(std::min(kN - p - 1, 8))));
    }
  }
  std::barrier start(threads_n);
  std::vector<std::vector<std::uint64_t>> pairs(threads_n);  // from * kN + to, per thread
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 r(7 + t);
      std::vector<int> path;
      std::vector<std::uint64_t>& made = pairs[t];
      start.arrive_and_wait();
      for (int i = 0; i < iterations; ++i) {
        int p = static_cast<int>(r() % kN);
        const int length = 1 + static_cast<int>(r() % 6);
        path.clear();
        for (;;) {
          locks[order[p]].lock();
          // Edges go from the nearest held lock (all are exclusive): a -> b -> c records a -> b, b -> c.
          if (!path.empty()) made.push_back(static_cast<std::uint64_t>(path.back()) * kN + order[p]);
          path.push_back(order[p]);
          if (static_cast<int>(path.size()) == length || next[p].empty()) break;
          p = next[p][r() % next[p].size()];
        }
        for (auto it = path.rbegin(); it != path.rend(); ++it) locks[*it].unlock();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(w.kinds(), "");

  std::vector<std::uint64_t> all;
  for (auto& v : pairs) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  EXPECT_EQ(graph.edge_count() - edges0, all.size());

  // Cycle: the first walked pair x -> y, closed by y -> x.
  ASSERT_FALSE(all.empty());
  const int x = static_cast<int>(all.front() / kN), y = static_cast<int>(all.front() % kN);
  {
    std::lock_guard<lockgraph::mutex> gy(locks[y]);
    std::lock_guard<lockgraph::mutex> gx(locks[x]);
  }
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].kind, lockgraph::report_kind::lock_order_inversion);
  // x ~> y may run through other locks (shortest path in the graph), so the cycle holds
  // at least these two.
  const auto& cyc = reps[0].locks;
  EXPECT_NE(std::find(cyc.begin(), cyc.end(), name("V", x)), cyc.end()) << lgtest::cycle_of(reps[0]);
  EXPECT_NE(std::find(cyc.begin(), cyc.end(), name("V", y)), cyc.end()) << lgtest::cycle_of(reps[0]);
  EXPECT_EQ(lgtest::held_of(reps[0]), name("V", y));
}

// Threads create short-lived locks and nest them under 8 long-lived ones (in order) while other
// threads do the same: node removal races with edge insertion. Zero reports; at the end only the
// long-lived locks have nodes.
TEST(LockOrderStress, StressLockLifetimesUnderContention) {
  report_watch w;
  auto& g = lockgraph::detail::rt().graph;
  const std::size_t nodes0 = g.node_count(), edges0 = g.edge_count();
  {
    std::deque<lockgraph::mutex> anchors;
    for (int i = 0; i < 8; ++i) anchors.emplace_back(name("A", i));
    const int iterations = 5000 / kScale;
    constexpr int kWorkers = 4;
    std::barrier start(kWorkers);
    std::vector<std::thread> threads;
    for (int t = 0; t < kWorkers; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 r(99 + t);
        start.arrive_and_wait();
        for (int i = 0; i < iterations; ++i) {
          const int first = static_cast<int>(r() % 8);
          const int second = first + static_cast<int>(r() % (8 - first));
          lockgraph::mutex fresh;
          std::unique_lock<lockgraph::mutex> l1(anchors[first]);
          std::unique_lock<lockgraph::mutex> l2(anchors[second], std::defer_lock);
          if (second != first) l2.lock();
          std::lock_guard<lockgraph::mutex> l3(fresh);
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(g.node_count() - nodes0, 8u);
  }
  EXPECT_EQ(g.node_count() - nodes0, 0u);
  EXPECT_EQ(g.edge_count() - edges0, 0u);
  EXPECT_EQ(w.kinds(), "");
}

}  // namespace
