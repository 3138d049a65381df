// tests/lifetime_test.cpp: lock lifetime (issue 2, items 5 and 6). Destroying a lock removes its
// node and edges; a new lock at a reused address is a new node; memory follows what is live.
//
// Graph sizes are read white-box through detail::rt().graph (detector/ is on the tests' include
// path), always as differences from the size at the start of the test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>

#include "lockgraph/lockgraph.hpp"
#include "runtime/runtime.hpp"
#include "support/reports.hpp"
#include "support/threads.hpp"
#include "support/sanitizers.hpp"

namespace {

using lgtest::canonical_cycle;
using lgtest::report_watch;
using lgtest::in_thread;
using lgtest::nest;

#if LGTEST_TSAN || LGTEST_ASAN
constexpr bool kSanitized = true;  // shadow memory and quarantines make RSS meaningless; loops are shorter
#else
constexpr bool kSanitized = false;
#endif

lockgraph::detail::lock_order_graph& graph() { return lockgraph::detail::rt().graph; }

// A lock type that also shows its graph node id (0 until it first nests with another lock). The
// recursive types keep their lock_meta private: for them node() is not available.
template <class Base>
struct probe : Base {
  explicit probe(std::string_view n) : Base(n) {}
  std::uint64_t node() const
    requires(!Base::is_recursive_mutex)
  {
    return this->meta_.node.load();
  }
};

std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

// a -> b, then b is destroyed: b's node and the edge are gone, a's node stays.
TEST(Lifetime, DestroyingALockRemovesItsNodeAndEdges) {
  report_watch w;
  const std::size_t nodes0 = graph().node_count(), edges0 = graph().edge_count();
  lockgraph::mutex a("a");
  {
    lockgraph::mutex b("b");
    lockgraph::shared_mutex s("s");
    nest(a, b);
    {
      std::lock_guard<lockgraph::mutex> ga(a);
      std::shared_lock<lockgraph::shared_mutex> gs(s);
    }
    EXPECT_EQ(graph().node_count() - nodes0, 3u);
    EXPECT_EQ(graph().edge_count() - edges0, 2u);
  }
  EXPECT_EQ(graph().node_count() - nodes0, 1u);
  EXPECT_EQ(graph().edge_count() - edges0, 0u);
  EXPECT_EQ(w.kinds(), "");
}

// a -> b; b destroyed; a new lock b' built in the same storage (same address): b' -> a is not an
// inversion. b' has a different node id (a generation). Control: a -> b' then is one.
template <class B>
void check_reused_address() {
  report_watch w;
  lockgraph::mutex a("a");
  std::optional<probe<B>> b;
  b.emplace("b");
  const void* first_address = &*b;
  in_thread([&] { nest(a, *b); });
  [[maybe_unused]] std::uint64_t first_node = 0;
  if constexpr (!B::is_recursive_mutex) {
    first_node = b->node();
    ASSERT_NE(first_node, 0u);
  }
  b.reset();
  b.emplace("b");
  ASSERT_EQ(static_cast<const void*>(&*b), first_address);
  if constexpr (!B::is_recursive_mutex) {
    EXPECT_EQ(b->node(), 0u);  // no node until it nests
  }
  in_thread([&] { nest(*b, a); });
  EXPECT_EQ(w.kinds(), "") << "the destroyed lock's edge a -> b was applied to the new lock";
  if constexpr (!B::is_recursive_mutex) {
    EXPECT_NE(b->node(), 0u);
    EXPECT_NE(b->node(), first_node) << "a reused address got the old node id";
  }
  in_thread([&] { nest(a, *b); });
  EXPECT_EQ(w.kinds(), "lock_order_inversion");
}

TEST(Lifetime, NewMutexAtAReusedAddressIsANewNode) { check_reused_address<lockgraph::mutex>(); }
TEST(Lifetime, NewRecursiveMutexAtAReusedAddressIsANewNode) { check_reused_address<lockgraph::recursive_mutex>(); }
TEST(Lifetime, NewSharedMutexAtAReusedAddressIsANewNode) { check_reused_address<lockgraph::shared_mutex>(); }

// The same with placement new over raw storage, destroyed and rebuilt many times, nested both ways
// with one long-lived lock in turns: never a report.
TEST(Lifetime, PlacementNewInTheSameStorageNeverInheritsEdges) {
  report_watch w;
  lockgraph::mutex a("a");
  alignas(lockgraph::mutex) unsigned char storage[sizeof(lockgraph::mutex)];
  for (int i = 0; i < 200; ++i) {
    auto* m = new (storage) lockgraph::mutex("same place");
    if (i % 2 == 0) {
      nest(a, *m);
    } else {
      nest(*m, a);
    }
    m->~mutex();
  }
  EXPECT_EQ(w.kinds(), "");
}

// T1: a -> b -> c (b in the middle, so a reaches c only through b). b is destroyed. T2: c -> a.
// Thread T1 did hold a while it acquired c: the inversion a/c is real and must still be found.
TEST(Lifetime, DestroyingAMiddleLockKeepsTheOrderOfTheLocksAroundIt) {
  report_watch w;
  lockgraph::mutex a("a"), c("c");
  {
    lockgraph::mutex b("b");
    in_thread([&] {
      std::lock_guard<lockgraph::mutex> ga(a);
      std::lock_guard<lockgraph::mutex> gb(b);
      std::lock_guard<lockgraph::mutex> gc(c);
    });
  }
  in_thread([&] { nest(c, a); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u) << "a was held while c was acquired, but after b's destruction c -> a is not an inversion";
  EXPECT_EQ(canonical_cycle(reps[0]), "a => c => a");
}

// Edges go from the nearest held lock (a -> b -> c -> d records three edges), so the order a -> d runs
// through b and c. Destroying both middle locks, in either order, must keep it: a and d were held
// together. The control: order that only chains through a destroyed lock at different times (x -> y
// in one nesting, y -> z in another, never held together) is gone with y.
TEST(Lifetime, DestroyingSeveralMiddleLocksKeepsTheOrderOfADeepNesting) {
  for (const bool c_first : {false, true}) {
    report_watch w;
    // Other names in each round: the same names again would be the same bug (one fingerprint), which
    // adds an occurrence to round one's report instead of raising another.
    const std::string p = c_first ? "deeper " : "deep ";
    lockgraph::mutex a(p + "a"), d(p + "d");
    {
      std::optional<lockgraph::mutex> b, c;
      b.emplace(p + "b");
      c.emplace(p + "c");
      in_thread([&] {
        std::lock_guard<lockgraph::mutex> ga(a);
        std::lock_guard<lockgraph::mutex> gb(*b);
        std::lock_guard<lockgraph::mutex> gc(*c);
        std::lock_guard<lockgraph::mutex> gd(d);
      });
      if (c_first) c.reset();
      b.reset();
      c.reset();
    }
    in_thread([&] { nest(d, a); });
    const auto reps = w.fresh();
    ASSERT_EQ(reps.size(), 1u) << "c_first=" << c_first;
    EXPECT_EQ(canonical_cycle(reps[0]), p + "a => " + p + "d => " + p + "a");
  }
  report_watch w;
  lockgraph::mutex x("sep x"), z("sep z");
  {
    lockgraph::mutex y("sep y");
    in_thread([&] { nest(x, y); });
    in_thread([&] { nest(y, z); });
  }
  in_thread([&] { nest(z, x); });
  EXPECT_EQ(w.kinds(), "") << "x and z were never held together";
}

// Reports keep their labels and stacks after the locks are gone.
TEST(Lifetime, ReportsOutliveTheirLocks) {
  report_watch w;
  {
    lockgraph::mutex a("short-lived a"), b("short-lived b");
    in_thread([&] { nest(a, b); });
    in_thread([&] { nest(b, a); });
  }
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(canonical_cycle(reps[0]), "short-lived a => short-lived b => short-lived a");
  const std::string text = lockgraph::to_text(reps[0]);
  EXPECT_NE(text.find("short-lived b acquired while holding short-lived a"), std::string::npos) << text;
  EXPECT_NE(lockgraph::to_json(reps[0]).find("short-lived a"), std::string::npos);
}

// One million locks, each created, nested once under a long-lived lock (so it gets a node and an
// edge), and destroyed. Memory after 1M is what it was after 100k (within 4 MB); the graph holds
// nothing but the long-lived lock at the end; no report.
TEST(Lifetime, OneMillionLockLifetimesKeepMemoryFlat) {
  report_watch w;
  const int total = kSanitized ? 200'000 : 1'000'000;
  const int warmup = total / 10;
  const std::size_t nodes0 = graph().node_count(), edges0 = graph().edge_count();
  lockgraph::mutex outer("outer");
  auto lifetimes = [&](int n) {
    for (int i = 0; i < n; ++i) {
      lockgraph::mutex m;
      std::lock_guard<lockgraph::mutex> go(outer);
      std::lock_guard<lockgraph::mutex> gm(m);
    }
  };
  std::size_t rss_warm = 0, graph_warm = 0, rss_end = 0, graph_end = 0;
  // On a named thread: for an unnamed one lockgraph reads /proc/self/task/<tid>/comm for every new
  // edge (describe() in detector/threads/thread_registry.cpp), which makes 1M new edges take over a minute.
  in_thread([&] {
    lockgraph::set_thread_name("lifetimes");
    lifetimes(warmup);
    EXPECT_EQ(graph().node_count() - nodes0, 1u);
    EXPECT_EQ(graph().edge_count() - edges0, 0u);
    rss_warm = resident_bytes();
    graph_warm = graph().memory_bytes();
    lifetimes(total - warmup);
    rss_end = resident_bytes();
    graph_end = graph().memory_bytes();
  });
  EXPECT_EQ(graph().node_count() - nodes0, 1u);
  EXPECT_EQ(graph().edge_count() - edges0, 0u);
  EXPECT_LE(graph_end, graph_warm + 64 * 1024) << "graph memory grew from " << graph_warm << " to " << graph_end;
  if (!kSanitized) {
    EXPECT_LE(rss_end, rss_warm + 4 * 1024 * 1024)
        << "RSS grew from " << rss_warm / 1024 << " KiB to " << rss_end / 1024 << " KiB";
  }
  EXPECT_EQ(w.kinds(), "");
}

// 100k live locks, each nested once under one lock: 100k nodes and edges; an inversion with the last
// one is still found; destroying everything leaves no node and no edge.
TEST(Lifetime, HundredThousandLiveLocksThenNone) {
  report_watch w;
  constexpr int kN = 100'000;
  const std::size_t nodes0 = graph().node_count(), edges0 = graph().edge_count();
  auto locks = std::make_unique<std::deque<lockgraph::mutex>>();
  auto outer = std::make_unique<lockgraph::mutex>("outer");
  in_thread([&] {
    lockgraph::set_thread_name("builder");  // see OneMillionLockLifetimesKeepMemoryFlat
    for (int i = 0; i < kN; ++i) {
      locks->emplace_back();
      nest(*outer, locks->back());
    }
  });
  EXPECT_EQ(graph().node_count() - nodes0, static_cast<std::size_t>(kN) + 1);
  EXPECT_EQ(graph().edge_count() - edges0, static_cast<std::size_t>(kN));
  EXPECT_EQ(w.kinds(), "");
  in_thread([&] { nest(locks->back(), *outer); });
  {
    const auto reps = w.fresh();
    ASSERT_EQ(reps.size(), 1u);
    ASSERT_EQ(reps[0].locks.size(), 2u);
    const auto cycle = lgtest::cycle_from(reps[0], "outer");
    EXPECT_EQ(cycle[0], "outer");
    EXPECT_FALSE(cycle[1].empty());
    EXPECT_NE(cycle[1], "outer");
  }
  locks.reset();
  outer.reset();
  EXPECT_EQ(graph().node_count() - nodes0, 0u);
  EXPECT_EQ(graph().edge_count() - edges0, 0u);
}

// A shared lock nested in both modes under the same successor (A exclusive -> B, then A shared -> B)
// makes two lock-level edges. Destroying both locks must forget both: over 20k such pairs the graph's
// memory stays what it was after the first 2k.
TEST(Lifetime, SharedLockNestedInBothModesLeavesNothingBehind) {
  report_watch w;
  auto pair_lifetime = [] {
    lockgraph::shared_mutex a("a");
    lockgraph::mutex b("b");
    {
      std::lock_guard<lockgraph::shared_mutex> ga(a);
      std::lock_guard<lockgraph::mutex> gb(b);
    }
    {
      std::shared_lock<lockgraph::shared_mutex> ga(a);
      std::lock_guard<lockgraph::mutex> gb(b);
    }
  };
  const std::size_t edges0 = graph().edge_count();
  std::size_t warm = 0, end = 0;
  in_thread([&] {
    lockgraph::set_thread_name("pairs");
    for (int i = 0; i < 2000; ++i) pair_lifetime();
    warm = graph().memory_bytes();
    for (int i = 0; i < 18000; ++i) pair_lifetime();
    end = graph().memory_bytes();
  });
  EXPECT_EQ(graph().edge_count() - edges0, 0u);
  EXPECT_LE(end, warm + 64 * 1024) << "graph memory grew from " << warm << " to " << end << " bytes";
  EXPECT_EQ(w.kinds(), "");
}

// Every lock type's destructor removes its node(s): mixed types, nested, all destroyed.
TEST(Lifetime, EveryLockTypeRemovesItsNodesWhenDestroyed) {
  const std::size_t nodes0 = graph().node_count(), edges0 = graph().edge_count();
  {
    lockgraph::mutex a("a");
    lockgraph::timed_mutex b("b");
    lockgraph::recursive_mutex c("c");
    lockgraph::recursive_timed_mutex d("d");
    lockgraph::shared_mutex e("e");
    lockgraph::shared_timed_mutex f("f");
    std::lock_guard<lockgraph::mutex> ga(a);
    std::lock_guard<lockgraph::timed_mutex> gb(b);
    std::lock_guard<lockgraph::recursive_mutex> gc(c);
    std::lock_guard<lockgraph::recursive_timed_mutex> gd(d);
    std::shared_lock<lockgraph::shared_mutex> ge(e);
    std::lock_guard<lockgraph::shared_timed_mutex> gf(f);
    EXPECT_EQ(graph().node_count() - nodes0, 6u);
  }
  EXPECT_EQ(graph().node_count() - nodes0, 0u);
  EXPECT_EQ(graph().edge_count() - edges0, 0u);
}

}  // namespace
