// lockgraph/annotate.hpp and lockgraph/tbb.hpp: custom locks feed the same graphs and reports.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <csignal>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lockgraph/lockgraph.hpp"
#include "lockgraph/tbb.hpp"
#include "support/reports.hpp"
#include "support/threads.hpp"

namespace {

using lockgraph::lock_flags;
using lockgraph::report_kind;
using lgtest::in_thread;
using lgtest::nest;

// A user's spinlock, instrumented the way annotate.hpp shows.
class spinlock {
 public:
  explicit spinlock(std::string_view name) : ann_(name) {}
  void lock() {
    ann_.before_lock();
    if (!take()) ann_.contended([this] {
        while (!take()) std::this_thread::yield();
      });
    ann_.after_lock();
  }
  bool try_lock() {
    if (!take()) return false;
    ann_.after_lock(lock_flags::try_lock);
    return true;
  }
  void unlock() {
    if (ann_.before_unlock()) flag_.store(false, std::memory_order_release);
  }
  // Released by whichever thread the ownership was handed to.
  void unlock_any_thread() {
    ann_.before_unlock(lock_flags::any_thread);
    flag_.store(false, std::memory_order_release);
  }
  lockgraph::lock_annotation& annotation() { return ann_; }

 private:
  bool take() { return !flag_.exchange(true, std::memory_order_acquire); }
  std::atomic<bool> flag_{false};
  lockgraph::lock_annotation ann_;
};

// A hand-rolled reader/writer lock (std::mutex + std::condition_variable + counters), whose readers
// may be released by any thread.
class counting_rwlock {
 public:
  explicit counting_rwlock(std::string_view name) : ann_(name, lockgraph::custom_lock_kind::reader_writer) {}
  void lock() {
    ann_.before_lock();
    ann_.contended([this] {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return !writer_ && readers_ == 0; });
      writer_ = true;
    });
    ann_.after_lock();
  }
  void unlock() {
    ann_.before_unlock();
    std::lock_guard<std::mutex> l(mu_);
    writer_ = false;
    cv_.notify_all();
  }
  void lock_shared() {
    ann_.before_lock(lock_flags::shared);
    ann_.contended(
        [this] {
          std::unique_lock<std::mutex> l(mu_);
          cv_.wait(l, [this] { return !writer_; });
          ++readers_;
        },
        lock_flags::shared);
    ann_.after_lock(lock_flags::shared);
  }
  void unlock_shared() {
    ann_.before_unlock(lock_flags::shared | lock_flags::any_thread);
    std::lock_guard<std::mutex> l(mu_);
    if (--readers_ == 0) cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int readers_ = 0;
  bool writer_ = false;
  lockgraph::lock_annotation ann_;
};

// ---- custom locks ---------------------------------------------------------------------------------

// nest_fn(a, b) on this thread, then nest_fn(b, a) on another: exactly one lock_order_inversion,
// naming `named`, whose cycle is `cycle`. The expectation keeps the calling test's line.
template <class A, class B, class Nest>
void expect_inverted_nesting_reported(A& a, B& b, Nest nest_fn, std::string_view named, std::string_view cycle,
                                      lockgraph::detail::site where = lockgraph::detail::site::current()) {
  lockgraph::expect_report inversion(report_kind::lock_order_inversion, named, where);
  nest_fn(a, b);
  in_thread([&] { nest_fn(b, a); });
  ASSERT_EQ(inversion.caught().size(), 1u);
  EXPECT_EQ(lgtest::canonical_cycle(inversion.caught()[0]), cycle);
}

constexpr auto blocking_nest = [](auto& x, auto& y) { nest(x, y); };

// Cycle: spin-a -> spin-b (main), spin-b -> spin-a (another thread).
TEST(Annotate, CustomLockInversionIsReported) {
  spinlock a("spin-a"), b("spin-b");
  expect_inverted_nesting_reported(a, b, blocking_nest, "spin-a", "spin-a => spin-b => spin-a");
}

// Custom and lockgraph locks share one graph. Cycle: mu -> spin (main), spin -> mu (another thread).
TEST(Annotate, CustomAndLockgraphLocksShareTheGraph) {
  spinlock s("spin");
  lockgraph::mutex m("mu");
  expect_inverted_nesting_reported(m, s, blocking_nest, "spin", "mu => spin => mu");
}

// try_lock adds no edge into the lock: a held, try b; then b -> a blocking is no cycle.
TEST(Annotate, TryLockAddsNoEdge) {
  spinlock a("spin-a"), b("spin-b");
  {
    std::lock_guard<spinlock> ga(a);
    ASSERT_TRUE(b.try_lock());
    b.unlock();
  }
  in_thread([&] { nest(b, a); });
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
}

class AnnotateDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(AnnotateDeathTest, CustomLockTakenTwiceIsSelfDeadlock) {
  EXPECT_EXIT(
      {
        spinlock s("spin");
        s.lock();
        s.lock();
      },
      ::testing::KilledBySignal(SIGABRT), "lockgraph: self-deadlock: thread T[0-9]+[^\n]* blocks on lock spin it already holds");
}

// Two threads each hold one spinlock and spin for the other's: contended() makes the wait visible,
// so the circular wait is a deadlock report (and an abort), not a silent hang.
void spin_in_a_circle() {
  spinlock a("spin-a");
  spinlock b("spin-b");
  std::latch both(2);
  std::thread t([&] {
    std::lock_guard<spinlock> gb(b);
    both.arrive_and_wait();
    std::lock_guard<spinlock> ga(a);
  });
  std::lock_guard<spinlock> ga(a);
  both.arrive_and_wait();
  std::lock_guard<spinlock> gb(b);
  t.join();
}

TEST_F(AnnotateDeathTest, CircularWaitOnCustomLocksIsDeadlock) {
  EXPECT_EXIT(spin_in_a_circle(), ::testing::KilledBySignal(SIGABRT),
              "lockgraph: deadlock \\(threads blocked in a circular wait\\)");
}

TEST(Annotate, BadUnlockIsReportedAndTheLockLeftAlone) {
  spinlock s("spin");
  s.lock();
  lockgraph::expect_report bad(report_kind::bad_unlock, "spin");
  in_thread([&] { s.unlock(); });
  EXPECT_EQ(bad.caught().size(), 1u);
  EXPECT_FALSE(s.try_lock());  // still locked: the bad unlock did not release it
  s.unlock();
}

TEST(Annotate, DestroyedWhileHeldIsUnreleasedLock) {
  lockgraph::expect_report unreleased(report_kind::unreleased_lock, "doomed");
  auto s = std::make_unique<spinlock>("doomed");
  s->lock();
  s.reset();
  EXPECT_EQ(unreleased.caught().size(), 1u);
}

// ---- ownership handed over ------------------------------------------------------------------------

// s taken on a thread of its own (the taker) and released on this one with any_thread while the taker
// still runs; then the taker runs after_release and exits.
template <class F>
void hand_over_to_this_thread(spinlock& s, F after_release) {
  std::latch taken(1), released(1);
  std::thread taker([&] {
    s.lock();
    taken.count_down();
    released.wait();
    after_release();
  });
  taken.wait();
  s.unlock_any_thread();
  released.count_down();
  taker.join();
}

// Taken on one thread, released on another with any_thread: no bad_unlock, and the taker no longer
// counts as holding it: no edge out of it, nothing left held at its exit or at a checkpoint.
TEST(AnnotateHandover, ReleaseByAnotherThreadIsNoBadUnlock) {
  spinlock s("handed");
  lockgraph::mutex c("c");
  hand_over_to_this_thread(s, [&] {
    std::lock_guard<lockgraph::mutex> gc(c);  // s is not this thread's any more: no edge handed -> c
  });
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
  nest(c, s);  // c -> handed: no cycle, for handed -> c was never recorded
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
}

// The taker exits right after the hand-over, before any other lockgraph call: not an unreleased lock.
TEST(AnnotateHandover, TakerExitingAfterTheHandoverLeavesNothingHeld) {
  spinlock s("handed");
  hand_over_to_this_thread(s, [] {});
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
}

// Handed over explicitly: the taker gives up its hold when it passes the lock on (before_unlock
// without releasing), the receiver releases it with any_thread, holding nothing itself.
TEST(AnnotateHandover, ExplicitHandover) {
  spinlock s("key");
  s.lock();
  ASSERT_TRUE(s.annotation().before_unlock());  // passed on: no longer this thread's
  s.annotation().assert_not_held();
  in_thread([&] { s.unlock_any_thread(); });
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  EXPECT_TRUE(s.try_lock());
  s.unlock();
}

// Many hand-overs: the taker's held stack does not grow with them.
TEST(AnnotateHandover, RepeatedHandoversKeepTheTakersStackSmall) {
  spinlock s("handed");
  lockgraph::mutex inner("inner");
  for (int i = 0; i < 1000; ++i) {
    s.lock();
    in_thread([&] { s.unlock_any_thread(); });
    std::lock_guard<lockgraph::mutex> g(inner);
  }
  // The tombstones the hand-overs left were purged by the next acquisitions' slow paths.
  ASSERT_NE(lockgraph::detail::tl_record, nullptr);
  EXPECT_EQ(lockgraph::detail::tl_record->depth.load(), 0u);
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
}

// The release from another thread races with the taker moving its entries (an unlock out of order
// shifts the entries above it down): the hold is dropped wherever it is, never lost or left behind.
// Stack [x, s, y]; the taker unlocks x (s moves from 1 to 0) while the other thread releases s, at a
// moment that varies from round to round. A smoke test: the windows the exchange and held_seq close
// are a few stores wide and rarely hit (docs/DESIGN.md, "Releases from another thread", argues them).
TEST(AnnotateHandover, StressReleaseRacesWithTheTakersOutOfOrderUnlock) {
  spinlock s("handed");
  lockgraph::mutex x("x"), y("y");
  constexpr int kRounds = 2000;
  std::barrier sync(2);
  int left_held = 0;
  std::atomic<int> delay{0};
  std::thread releaser([&] {
    for (int i = 0; i < kRounds; ++i) {
      sync.arrive_and_wait();  // the taker holds x, s, y
      for (int spin = 0; spin < (i * 7) % 400; ++spin) delay.fetch_add(1, std::memory_order_relaxed);  // vary the moment
      s.unlock_any_thread();
      sync.arrive_and_wait();
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    x.lock();
    s.lock();
    y.lock();
    sync.arrive_and_wait();
    x.unlock();  // out of order: moves s and y down, racing with the release of s
    sync.arrive_and_wait();
    y.unlock();
    // At most the tombstone of s is left, never s itself.
    const lockgraph::detail::thread_record* me = lockgraph::detail::tl_record;
    const std::uint32_t d = me->depth.load();
    if (d > 1 || (d == 1 && me->held[0].lock.load() == &lockgraph::detail::lock_access::meta(s.annotation()))) {
      ++left_held;
    }
    std::lock_guard<lockgraph::mutex> g(x);  // its slow path, if any, purges the tombstone
  }
  releaser.join();
  EXPECT_EQ(left_held, 0);
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
}

// A reader of a hand-rolled reader/writer lock taken on one thread and released on another.
TEST(AnnotateHandover, HandRolledReaderReleasedByAnotherThread) {
  counting_rwlock rw("rw");
  rw.lock_shared();
  in_thread([&] { rw.unlock_shared(); });
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  rw.lock();  // not a self-deadlock: this thread no longer holds it shared
  rw.unlock();
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
}

// Reader/writer rules for an annotated reader/writer lock: a writer on the cycle is an inversion.
// Cycle: rw (write) -> mu (main), mu -> rw (read, another thread).
TEST(Annotate, HandRolledReaderWriterInversionWithAWriter) {
  counting_rwlock rw("rw");
  lockgraph::mutex mu("mu");
  lockgraph::expect_report inversion(report_kind::lock_order_inversion, "rw");
  nest(rw, mu);
  in_thread([&] {
    std::lock_guard<lockgraph::mutex> g(mu);
    rw.lock_shared();
    rw.unlock_shared();
  });
  EXPECT_EQ(inversion.caught().size(), 1u);
}

// ---- oneTBB mutexes -------------------------------------------------------------------------------

template <class M>
class TbbMutex : public ::testing::Test {};
using tbb_types = ::testing::Types<lockgraph::tbb::spin_mutex, lockgraph::tbb::queuing_mutex,
                                   lockgraph::tbb::spin_rw_mutex, lockgraph::tbb::rw_mutex>;
TYPED_TEST_SUITE(TbbMutex, tbb_types);

template <class M>
void nest_scoped(M& x, M& y) {
  typename M::scoped_lock lx(x);
  typename M::scoped_lock ly(y);
}

// Cycle through scoped_lock acquisitions: a -> b (main), b -> a (another thread).
TYPED_TEST(TbbMutex, ScopedLockInversionIsReported) {
  TypeParam a("tbb-a"), b("tbb-b");
  expect_inverted_nesting_reported(a, b, nest_scoped<TypeParam>, "tbb-a", "tbb-a => tbb-b => tbb-a");
}

// try_acquire never blocks: it adds no edge into its lock (std::lock's rule).
TYPED_TEST(TbbMutex, TryAcquireAddsNoEdge) {
  TypeParam a("tbb-a"), b("tbb-b");
  {
    typename TypeParam::scoped_lock la(a);
    typename TypeParam::scoped_lock lb;
    ASSERT_TRUE(lb.try_acquire(b));
  }
  in_thread([&] { nest_scoped(b, a); });
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
}

// std::lock over two of them in both orders: one blocking lock and try_locks, never reported.
TEST(TbbMutexStdLock, BothOrdersAreNotReported) {
  lockgraph::tbb::spin_mutex a("tbb-a"), b("tbb-b");
  lockgraph::tbb::spin_rw_mutex c("tbb-c"), d("tbb-d");
  std::lock(a, b);
  a.unlock();
  b.unlock();
  in_thread([&] {
    std::lock(b, a);
    b.unlock();
    a.unlock();
    std::scoped_lock both(d, c);
  });
  std::scoped_lock both(c, d);
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
}

// Readers do not block readers: a cycle through read holds only is not an inversion; with a writer
// on it, it is. Cycle: x (read) -> y (read), y (read) -> x (read): none. Then y (write) -> x (write):
// a writer of x waits behind the reader holding x, who waits for y.
TEST(TbbRwMutex, ReadOnlyCycleIsNotReportedAWriterOneIs) {
  lockgraph::tbb::spin_rw_mutex x("rw-x"), y("rw-y");
  auto read_nest = [](auto& p, auto& q) {
    lockgraph::tbb::spin_rw_mutex::scoped_lock lp(p, /*write=*/false);
    lockgraph::tbb::spin_rw_mutex::scoped_lock lq(q, /*write=*/false);
  };
  read_nest(x, y);
  in_thread([&] { read_nest(y, x); });
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  lockgraph::expect_report inversion(report_kind::lock_order_inversion, "rw-x");
  in_thread([&] {
    lockgraph::tbb::spin_rw_mutex::scoped_lock ly(y, /*write=*/true);
    lockgraph::tbb::spin_rw_mutex::scoped_lock lx(x, /*write=*/true);
  });
  EXPECT_EQ(inversion.caught().size(), 1u);
}

// upgrade_to_writer / downgrade_to_reader keep the held stack right: the lock is held in the new mode
// and released once.
TEST(TbbRwMutex, UpgradeAndDowngradeKeepTheHeldMode) {
  lockgraph::tbb::rw_mutex m("rw");
  {
    lockgraph::tbb::rw_mutex::scoped_lock l(m, /*write=*/false);
    EXPECT_FALSE(l.is_writer());
    l.upgrade_to_writer();
    EXPECT_TRUE(l.is_writer());
    lockgraph::forget(m);  // works on the wrappers too (and keeps this thread's hold)
    EXPECT_TRUE(l.downgrade_to_reader());
    EXPECT_FALSE(l.is_writer());
  }
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
}

}  // namespace
