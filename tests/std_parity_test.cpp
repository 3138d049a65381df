// tests/std_parity_test.cpp: std parity additions of issue 10, part 4 — native_handle_type where the
// std:: twin has it, lockgraph::condition_variable_any (records its waits like condition_variable, works
// with every lockgraph lock and with std::unique_lock / std::shared_lock of them), and
// lockgraph::notify_all_at_thread_exit (the mutex counts as held until thread exit, then is released
// without an unreleased_lock report).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <type_traits>

#include "lockgraph/lockgraph.hpp"
#include "support/reports.hpp"
#include "support/threads.hpp"

namespace {

using lgtest::other_thread_can_lock;
using lgtest::report_watch;

template <class T, class = void>
struct has_native_handle_type : std::false_type {};
template <class T>
struct has_native_handle_type<T, std::void_t<typename T::native_handle_type>> : std::true_type {};

template <class Ours, class Std>
constexpr bool same_native_handle_type() {
  if constexpr (has_native_handle_type<Std>::value) {
    return has_native_handle_type<Ours>::value &&
           std::is_same_v<typename Ours::native_handle_type, typename Std::native_handle_type>;
  } else {
    return !has_native_handle_type<Ours>::value;
  }
}

static_assert(same_native_handle_type<lockgraph::mutex, std::mutex>());
static_assert(same_native_handle_type<lockgraph::timed_mutex, std::timed_mutex>());
static_assert(same_native_handle_type<lockgraph::recursive_mutex, std::recursive_mutex>());
static_assert(same_native_handle_type<lockgraph::recursive_timed_mutex, std::recursive_timed_mutex>());
static_assert(same_native_handle_type<lockgraph::shared_mutex, std::shared_mutex>());
static_assert(same_native_handle_type<lockgraph::shared_timed_mutex, std::shared_timed_mutex>());
static_assert(same_native_handle_type<lockgraph::condition_variable, std::condition_variable>());

TEST(StdParity, NativeHandleIsTheUnderlyingLocksHandle) {
  lockgraph::mutex m;
  std::lock_guard<lockgraph::mutex> g(m);
  if constexpr (has_native_handle_type<std::mutex>::value) {
    lockgraph::mutex::native_handle_type h = m.native_handle();
    EXPECT_NE(h, nullptr);
  }
}

// Waits until `waiter` is inside cv.wait(): it sets `waiting` under `m`, and taking `m` afterwards
// succeeds only once the wait released it.
template <class M, class TakeLock>
void until_waiting(M& m, std::atomic<bool>& waiting, TakeLock take) {
  for (;;) {
    auto g = take(m);
    if (waiting) return;
  }
}

// The waiter is known to be waiting on the condition variable (check_quiescent names it), its lock is
// free meanwhile, and the lock counts as held again when the wait returns.
TEST(ConditionVariableAny, RecordsTheWaitAndReleasesTheLockMeanwhile) {
  report_watch w;
  lockgraph::mutex m("cv_any_mu");
  lockgraph::condition_variable_any cv("cv_any");
  bool go = false;
  std::atomic<bool> waiting{false};
  std::thread sleeper([&] {
    std::unique_lock<lockgraph::mutex> lk(m);
    waiting = true;
    cv.wait(lk, [&] { return go; });
    m.assert_held();
  });
  until_waiting(m, waiting, [](lockgraph::mutex& mu) { return std::unique_lock<lockgraph::mutex>(mu); });
  const auto problems = lockgraph::check_quiescent();
  ASSERT_EQ(problems.size(), 1u) << lgtest::kinds_of(problems);
  EXPECT_EQ(problems[0].kind, lockgraph::report_kind::long_wait);
  EXPECT_EQ(problems[0].locks.front(), "cv_any");
  ASSERT_FALSE(problems[0].threads.empty());
  EXPECT_TRUE(problems[0].threads[0].holds.empty()) << "the waiter's mutex still counted as held";
  {
    std::lock_guard<lockgraph::mutex> g(m);
    go = true;
  }
  cv.notify_all();
  sleeper.join();
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
  EXPECT_EQ(w.kinds(), "long_wait");
}

// Any lock: a shared_mutex through std::shared_lock (readers) and std::unique_lock (a writer), a
// recursive mutex taken directly, and a timed wait that times out.
TEST(ConditionVariableAny, WorksWithEveryKindOfLock) {
  report_watch w;
  lockgraph::shared_mutex rw("rw");
  lockgraph::condition_variable_any cv("cv");
  int stage = 0;
  std::atomic<int> waiting{0};
  auto reader = [&] {
    std::shared_lock<lockgraph::shared_mutex> lk(rw);
    ++waiting;
    cv.wait(lk, [&] { return stage == 1; });
    rw.assert_shared_held();
  };
  std::thread r1(reader), r2(reader);
  for (;;) {  // both readers inside wait(): they released rw, so a writer gets it
    std::unique_lock<lockgraph::shared_mutex> lk(rw);
    if (waiting == 2) {
      stage = 1;
      break;
    }
  }
  cv.notify_all();
  r1.join();
  r2.join();

  lockgraph::recursive_mutex rm("rm");
  rm.lock();
  EXPECT_FALSE(cv.wait_for(rm, std::chrono::milliseconds(1), [] { return false; }));
  rm.assert_held();
  EXPECT_TRUE(other_thread_can_lock(rw));
  EXPECT_FALSE(other_thread_can_lock(rm));
  rm.unlock();

  lockgraph::timed_mutex tm("tm");
  lockgraph::unique_lock<lockgraph::timed_mutex> g(tm);
  EXPECT_EQ(cv.wait_until(g, std::chrono::steady_clock::now() + std::chrono::milliseconds(1)),
            std::cv_status::timeout);
  tm.assert_held();
  EXPECT_EQ(w.kinds(), "");
}

// Re-taking the lock after the wait is an acquisition like any other: a lock-order inversion through
// it is found.
TEST(ConditionVariableAny, RetakingTheLockRecordsLockOrder) {
  report_watch w;
  lockgraph::mutex a("a");
  lockgraph::mutex b("b");
  lockgraph::condition_variable_any cv;
  {
    std::unique_lock<lockgraph::mutex> la(a);
    std::lock_guard<lockgraph::mutex> lb(b);
    // Holding b, the wait releases a and re-takes it: the edge b -> a, against a -> b above.
    cv.wait_for(la, std::chrono::milliseconds(1));
  }
  EXPECT_EQ(w.kinds(), "lock_order_inversion");
}

// The mutex stays locked and held by the thread until it exits; then it is released (no
// unreleased_lock report) and the waiter is notified.
TEST(NotifyAllAtThreadExit, KeepsTheLockUntilExitThenReleasesAndNotifies) {
  report_watch w;
  lockgraph::mutex m("m");
  lockgraph::condition_variable cv("cv");
  bool ready = false;
  std::latch handed(1), proceed(1);
  std::thread t([&] {
    std::unique_lock<lockgraph::mutex> lk(m);
    ready = true;
    lockgraph::notify_all_at_thread_exit(cv, std::move(lk));
    EXPECT_FALSE(lk.owns_lock());
    m.assert_held();
    handed.count_down();
    proceed.wait();
  });
  handed.wait();
  EXPECT_FALSE(other_thread_can_lock(m));
  proceed.count_down();
  {
    std::unique_lock<lockgraph::mutex> lk(m);
    cv.wait(lk, [&] { return ready; });
  }
  t.join();
  EXPECT_TRUE(other_thread_can_lock(m));
  EXPECT_EQ(w.kinds(), "");
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
}

// A lock the thread really forgot is still reported at its exit, beside one handed to exit.
TEST(NotifyAllAtThreadExit, OtherLocksLeftHeldAreStillReported) {
  report_watch w;
  lockgraph::mutex m("handed");
  lockgraph::mutex forgotten("forgotten");
  lockgraph::condition_variable cv;
  std::thread t([&] {
    std::unique_lock<lockgraph::mutex> lk(m);
    forgotten.lock();
    lockgraph::notify_all_at_thread_exit(cv, std::move(lk));
  });
  t.join();
  const auto reps = w.fresh();
  ASSERT_EQ(lgtest::kinds_of(reps), "unreleased_lock");
  EXPECT_EQ(reps[0].locks, std::vector<std::string>{"forgotten"});
  EXPECT_TRUE(other_thread_can_lock(m));
}

}  // namespace
