// tests/misuse_test.cpp: a single thread's misuse of a lock (issue 2, item 7).
//
//  - MisuseDeathTest: blocking on a non-recursive lock the thread already holds is self_deadlock:
//    the report is printed and the process aborts instead of hanging (death tests, regex on the title).
//  - Misuse: bad_unlock (the lock is left exactly as it was), unreleased_lock (destroyed while held,
//    thread exit while holding), and, through a child process, self_deadlock with report_dir and with
//    abort_on_deadlock=0.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "lockgraph/lockgraph.hpp"
#include "support/threads.hpp"
#include "support/reports.hpp"
#include "support/subprocess.hpp"
#include "support/sanitizers.hpp"
#include "support/text.hpp"

namespace {

using namespace std::chrono_literals;
using lgtest::report_watch;
using lgtest::on_other_thread;
using lgtest::other_thread_can_lock;
using lgtest::other_thread_can_lock_shared;
using lockgraph::report_kind;

using lgtest::contains;

// ---- self-deadlock: report, then abort -----------------------------------------------------------

class MisuseDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(MisuseDeathTest, LockingAMutexTwiceIsSelfDeadlockAndAborts) {
  EXPECT_EXIT(
      {
        lockgraph::mutex m("twice");
        m.lock();
        m.lock();
      },
      testing::KilledBySignal(SIGABRT),
      "lockgraph: self-deadlock: thread T[0-9]+[^\n]* blocks on lock twice it already holds");
}

TEST_F(MisuseDeathTest, LockingATimedMutexTwiceIsSelfDeadlock) {
  EXPECT_EXIT(
      {
        lockgraph::timed_mutex m("timed twice");
        std::lock_guard<lockgraph::timed_mutex> g(m);
        m.lock();
      },
      testing::KilledBySignal(SIGABRT), "lockgraph: self-deadlock: [^\n]* blocks on lock timed twice it already holds");
}

TEST_F(MisuseDeathTest, LockWhileHoldingSharedIsSelfDeadlock) {
  EXPECT_EXIT(
      {
        lockgraph::shared_mutex m("rw");
        m.lock_shared();
        m.lock();
      },
      testing::KilledBySignal(SIGABRT), "lockgraph: self-deadlock: [^\n]* blocks on lock rw it already holds");
}

TEST_F(MisuseDeathTest, LockSharedWhileHoldingExclusiveIsSelfDeadlock) {
  EXPECT_EXIT(
      {
        lockgraph::shared_timed_mutex m("rw timed");
        m.lock();
        m.lock_shared();
      },
      testing::KilledBySignal(SIGABRT), "lockgraph: self-deadlock: [^\n]* blocks on lock rw timed it already holds");
}

// The self-deadlock is found when other locks are held too, and deeper than the inline held stack.
TEST_F(MisuseDeathTest, SelfDeadlockUnderManyHeldLocksIsFound) {
  EXPECT_EXIT(
      {
        std::deque<lockgraph::mutex> locks;
        for (int i = 0; i < 60; ++i) locks.emplace_back("deep" + std::to_string(i));
        for (auto& m : locks) m.lock();
        locks[3].lock();
      },
      testing::KilledBySignal(SIGABRT), "lockgraph: self-deadlock: [^\n]* blocks on lock deep3 it already holds");
}

// Past the inline stack the check is a set of the deep entries' locks, kept as they are pushed, popped
// and moved: a lock held deep is found, also after an unlock from the middle of the stack moved it.
TEST_F(MisuseDeathTest, SelfDeadlockOnALockHeldPastTheInlineStackIsFound) {
  EXPECT_EXIT(
      {
        std::deque<lockgraph::mutex> locks;
        for (int i = 0; i < 100; ++i) locks.emplace_back("deep" + std::to_string(i));
        for (auto& m : locks) m.lock();
        for (int i = 99; i >= 90; --i) locks[static_cast<std::size_t>(i)].unlock();
        locks[95].lock();  // popped: not held (a new chain, so the set is filled here)
        locks[70].unlock();  // from the middle: locks 71..89 and 95 move down one entry
        locks[80].lock();
      },
      testing::KilledBySignal(SIGABRT), "lockgraph: self-deadlock: [^\n]* blocks on lock deep80 it already holds");
}

// Shared after shared deep in the stack is a recursive read, exclusive after shared a self-deadlock.
TEST_F(MisuseDeathTest, LockAfterSharedPastTheInlineStackIsSelfDeadlock) {
  EXPECT_EXIT(
      {
        std::deque<lockgraph::mutex> locks;
        for (int i = 0; i < 60; ++i) locks.emplace_back();
        for (auto& m : locks) m.lock();
        lockgraph::shared_mutex rw("deep rw");
        rw.lock_shared();  // entry 60
        for (int i = 0; i < 10; ++i) locks.emplace_back();
        for (std::size_t i = 60; i < 70; ++i) locks[i].lock();
        rw.lock_shared();
        std::fprintf(stderr, "recursive read passed\n");
        rw.lock();
      },
      testing::KilledBySignal(SIGABRT),
      "recursive read passed\n.*lockgraph: self-deadlock: [^\n]* blocks on lock deep rw it already holds");
}

// A reader taking the same lock shared again is not a self-deadlock (readers do not block readers).
TEST(Misuse, RecursiveReadIsNotASelfDeadlock) {
  report_watch w;
  lockgraph::shared_mutex m("rr");
  m.lock_shared();
  m.lock_shared();
  EXPECT_FALSE(other_thread_can_lock(m));
  m.unlock_shared();
  EXPECT_FALSE(other_thread_can_lock(m));
  m.unlock_shared();
  EXPECT_TRUE(other_thread_can_lock(m));
  EXPECT_EQ(w.kinds(), "");
}

// ---- bad_unlock ---------------------------------------------------------------------------------------

// H holds m. The main thread unlocks m: one bad_unlock, and m stays held by H (a third thread cannot
// take it); H's own unlock later is fine.
TEST(Misuse, UnlockOfAMutexHeldByAnotherThreadIsBadUnlockAndLeavesItHeld) {
  report_watch w;
  lockgraph::mutex m("owned by H");
  std::latch held(1), release(1);
  std::thread h([&] {
    m.lock();
    held.count_down();
    release.wait();
    m.unlock();
  });
  held.wait();
  m.unlock();
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].kind, report_kind::bad_unlock);
  EXPECT_EQ(reps[0].locks, std::vector<std::string>{"owned by H"});
  EXPECT_EQ(reps[0].thread.name, "main");  // the thread that unlocked, not H
  EXPECT_TRUE(reps[0].held.empty());
  EXPECT_FALSE(reps[0].stack.empty());
  EXPECT_FALSE(other_thread_can_lock(m)) << "the bad unlock released H's lock";
  release.count_down();
  h.join();
  EXPECT_TRUE(other_thread_can_lock(m));
  EXPECT_EQ(w.count(), 1u);
}

// Unlock of a mutex nobody holds: bad_unlock; the mutex is untouched and works normally after.
TEST(Misuse, UnlockOfAnUnlockedMutexIsBadUnlock) {
  report_watch w;
  lockgraph::mutex m("never locked");
  m.unlock();
  ASSERT_EQ(w.kinds(), "bad_unlock");
  EXPECT_EQ(w.fresh()[0].locks, std::vector<std::string>{"never locked"});
  m.lock();
  EXPECT_FALSE(other_thread_can_lock(m));
  m.unlock();
  EXPECT_TRUE(other_thread_can_lock(m));
  EXPECT_EQ(w.count(), 1u);
}

// The same bad unlock, from the same place, repeated: one report (one problem). Another place: a
// second report.
TEST(Misuse, RepeatedBadUnlockFromOnePlaceIsReportedOnce) {
  report_watch w;
  lockgraph::mutex m("loose");
  for (int i = 0; i < 10; ++i) m.unlock();
  EXPECT_EQ(w.kinds(), "bad_unlock");
  m.unlock();
  EXPECT_EQ(w.kinds(), "bad_unlock bad_unlock");
}

TEST(Misuse, RecursiveMutexUnlockByNonOwnerIsBadUnlock) {
  report_watch w;
  lockgraph::recursive_mutex m("recursive owned by H");
  std::latch held(1), release(1);
  std::thread h([&] {
    m.lock();
    m.lock();
    held.count_down();
    release.wait();
    m.unlock();
    m.unlock();
  });
  held.wait();
  m.unlock();
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].kind, report_kind::bad_unlock);
  EXPECT_EQ(reps[0].locks, std::vector<std::string>{"recursive owned by H"});
  EXPECT_FALSE(other_thread_can_lock(m));
  release.count_down();
  h.join();
  EXPECT_TRUE(other_thread_can_lock(m));
  EXPECT_EQ(w.count(), 1u);
}

// Held exclusive, released with unlock_shared(): bad_unlock; still held exclusive (no reader, no
// writer gets in); the proper unlock() afterwards works without a second report.
TEST(Misuse, UnlockSharedOfALockHeldExclusiveIsBadUnlock) {
  report_watch w;
  lockgraph::shared_mutex m("held exclusive");
  m.lock();
  m.unlock_shared();
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].kind, report_kind::bad_unlock);
  EXPECT_EQ(reps[0].locks, std::vector<std::string>{"held exclusive"});
  EXPECT_EQ(lgtest::held_of(reps[0]), "held exclusive");
  EXPECT_FALSE(other_thread_can_lock_shared(m));
  EXPECT_FALSE(other_thread_can_lock(m));
  m.unlock();
  EXPECT_TRUE(other_thread_can_lock(m));
  EXPECT_EQ(w.count(), 1u);
}

// Held shared, released with unlock(): bad_unlock; still held shared (readers in, writers out).
TEST(Misuse, UnlockOfALockHeldSharedIsBadUnlock) {
  report_watch w;
  lockgraph::shared_timed_mutex m("held shared");
  m.lock_shared();
  m.unlock();
  ASSERT_EQ(w.kinds(), "bad_unlock");
  EXPECT_TRUE(other_thread_can_lock_shared(m));
  EXPECT_FALSE(other_thread_can_lock(m));
  m.unlock_shared();
  EXPECT_TRUE(other_thread_can_lock(m));
  EXPECT_EQ(w.count(), 1u);
}

// ---- unreleased_lock ------------------------------------------------------------------------------

// Destroyed while held by the destroying thread: unreleased_lock naming it. The thread's own
// bookkeeping forgets it: its later locking is normal and its exit reports nothing more.
TEST(Misuse, LockDestroyedWhileHeldIsUnreleasedLock) {
  report_watch w;
  std::thread([&] {
    lockgraph::set_thread_name("destroyer");
    std::optional<lockgraph::mutex> m;
    m.emplace("doomed");
    m->lock();
    m.reset();
    const auto reps = w.fresh();
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].kind, report_kind::unreleased_lock);
    EXPECT_EQ(reps[0].locks, std::vector<std::string>{"doomed"});
    ASSERT_EQ(reps[0].threads.size(), 1u);
    EXPECT_EQ(reps[0].threads[0].thread.name, "destroyer");
    EXPECT_TRUE(contains(reps[0].summary, "destroyed")) << reps[0].summary;
    // The thread's held stack forgot it: nesting and releasing other locks is normal, and the thread
    // exits with nothing held. (Not in the same storage: the std::mutex was destroyed locked.)
    lockgraph::mutex first("first"), second("second");
    first.lock();
    second.lock();
    first.unlock();
    second.unlock();
  }).join();
  EXPECT_EQ(w.kinds(), "unreleased_lock");
}

// Destroyed by another thread while H holds it: one unreleased_lock naming H as the holder. H cannot
// unlock a lock that no longer exists; when H exits, nothing more is reported (the lock is gone).
TEST(Misuse, LockDestroyedByAnotherThreadWhileHeldNamesTheHolder) {
  report_watch w;
  auto m = std::make_unique<lockgraph::mutex>("doomed elsewhere");
  std::latch held(1), destroyed(1);
  std::thread h([&] {
    lockgraph::set_thread_name("holder");
    m->lock();
    held.count_down();
    destroyed.wait();
  });
  held.wait();
  m.reset();
  {
    const auto reps = w.fresh();
    ASSERT_EQ(reps.size(), 1u);
    EXPECT_EQ(reps[0].kind, report_kind::unreleased_lock);
    EXPECT_EQ(reps[0].locks, std::vector<std::string>{"doomed elsewhere"});
    ASSERT_EQ(reps[0].threads.size(), 1u);
    EXPECT_EQ(reps[0].threads[0].thread.name, "holder");  // the holder
    EXPECT_EQ(reps[0].thread.name, "main");               // the thread that noticed: the destroyer
  }
  destroyed.count_down();
  h.join();
  EXPECT_EQ(w.kinds(), "unreleased_lock") << "a destroyed lock was still counted as held by its holder";
}

// A thread that exits holding locks: one unreleased_lock naming the locks and the thread.
TEST(Misuse, ThreadExitingWhileHoldingLocksIsUnreleasedLock) {
  report_watch w;
  lockgraph::mutex a("leaked a");
  lockgraph::shared_mutex b("leaked b");
  std::thread([&] {
    lockgraph::set_thread_name("leaver");
    a.lock();
    b.lock_shared();
  }).join();
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].kind, report_kind::unreleased_lock);
  EXPECT_EQ(reps[0].locks, (std::vector<std::string>{"leaked a", "leaked b"}));
  ASSERT_EQ(reps[0].threads.size(), 1u);
  EXPECT_EQ(reps[0].threads[0].thread.name, "leaver");
  EXPECT_EQ(reps[0].threads[0].holds.size(), 2u);
  EXPECT_TRUE(contains(reps[0].summary, "exited")) << reps[0].summary;
  EXPECT_TRUE(contains(lockgraph::to_text(reps[0]), "leaver")) << lockgraph::to_text(reps[0]);
  // The locks are still held by the dead thread: nobody else can take them.
  EXPECT_FALSE(other_thread_can_lock(a));
  EXPECT_TRUE(other_thread_can_lock_shared(b));
  EXPECT_FALSE(other_thread_can_lock(b));
}

// The name a thread gave itself with pthread_setname_np is used when set_thread_name() was not called.
TEST(Misuse, UnreleasedLockNamesThreadByItsPthreadName) {
  report_watch w;
  lockgraph::mutex a("leaked by pname");
  std::thread([&] {
    pthread_setname_np(pthread_self(), "pname-leaver");
    a.lock();
  }).join();
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 1u);
  ASSERT_EQ(reps[0].threads.size(), 1u);
  EXPECT_EQ(reps[0].threads[0].thread.name, "pname-leaver");
  EXPECT_EQ(reps[0].locks, std::vector<std::string>{"leaked by pname"});
}

// A thread exiting with nothing held reports nothing (after it took and released many locks).
TEST(Misuse, ThreadExitingWithNothingHeldReportsNothing) {
  report_watch w;
  lockgraph::mutex a("a"), b("b");
  std::thread([&] {
    for (int i = 0; i < 100; ++i) {
      std::scoped_lock both(a, b);
    }
  }).join();
  EXPECT_EQ(w.kinds(), "");
}

// ---- self-deadlock end to end: files, and abort_on_deadlock=0 ---------------------------------------

std::map<std::string, std::string> child_env(const std::string& lockgraph_options) {
  std::map<std::string, std::string> env{{"LOCKGRAPH_OPTIONS", lockgraph_options}};
#if LGTEST_TSAN
  // The program releases the std::mutex from a thread that does not own it (on purpose); and
  // lockgraph, not TSan, is the deadlock detector under test.
  env["TSAN_OPTIONS"] = "detect_deadlocks=0 report_mutex_bugs=0 halt_on_error=1";
#endif
  return env;
}

// By default a self-deadlock is reported, its files written, and the process aborts.
TEST(Misuse, SelfDeadlockWritesReportFilesThenAborts) {
  lgtest::temp_dir dir;
  const auto r = lgtest::run({lgtest::program("self_deadlock_program")}, child_env("report_dir=" + dir.str()), 60s);
  EXPECT_TRUE(r.killed_by(SIGABRT)) << r.describe();
  EXPECT_TRUE(contains(r.err, "lockgraph: self-deadlock: thread T0 (main) blocks on lock self.m it already holds"))
      << r.describe();
  EXPECT_TRUE(contains(r.out, "reported")) << r.describe();
  EXPECT_FALSE(contains(r.out, "survived")) << r.describe();
  const auto json = dir.files_ending(".json");
  ASSERT_EQ(json.size(), 1u) << r.describe();
  EXPECT_EQ(dir.files_ending(".dot").size(), 1u);
  const std::string text = lgtest::read_file(dir.path() / json[0]);
  EXPECT_TRUE(std::regex_search(text, std::regex(R"("kind"\s*:\s*"self_deadlock")"))) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex(R"("locks"\s*:\s*\[\s*"self\.m"\s*\])"))) << text;
}

// abort_on_deadlock=0: reported, then the thread blocks as std::mutex would (the program's rescuer
// thread then frees the underlying mutex) and the process runs on to a normal exit.
TEST(Misuse, AbortOnDeadlockZeroReportsAndDoesNotAbort) {
  const auto r = lgtest::run({lgtest::program("self_deadlock_program")}, child_env("abort_on_deadlock=0"), 60s);
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_TRUE(contains(r.err, "lockgraph: self-deadlock:")) << r.describe();
  EXPECT_EQ(lgtest::count_of(r.err, "==================\nlockgraph: "), 1u) << r.describe();
  EXPECT_EQ(r.out, "reported\nsurvived\n") << r.describe();
}

}  // namespace
