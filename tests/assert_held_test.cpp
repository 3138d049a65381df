// tests/assert_held_test.cpp: assert_held() / assert_shared_held() / assert_not_held() check what the
// calling thread holds and report assertion_failed when the assertion is false (issue 10, part 2),
// with the asserting thread's held locks and the assertion's site; and the annotated guards
// (lockgraph::mutex_lock, reader_lock, writer_lock, unique_lock) hold what they say at run time.
#include <gtest/gtest.h>

#include <chrono>
#include <latch>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "lockgraph/lockgraph.hpp"
#include "support/reports.hpp"
#include "support/threads.hpp"

namespace {

using lgtest::held_of;
using lgtest::other_thread_can_lock;
using lgtest::other_thread_can_lock_shared;
using lgtest::report_watch;
using lockgraph::report_kind;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- assertions that hold: no report ---------------------------------------------------------------

TEST(AssertHeld, TrueAssertionsReportNothing) {
  report_watch w;
  lockgraph::mutex a("a");
  lockgraph::mutex b("b");
  lockgraph::shared_mutex rw("rw");
  a.assert_not_held();
  {
    std::lock_guard<lockgraph::mutex> ga(a);
    a.assert_held();
    a.assert_shared_held();  // exclusive satisfies "at least shared"
    b.assert_not_held();
    std::lock_guard<lockgraph::mutex> gb(b);
    a.assert_held();  // not on top of the held stack: the slow path finds it
    b.assert_held();
  }
  {
    lockgraph::reader_lock r(rw);
    rw.assert_shared_held();
  }
  {
    lockgraph::writer_lock wl(rw);
    rw.assert_held();
    rw.assert_shared_held();
  }
  a.assert_not_held();
  rw.assert_not_held();
  EXPECT_EQ(w.kinds(), "");
}

TEST(AssertHeld, TryAndTimedAcquisitionsCountAsHeld) {
  report_watch w;
  lockgraph::timed_mutex t("t");
  lockgraph::shared_timed_mutex st("st");
  ASSERT_TRUE(t.try_lock_for(std::chrono::milliseconds(10)));
  t.assert_held();
  t.unlock();
  ASSERT_TRUE(st.try_lock_shared());
  st.assert_shared_held();
  st.unlock_shared();
  EXPECT_EQ(w.kinds(), "");
}

TEST(AssertHeld, RecursiveLockIsHeldAtEveryDepthAndNotAfterTheLastUnlock) {
  report_watch w;
  lockgraph::recursive_mutex r("r");
  lockgraph::mutex other("other");
  r.lock();
  {
    std::lock_guard<lockgraph::mutex> g(other);
    r.lock();  // re-entry under another lock
    r.assert_held();
    r.unlock();
    r.assert_held();
  }
  r.unlock();
  r.assert_not_held();
  EXPECT_EQ(w.kinds(), "");
  r.assert_held();
  EXPECT_EQ(w.kinds(), "assertion_failed");
}

// ---- false assertions: one report each ------------------------------------------------------------

TEST(AssertHeld, AssertHeldOfAnUnheldLockReportsWithTheHeldStackAndSite) {
  report_watch w;
  lockgraph::mutex a("alpha");
  lockgraph::mutex b("beta");
  std::lock_guard<lockgraph::mutex> g(a);
  const int line = __LINE__ + 1;
  b.assert_held();
  const auto reps = w.fresh();
  ASSERT_EQ(lgtest::kinds_of(reps), "assertion_failed");
  const lockgraph::report& r = reps[0];
  EXPECT_EQ(r.kind, report_kind::assertion_failed);
  EXPECT_EQ(r.locks, std::vector<std::string>{"beta"});
  EXPECT_EQ(held_of(r), "alpha");
  EXPECT_TRUE(contains(r.summary, "assert_held() on beta")) << r.summary;
  EXPECT_TRUE(contains(r.summary, "assert_held_test.cpp:" + std::to_string(line))) << r.summary;
  EXPECT_TRUE(contains(r.summary, "does not hold it")) << r.summary;
  EXPECT_FALSE(r.stack.empty());
  // Every writer knows the kind.
  const std::string text = lockgraph::to_text(r);
  EXPECT_TRUE(contains(text, "lockgraph: assertion failed:")) << text;
  EXPECT_TRUE(contains(text, "holds alpha (exclusive")) << text;
  EXPECT_TRUE(contains(lockgraph::to_json(r), "\"kind\":\"assertion_failed\"") ||
              contains(lockgraph::to_json(r), "\"kind\": \"assertion_failed\""))
      << lockgraph::to_json(r);
  const std::string dot = lockgraph::to_dot(r);
  EXPECT_TRUE(contains(dot, "assertion failed")) << dot;
  EXPECT_TRUE(contains(dot, "beta")) << dot;
}

TEST(AssertHeld, ExclusiveAssertionOnALockHeldSharedFails) {
  report_watch w;
  lockgraph::shared_mutex rw("rw");
  lockgraph::reader_lock r(rw);
  rw.assert_shared_held();
  EXPECT_EQ(w.kinds(), "");
  rw.assert_held();
  const auto reps = w.fresh();
  ASSERT_EQ(lgtest::kinds_of(reps), "assertion_failed");
  EXPECT_TRUE(contains(reps[0].summary, "holds it shared only")) << reps[0].summary;
  EXPECT_EQ(held_of(reps[0]), "rw(shared)");
}

TEST(AssertHeld, AssertNotHeldOfAHeldLockFails) {
  report_watch w;
  lockgraph::mutex m("m");
  lockgraph::mutex_lock l(m);
  m.assert_not_held();
  const auto reps = w.fresh();
  ASSERT_EQ(lgtest::kinds_of(reps), "assertion_failed");
  EXPECT_TRUE(contains(reps[0].summary, "assert_not_held() on m")) << reps[0].summary;
  EXPECT_TRUE(contains(reps[0].summary, "it holds it (exclusive)")) << reps[0].summary;
}

TEST(AssertHeld, AssertSharedHeldOfAnUnheldLockFails) {
  report_watch w;
  lockgraph::shared_timed_mutex st("st");
  st.assert_shared_held();
  const auto reps = w.fresh();
  ASSERT_EQ(lgtest::kinds_of(reps), "assertion_failed");
  EXPECT_TRUE(contains(reps[0].summary, "assert_shared_held() on st")) << reps[0].summary;
  EXPECT_EQ(held_of(reps[0]), "");
}

// Held by another thread is not held by this one.
TEST(AssertHeld, ALockHeldByAnotherThreadIsNotHeldByThisOne) {
  report_watch w;
  lockgraph::mutex m("theirs");
  std::latch locked(1), done(1);
  std::thread holder([&] {
    std::lock_guard<lockgraph::mutex> g(m);
    locked.count_down();
    done.wait();
  });
  locked.wait();
  m.assert_not_held();
  EXPECT_EQ(w.kinds(), "");
  m.assert_held();
  EXPECT_EQ(w.kinds(), "assertion_failed");
  done.count_down();
  holder.join();
}

// A thread that never touched a lockgraph lock holds nothing.
TEST(AssertHeld, AFreshThreadHoldsNothing) {
  report_watch w;
  lockgraph::mutex m("m");
  lgtest::in_thread([&] {
    m.assert_not_held();
    m.assert_held();
  });
  EXPECT_EQ(w.kinds(), "assertion_failed");
}

// The same false assertion from the same place is one problem; another place is another.
TEST(AssertHeld, RepeatedFailureFromOnePlaceIsReportedOnce) {
  report_watch w;
  lockgraph::mutex m("m");
  for (int i = 0; i < 5; ++i) m.assert_held();
  EXPECT_EQ(w.kinds(), "assertion_failed");
  m.assert_held();
  EXPECT_EQ(w.kinds(), "assertion_failed assertion_failed");
}

// ---- guards: they hold what they say ---------------------------------------------------------------

TEST(Guards, MutexLockWriterLockAndReaderLockHoldTheirLocks) {
  report_watch w;
  lockgraph::mutex m("m");
  lockgraph::shared_mutex rw("rw");
  {
    lockgraph::mutex_lock l(m);
    EXPECT_FALSE(other_thread_can_lock(m));
  }
  EXPECT_TRUE(other_thread_can_lock(m));
  {
    lockgraph::writer_lock wl(rw);
    EXPECT_FALSE(other_thread_can_lock_shared(rw));
  }
  {
    lockgraph::reader_lock r(rw);
    EXPECT_TRUE(other_thread_can_lock_shared(rw));
    EXPECT_FALSE(other_thread_can_lock(rw));
  }
  EXPECT_TRUE(other_thread_can_lock(rw));
  {
    m.lock();
    lockgraph::mutex_lock adopted(m, std::adopt_lock);
    m.assert_held();
  }
  EXPECT_TRUE(other_thread_can_lock(m));
  EXPECT_EQ(w.kinds(), "");
}

TEST(Guards, UniqueLockRelocksAndWorksWithTheConditionVariable) {
  report_watch w;
  lockgraph::mutex m("m");
  lockgraph::condition_variable cv("cv");
  bool ready = false;
  {
    lockgraph::unique_lock u(m);
    EXPECT_TRUE(u.owns_lock());
    u.unlock();
    EXPECT_TRUE(other_thread_can_lock(m));
    u.lock();
    EXPECT_FALSE(other_thread_can_lock(m));
  }
  std::thread notifier([&] {
    lockgraph::mutex_lock l(m);
    ready = true;
    cv.notify_all();
  });
  {
    lockgraph::unique_lock u(m);
    cv.wait(u, [&] {
      m.assert_held();
      return ready;
    });
    m.assert_held();
  }
  notifier.join();
  EXPECT_EQ(w.kinds(), "");
}

}  // namespace
