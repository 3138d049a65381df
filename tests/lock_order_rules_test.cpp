// tests/lock_order_rules_test.cpp: the lock-order rules of issue 2, item 4, one test (or more) per rule,
// each built so that it fails if the rule is missing.
//
// Scenario comments above each test give the edges in the order they are made ("T1: a -> b" = thread
// T1 acquired b, blocking, while it held a). Unless a test is about concurrency, the threads of a
// scenario run one after the other (each joined before the next starts), so nothing can really hang.
// Tests that expect "no report" end with a positive control that closes a cycle the rule must not
// hide, so a detector that records nothing fails them too.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <deque>
#include <latch>
#include <mutex>
#include <random>
#include <semaphore>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "lockgraph/lockgraph.hpp"
#include "runtime/runtime.hpp"  // white-box: detail::rt().graph
#include "support/reports.hpp"
#include "support/threads.hpp"

namespace {

using namespace std::chrono_literals;
using lgtest::canonical_cycle;
using lgtest::report_watch;
using lgtest::in_thread;
using lgtest::nest;
using lockgraph::report_kind;

std::string name(const char* prefix, int i, int width = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%0*d", prefix, width, i);
  return buf;
}

std::size_t graph_edges() { return lockgraph::detail::rt().graph.edge_count(); }

// ---- try_lock and timed acquisitions -------------------------------------------------------------

// T1: a, then b.try_lock() (no edge a -> b). T2: b -> a. No cycle.
// Control: T3: a -> b (blocking) closes a -> b -> a.
TEST(LockOrder, TryLockAddsNoEdgeIntoTheLockItTakes) {
  report_watch w;
  lockgraph::mutex a("a"), b("b");
  in_thread([&] {
    std::lock_guard<lockgraph::mutex> ga(a);
    ASSERT_TRUE(b.try_lock());
    b.unlock();
  });
  in_thread([&] { nest(b, a); });
  EXPECT_EQ(w.kinds(), "") << "try_lock recorded an edge into the lock it took";
  in_thread([&] { nest(a, b); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(canonical_cycle(reps[0]), "a => b => a");
}

// The same for every non-blocking or timed way in: none records an edge into the lock it takes.
TEST(LockOrder, TimedAndTryAcquisitionsOfEveryTypeAddNoEdgeIntoTheLock) {
  report_watch w;
  lockgraph::mutex a("a");
  lockgraph::timed_mutex t1("timed.for"), t2("timed.until");
  lockgraph::recursive_mutex r1("recursive.try");
  lockgraph::recursive_timed_mutex r2("recursive_timed.for");
  lockgraph::shared_mutex s1("shared.try_shared");
  lockgraph::shared_timed_mutex s2("shared_timed.shared_for"), s3("shared_timed.shared_until"),
      s4("shared_timed.for");
  in_thread([&] {
    std::lock_guard<lockgraph::mutex> ga(a);
    ASSERT_TRUE(t1.try_lock_for(10s));
    t1.unlock();
    ASSERT_TRUE(t2.try_lock_until(std::chrono::steady_clock::now() + 10s));
    t2.unlock();
    ASSERT_TRUE(r1.try_lock());
    r1.unlock();
    ASSERT_TRUE(r2.try_lock_for(10s));
    r2.unlock();
    ASSERT_TRUE(s1.try_lock_shared());
    s1.unlock_shared();
    ASSERT_TRUE(s2.try_lock_shared_for(10s));
    s2.unlock_shared();
    ASSERT_TRUE(s3.try_lock_shared_until(std::chrono::steady_clock::now() + 10s));
    s3.unlock_shared();
    ASSERT_TRUE(s4.try_lock_for(10s));
    s4.unlock();
  });
  // Each of them -> a: a cycle only if one of the above had recorded a -> it.
  in_thread([&] {
    nest(t1, a);
    nest(t2, a);
    nest(r1, a);
    nest(r2, a);
    nest(s1, a);
    nest(s2, a);
    nest(s3, a);
    nest(s4, a);
  });
  EXPECT_EQ(w.kinds(), "");
  in_thread([&] { nest(a, s4); });  // control
  EXPECT_EQ(w.kinds(), "lock_order_inversion");
}

// T1: a.try_lock(), then b (blocking): a counts as held, so a -> b. T2: b -> a closes the cycle.
TEST(LockOrder, TryLockedLockCountsAsHeldForLaterAcquisitions) {
  report_watch w;
  lockgraph::mutex a("a"), b("b");
  in_thread([&] {
    ASSERT_TRUE(a.try_lock());
    b.lock();
    b.unlock();
    a.unlock();
  });
  EXPECT_EQ(w.kinds(), "");
  in_thread([&] { nest(b, a); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].kind, report_kind::lock_order_inversion);
  EXPECT_EQ(canonical_cycle(reps[0]), "a => b => a");
  ASSERT_EQ(reps[0].edges.size(), 2u);
}

// The same with a timed acquisition and with a shared try-lock as the held lock.
TEST(LockOrder, TimedAndSharedTryLockedLocksCountAsHeld) {
  report_watch w;
  lockgraph::timed_mutex t("t");
  lockgraph::shared_timed_mutex s("s");
  lockgraph::mutex b("b"), c("c");
  in_thread([&] {
    ASSERT_TRUE(t.try_lock_for(10s));
    b.lock();  // t -> b
    b.unlock();
    t.unlock();
  });
  in_thread([&] {
    ASSERT_TRUE(s.try_lock_shared_for(10s));
    c.lock();  // s (shared) -> c
    c.unlock();
    s.unlock_shared();
  });
  EXPECT_EQ(w.kinds(), "");
  in_thread([&] { nest(b, t); });  // closes t -> b -> t
  in_thread([&] { nest(c, s); });  // closes s -> c -> s (s taken exclusive here: a writer)
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 2u) << lgtest::kinds_of(reps);
  EXPECT_EQ(canonical_cycle(reps[0]), "b => t => b");
  EXPECT_EQ(canonical_cycle(reps[1]), "c => s => c");
}

// Stack a (blocking), t (try): taking c records t -> c and also a -> c, since nothing led into t.
// Then c -> a is a cycle a -> c -> a. Without the walk past try-locked entries, a -> c is missing.
TEST(LockOrder, EdgesFromLocksBelowATryLockedOneAreRecorded) {
  report_watch w;
  lockgraph::mutex a("a"), t("t"), c("c");
  in_thread([&] {
    std::lock_guard<lockgraph::mutex> ga(a);
    ASSERT_TRUE(t.try_lock());
    c.lock();
    c.unlock();
    t.unlock();
  });
  in_thread([&] { nest(c, a); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(canonical_cycle(reps[0]), "a => c => a");
}

// Stack a (exclusive), s (shared): taking c records s -> c and a -> c (a reader passes nothing on).
TEST(LockOrder, EdgesFromLocksBelowASharedOneAreRecorded) {
  report_watch w;
  lockgraph::mutex a("a"), c("c");
  lockgraph::shared_mutex s("s");
  in_thread([&] {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::shared_lock<lockgraph::shared_mutex> gs(s);
    std::lock_guard<lockgraph::mutex> gc(c);
  });
  in_thread([&] { nest(c, a); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(canonical_cycle(reps[0]), "a => c => a");
}

// ---- recursion ---------------------------------------------------------------------------------------

// r, a, then r again (re-entry): no edge a -> r, no self-deadlock. Control: a -> r from another
// thread is a real inversion against r -> a.
TEST(LockOrder, RecursiveReentryAddsNothing) {
  report_watch w;
  lockgraph::recursive_mutex r("r");
  lockgraph::recursive_timed_mutex rt("rt");
  lockgraph::mutex a("a");
  const std::size_t edges_before = graph_edges();
  in_thread([&] {
    r.lock();
    rt.lock();
    a.lock();
    r.lock();                      // re-entry by lock()
    ASSERT_TRUE(r.try_lock());     // re-entry by try_lock()
    ASSERT_TRUE(rt.try_lock_for(1s));  // re-entry by a timed function
    { std::lock_guard<lockgraph::recursive_timed_mutex> g(rt); }
    rt.unlock();
    r.unlock();
    r.unlock();
    a.unlock();
    rt.unlock();
    r.unlock();
  });
  EXPECT_EQ(w.kinds(), "");
  // Edges go from the nearest held lock taken blocking and exclusive (see docs/DESIGN.md): r -> rt and
  // rt -> a (r -> a follows through rt); none into r.
  EXPECT_EQ(graph_edges() - edges_before, 2u) << "expected only r -> rt and rt -> a";
  in_thread([&] { nest(a, r); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].kind, report_kind::lock_order_inversion);
}

// ---- readers and writers (lockdep's recursive-read rule) -----------------------------------------

// T1: shared(A) -> shared(B); T2: shared(B) -> shared(A). Readers never block readers: no report.
TEST(LockOrder, CycleOfSharedToSharedDependenciesIsNotReported) {
  report_watch w;
  lockgraph::shared_mutex A("A"), B("B");
  in_thread([&] {
    std::shared_lock<lockgraph::shared_mutex> ga(A);
    std::shared_lock<lockgraph::shared_mutex> gb(B);
  });
  in_thread([&] {
    std::shared_lock<lockgraph::shared_mutex> gb(B);
    std::shared_lock<lockgraph::shared_mutex> ga(A);
  });
  EXPECT_EQ(w.kinds(), "");
  // Control: a writer on the way makes it a cycle. T3: A (exclusive) -> B (exclusive) against T2's
  // B(s) -> A(s): T3 holds A and waits for B, which reader T2 holds while it waits for A.
  in_thread([&] { nest(A, B); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(canonical_cycle(reps[0]), "A => B => A");
}

// Three readers in a ring: still no report.
//
// The edges are recorded all the same (a detector that dropped them would also report nothing), and
// they still count: T4 then takes B exclusive -> A exclusive, and with T1's shared(A) -> shared(B)
// that is a real deadlock (T4 holds B and waits for A, held by reader T1, which waits for B). Exactly
// that cycle is reported.
TEST(LockOrder, LongerSharedOnlyCycleIsNotReported) {
  report_watch w;
  auto& graph = lockgraph::detail::rt().graph;
  const std::size_t edges0 = graph.edge_count();
  lockgraph::shared_timed_mutex A("A"), B("B"), C("C");
  auto shared_pair = [](auto& x, auto& y) {
    std::shared_lock<lockgraph::shared_timed_mutex> gx(x);
    std::shared_lock<lockgraph::shared_timed_mutex> gy(y);
  };
  in_thread([&] { shared_pair(A, B); });
  in_thread([&] { shared_pair(B, C); });
  in_thread([&] { shared_pair(C, A); });
  EXPECT_EQ(w.kinds(), "");
  EXPECT_EQ(graph.edge_count() - edges0, 3u);  // A -> B, B -> C, C -> A, all accepted

  in_thread([&] {
    std::unique_lock<lockgraph::shared_timed_mutex> gb(B);
    std::unique_lock<lockgraph::shared_timed_mutex> ga(A);
  });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].kind, report_kind::lock_order_inversion);
  EXPECT_EQ(canonical_cycle(reps[0]), "A => B => A");
}

// T1: shared(A) -> B; T2: B -> A (exclusive). T2 holds B and waits for A held by reader T1, which
// waits for B: a deadlock with one reader in it. Reported.
TEST(LockOrder, ReaderThenWriterCycleIsReported) {
  report_watch w;
  lockgraph::shared_mutex A("A");
  lockgraph::mutex B("B");
  in_thread([&] {
    std::shared_lock<lockgraph::shared_mutex> ga(A);
    std::lock_guard<lockgraph::mutex> gb(B);
  });
  EXPECT_EQ(w.kinds(), "");
  in_thread([&] { nest(B, A); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(canonical_cycle(reps[0]), "A => B => A");
  ASSERT_EQ(reps[0].edges.size(), 2u);
  // edges[i] is locks[i] -> locks[i + 1]: A -> B was taken with A shared.
  const auto& ab = reps[0].edges[reps[0].locks[0] == "A" ? 0 : 1];
  EXPECT_EQ(ab.from, "A");
  EXPECT_TRUE(ab.from_shared);
  EXPECT_FALSE(ab.to_shared);
}

// T1: A (exclusive) -> shared(B); T2: B (exclusive) -> A. T1 waits for B held by writer T2; T2 waits
// for A held by T1. Reported.
TEST(LockOrder, WriterThenReaderAgainstWriterCycleIsReported) {
  report_watch w;
  lockgraph::mutex A("A");
  lockgraph::shared_mutex B("B");
  in_thread([&] {
    std::lock_guard<lockgraph::mutex> ga(A);
    std::shared_lock<lockgraph::shared_mutex> gb(B);
  });
  in_thread([&] { nest(B, A); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(canonical_cycle(reps[0]), "A => B => A");
}

// T1: A (exclusive) -> shared(B); T2: shared(B) -> A. Nobody ever holds B exclusive, so T1 never waits
// for T2: lockdep's own example of a path that is not a dependency (A -(ER)-> B -(SN)-> A). Not
// reported. (With a writer-preferring rwlock and a third thread queueing for B exclusive this could
// hang; lockgraph follows lockdep's recursive-read rule, which the README documents.)
TEST(LockOrder, WriterThenReaderAgainstReaderCycleIsNotReported) {
  report_watch w;
  lockgraph::mutex A("A");
  lockgraph::shared_mutex B("B");
  in_thread([&] {
    std::lock_guard<lockgraph::mutex> ga(A);
    std::shared_lock<lockgraph::shared_mutex> gb(B);
  });
  in_thread([&] {
    std::shared_lock<lockgraph::shared_mutex> gb(B);
    std::lock_guard<lockgraph::mutex> ga(A);
  });
  EXPECT_EQ(w.kinds(), "");
  in_thread([&] { nest(B, A); });  // control: now a writer holds B while taking A
  EXPECT_EQ(w.kinds(), "lock_order_inversion");
}

// Linux's lib/locking-selftest.c cases for recursive readers (E/S = held exclusive/shared,
// N/R = acquired exclusive/shared):
//   1. X -(ER)-> Y -(ER)-> Z -(ER)-> X   deadlock
//   2. X -(EN)-> Y -(SR)-> Z -(ER)-> X   deadlock
//   3. X -(EN)-> Y -(SR)-> Z -(SN)-> X   not a deadlock
//   4. X -(ER)-> Y -(SR)-> Z -(EN)-> X   not a deadlock
enum class held_as { exclusive, shared };
enum class taken_as { exclusive, shared };

void dependency(lockgraph::shared_mutex& from, held_as h, lockgraph::shared_mutex& to, taken_as t) {
  in_thread([&] {
    if (h == held_as::exclusive) from.lock(); else from.lock_shared();
    if (t == taken_as::exclusive) to.lock(); else to.lock_shared();
    if (t == taken_as::exclusive) to.unlock(); else to.unlock_shared();
    if (h == held_as::exclusive) from.unlock(); else from.unlock_shared();
  });
}

TEST(LockOrder, LockdepSelftestRecursiveReadCases) {
  constexpr auto E = held_as::exclusive, S = held_as::shared;
  constexpr auto N = taken_as::exclusive, R = taken_as::shared;
  struct scenario {
    const char* name;
    held_as h1; taken_as t1; held_as h2; taken_as t2; held_as h3; taken_as t3;
    bool reported;
  };
  const scenario cases[] = {
      {"X-(ER)->Y-(ER)->Z-(ER)->X", E, R, E, R, E, R, true},
      {"X-(EN)->Y-(SR)->Z-(ER)->X", E, N, S, R, E, R, true},
      {"X-(EN)->Y-(SR)->Z-(SN)->X", E, N, S, R, S, N, false},
      {"X-(ER)->Y-(SR)->Z-(EN)->X", E, R, S, R, E, N, false},
  };
  for (const scenario& c : cases) {
    SCOPED_TRACE(c.name);
    report_watch w;
    lockgraph::shared_mutex X(std::string("X ") + c.name), Y(std::string("Y ") + c.name),
        Z(std::string("Z ") + c.name);
    dependency(X, c.h1, Y, c.t1);
    dependency(Y, c.h2, Z, c.t2);
    EXPECT_EQ(w.kinds(), "");
    dependency(Z, c.h3, X, c.t3);
    EXPECT_EQ(w.count(), c.reported ? 1u : 0u) << w.kinds();
  }
}

// ---- std::lock and std::scoped_lock --------------------------------------------------------------

// a -> b is recorded first; then threads take {b, a} and {a, b} through std::scoped_lock and std::lock
// concurrently, many times. Never reported (they take the first lock blocking with nothing held and
// the rest with try_lock). Control: b -> a nested by hand.
TEST(LockOrder, StdLockAndScopedLockAreNeverReported) {
  report_watch w;
  lockgraph::mutex a("a"), b("b");
  lockgraph::shared_mutex s("s");
  lockgraph::recursive_mutex r("r");
  nest(a, b);
  constexpr int kThreads = 4;
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < 500; ++i) {
        switch ((t + i) % 4) {
          case 0: { std::scoped_lock both(b, a); break; }
          case 1: { std::scoped_lock all(s, r, b, a); break; }
          case 2: {
            std::unique_lock<lockgraph::mutex> lb(b, std::defer_lock), la(a, std::defer_lock);
            std::lock(lb, la);
            break;
          }
          default: { std::scoped_lock both(a, s); break; }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(w.kinds(), "");
  nest(b, a);
  EXPECT_EQ(w.kinds(), "lock_order_inversion");
}

// ---- the edge is recorded before the thread blocks -----------------------------------------------

// T0: b -> a (earlier). Then H holds b; the main thread takes a and blocks on b. The a -> b edge must
// close the cycle, and be reported, while H still holds b: the report handler (running on the main
// thread before it blocks) signals H, which only then lets b go. If the edge were recorded after the
// acquisition, H would give up waiting after 30 s and the test would fail, not hang.
TEST(LockOrder, EdgeIsRecordedAndReportedBeforeTheThreadBlocks) {
  report_watch w;
  lockgraph::mutex a("a"), b("b");
  in_thread([&] { nest(b, a); });
  std::binary_semaphore reported(0);
  std::atomic<bool> reported_while_b_held{false};
  std::atomic<std::uint64_t> reporting_thread{~0ull};
  auto previous = lockgraph::set_report_handler([&](const lockgraph::report& r) {
    if (r.kind == report_kind::lock_order_inversion) {
      reporting_thread = r.thread.id;
      reported.release();
    }
  });
  std::latch b_held(1);
  std::thread h([&] {
    b.lock();
    b_held.count_down();
    reported_while_b_held = reported.try_acquire_for(30s);
    b.unlock();
  });
  b_held.wait();
  {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::lock_guard<lockgraph::mutex> gb(b);  // contended: H holds b
  }
  h.join();
  lockgraph::set_report_handler(previous);
  EXPECT_TRUE(reported_while_b_held.load());
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(canonical_cycle(reps[0]), "a => b => a");
  EXPECT_EQ(reporting_thread.load(), reps[0].thread.id);
  EXPECT_EQ(lgtest::held_of(reps[0]), "a");  // raised by the thread that held a, not by H
}

// ---- once per distinct cycle ------------------------------------------------------------------------

// a -> b, then b -> a 100 times in one thread and 100 times in each of 4 more threads: one report.
// A different cycle (b -> c -> b) is a second report.
TEST(LockOrder, EachDistinctCycleIsReportedOncePerProcess) {
  report_watch w;
  lockgraph::mutex a("a"), b("b"), c("c");
  in_thread([&] { nest(a, b); });
  in_thread([&] {
    for (int i = 0; i < 100; ++i) nest(b, a);
  });
  EXPECT_EQ(w.count(), 1u);
  // The threads run concurrently but take the inverted pairs one at a time (a real deadlock is not
  // what this test is about); the gate is a std::mutex, invisible to lockgraph.
  std::mutex gate;
  constexpr int kThreads = 4;
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < 100; ++i) {
        std::lock_guard<std::mutex> g(gate);
        nest(b, a);
        nest(a, b);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(w.count(), 1u);
  in_thread([&] { nest(b, c); });
  in_thread([&] {
    for (int i = 0; i < 100; ++i) nest(c, b);
  });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 2u);
  EXPECT_EQ(canonical_cycle(reps[0]), "a => b => a");
  EXPECT_EQ(canonical_cycle(reps[1]), "b => c => b");
}

// a -> b, b -> a (rejected, reported). The rejected edge stays out of the order, so a later a -> b ->
// c -> a is a new cycle and is found.
TEST(LockOrder, RejectedEdgeIsKeptOutOfTheOrder) {
  report_watch w;
  lockgraph::mutex a("a"), b("b"), c("c");
  nest(a, b);
  nest(b, a);
  ASSERT_EQ(w.count(), 1u);
  nest(b, c);
  EXPECT_EQ(w.count(), 1u);
  nest(c, a);
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 2u);
  EXPECT_EQ(canonical_cycle(reps[1]), "a => b => c => a");
}

// ---- cycle length and nesting depth ---------------------------------------------------------------

// Cycle: L00 -> L01 -> ... -> L49 -> L00. Reported once, with all 50 locks in order and 50 edges.
TEST(LockOrder, FiftyLockCycleIsReportedWithEveryLockInOrder) {
  report_watch w;
  constexpr int kN = 50;
  std::deque<lockgraph::mutex> locks;
  for (int i = 0; i < kN; ++i) locks.emplace_back(name("L", i));
  for (int i = 0; i + 1 < kN; ++i) nest(locks[i], locks[i + 1]);
  EXPECT_EQ(w.kinds(), "");
  in_thread([&] { nest(locks[kN - 1], locks[0]); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  std::vector<std::string> expected;
  for (int i = 0; i < kN; ++i) expected.push_back(name("L", i));
  EXPECT_EQ(lgtest::cycle_from(reps[0], "L00"), expected);
  ASSERT_EQ(reps[0].edges.size(), static_cast<std::size_t>(kN));
  for (std::size_t i = 0; i < reps[0].edges.size(); ++i) {
    EXPECT_EQ(reps[0].edges[i].from, reps[0].locks[i]);
    EXPECT_EQ(reps[0].edges[i].to, reps[0].locks[(i + 1) % reps[0].locks.size()]);
  }
}

// 100 locks held at once (past the 48 inline held entries): works, no false report, non-LIFO release
// works; an edge taken at depth 100 is recorded (D099 -> X, then X -> D099 is a cycle).
TEST(LockOrder, HundredLocksHeldAtOnceRecordEdgesFromTheTop) {
  report_watch w;
  constexpr int kN = 100;
  std::deque<lockgraph::mutex> d;
  for (int i = 0; i < kN; ++i) d.emplace_back(name("D", i, 3));
  lockgraph::mutex x("X");
  for (int round = 0; round < 3; ++round) {
    for (auto& m : d) m.lock();
    if (round == 0) {
      x.lock();
      x.unlock();
    }
    switch (round) {
      case 0: for (int i = kN; i-- > 0;) d[i].unlock(); break;  // LIFO
      case 1: for (auto& m : d) m.unlock(); break;              // FIFO
      default:                                                   // evens, then odds
        for (int i = 0; i < kN; i += 2) d[i].unlock();
        for (int i = 1; i < kN; i += 2) d[i].unlock();
    }
  }
  EXPECT_EQ(w.kinds(), "");
  for (auto& m : d) {
    ASSERT_TRUE(m.try_lock());  // every one was released
    m.unlock();
  }
  in_thread([&] { nest(x, d[kN - 1]); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u) << lgtest::kinds_of(reps);
  EXPECT_EQ(canonical_cycle(reps[0]), "D099 => X => D099");
}

// With 60 other locks held, D080 then D070 (depths 61 and 62) inverts the earlier nesting of all of
// D000 .. D099 (which recorded D070 -> D071 -> ... -> D080, edges going from the nearest held lock):
// the cycle D070 -> D071 -> ... -> D080 -> D070 is reported.
TEST(LockOrder, InversionAmongDeeplyNestedLocksIsDetected) {
  report_watch w;
  constexpr int kN = 100;
  std::deque<lockgraph::mutex> d, filler;
  for (int i = 0; i < kN; ++i) d.emplace_back(name("D", i, 3));
  for (int i = 0; i < 60; ++i) filler.emplace_back(name("F", i, 3));
  for (auto& m : d) m.lock();
  for (int i = kN; i-- > 0;) d[i].unlock();
  EXPECT_EQ(w.kinds(), "");
  in_thread([&] {
    for (auto& m : filler) m.lock();
    d[80].lock();
    d[70].lock();
    d[70].unlock();
    d[80].unlock();
    for (int i = 60; i-- > 0;) filler[i].unlock();
  });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u) << lgtest::kinds_of(reps);
  std::vector<std::string> expected;
  for (int i = 70; i <= 80; ++i) expected.push_back(name("D", i, 3));
  EXPECT_EQ(lgtest::cycle_from(reps[0], "D070"), expected);
  // The report lists what the closing thread held: 60 fillers and D080.
  ASSERT_EQ(reps[0].held.size(), 61u);
  EXPECT_EQ(reps[0].held.back().lock, "D080");
}

// ---- random DAGs ------------------------------------------------------------------------------------

// All forward edges of a random order over 40 locks, made in shuffled order: never a report. Then one
// backward edge: exactly one, and its cycle is the shortest one (the direct forward edge back).
TEST(LockOrder, AllForwardEdgesOfADagInRandomOrderNeverReport) {
  report_watch w;
  constexpr int kN = 40;
  std::mt19937 rng(20240611);
  std::deque<lockgraph::mutex> locks;
  for (int i = 0; i < kN; ++i) locks.emplace_back(name("G", i));
  std::vector<int> order(kN);
  for (int i = 0; i < kN; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::pair<int, int>> edges;
  for (int i = 0; i < kN; ++i)
    for (int j = i + 1; j < kN; ++j) edges.emplace_back(order[i], order[j]);
  std::shuffle(edges.begin(), edges.end(), rng);
  for (auto [from, to] : edges) nest(locks[from], locks[to]);
  EXPECT_EQ(w.kinds(), "");
  nest(locks[order[30]], locks[order[10]]);
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(lgtest::cycle_from(reps[0], name("G", order[10])),
            (std::vector<std::string>{name("G", order[10]), name("G", order[30])}));
}

// ---- condition variables -------------------------------------------------------------------------

// W: m, then y, then cv.wait(m): the wait gives m up and takes it back *while W holds y*: that
// re-acquisition is y -> m, against W's own m -> y. A notifier taking m then y (the "same" order as
// W's code) can deadlock with W: W holds y and waits for m; the notifier holds m and waits for y.
TEST(LockOrder, ConditionWaitReacquiringItsMutexUnderAnotherLockIsAnEdge) {
  report_watch w;
  lockgraph::mutex m("m"), y("y");
  lockgraph::condition_variable cv;
  bool ready = false;
  std::latch waiting(1);
  std::thread waiter([&] {
    std::unique_lock<lockgraph::mutex> lk(m);
    std::lock_guard<lockgraph::mutex> gy(y);  // m -> y
    waiting.count_down();
    cv.wait(lk, [&] { return ready; });       // gives m up, takes it back holding y: y -> m
  });
  waiting.wait();
  {
    std::lock_guard<lockgraph::mutex> g(m);
    ready = true;
  }
  cv.notify_one();
  waiter.join();
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u) << "the re-acquisition of m under y after cv.wait() recorded no y -> m edge";
  EXPECT_EQ(canonical_cycle(reps[0]), "m => y => m");
}

// ---- the first real deadlock -------------------------------------------------------------------------

// Two threads really deadlock (each holds one lock and blocks on the other). The edge of the second
// one closes the cycle before it blocks: the inversion is reported first, then the circular wait is
// seen and reported as a deadlock, and the process aborts instead of hanging.
void two_threads_deadlock() {
  lockgraph::mutex a("dl.a"), b("dl.b");
  std::barrier both_hold(2);
  std::thread t1([&] {
    std::lock_guard<lockgraph::mutex> ga(a);
    both_hold.arrive_and_wait();
    std::lock_guard<lockgraph::mutex> gb(b);
  });
  std::thread t2([&] {
    std::lock_guard<lockgraph::mutex> gb(b);
    both_hold.arrive_and_wait();
    std::lock_guard<lockgraph::mutex> ga(a);
  });
  t1.join();
  t2.join();
}

TEST(LockOrderDeathTest, FirstRealDeadlockIsReportedAsInversionThenAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(two_threads_deadlock(),
               "lockgraph: lock-order-inversion(.|\n)*Cycle in lock order graph: dl\\.[ab] => dl\\.[ab] => "
               "dl\\.[ab](.|\n)*lockgraph: deadlock \\(threads blocked in a circular wait\\)");
}

}  // namespace
