// lockgraph/control.hpp: forget(), ignore_scope, reset() and expect_report, in-process.
#include <gtest/gtest.h>

#include <latch>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "lockgraph/lockgraph.hpp"
#include "lockgraph/tbb.hpp"
#include "support/reports.hpp"
#include "support/subprocess.hpp"
#include "support/text.hpp"
#include "support/threads.hpp"

namespace {

using lockgraph::report_kind;
using lgtest::contains;
using lgtest::in_thread;
using lgtest::nest;

// ---- forget(lock) ---------------------------------------------------------------------------------

template <class L>
class Forget : public ::testing::Test {};
using lock_types = ::testing::Types<lockgraph::mutex, lockgraph::timed_mutex, lockgraph::recursive_mutex,
                                    lockgraph::recursive_timed_mutex, lockgraph::shared_mutex,
                                    lockgraph::shared_timed_mutex, lockgraph::tbb::spin_mutex,
                                    lockgraph::tbb::spin_rw_mutex, lockgraph::tbb::rw_mutex>;
TYPED_TEST_SUITE(Forget, lock_types);

// a -> b, forget(a), then b -> a: no cycle, for a's old edge is gone. Control: the reverse order
// after it (a -> b again) closes the cycle with the new b -> a, so the lock still takes part.
TYPED_TEST(Forget, TheLocksEdgesLeaveTheGraph) {
  TypeParam a("a");
  lockgraph::mutex b("b");
  nest(a, b);
  lockgraph::forget(a);
  nest(b, a);
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  lockgraph::expect_report inversion(report_kind::lock_order_inversion, "a");
  nest(a, b);
  ASSERT_EQ(inversion.caught().size(), 1u);
  EXPECT_EQ(lgtest::canonical_cycle(inversion.caught()[0]), "a => b => a");
}

// Forgotten while this thread holds it: the hold stays (unlock works), and what is nested under it
// now is recorded with its new node.
TEST(ForgetHeld, OwnHoldMovesToTheNewNode) {
  lockgraph::mutex a("a"), b("b"), c("c");
  nest(a, c);
  {
    std::lock_guard<lockgraph::mutex> ga(a);
    lockgraph::forget(a);
    std::lock_guard<lockgraph::mutex> gb(b);  // a -> b, with a's new node
  }
  lockgraph::expect_report inversion(report_kind::lock_order_inversion);
  in_thread([&] { nest(b, a); });
  ASSERT_EQ(inversion.caught().size(), 1u);
  EXPECT_EQ(lgtest::canonical_cycle(inversion.caught()[0]), "a => b => a");
  in_thread([&] { nest(c, a); });  // a -> c went with the old node: no second report
  EXPECT_EQ(inversion.caught().size(), 1u);
}

// ---- ignore_scope ---------------------------------------------------------------------------------

// a -> b inside the scope, b -> a outside: no edge was recorded inside, so no cycle.
TEST(IgnoreScope, AcquisitionsInsideAddNoEdges) {
  lockgraph::mutex a("a"), b("b");
  {
    lockgraph::ignore_scope safe;
    nest(a, b);
  }
  nest(b, a);
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  // Control: outside any scope the same nesting is recorded, and closes the cycle b -> a -> b.
  lockgraph::expect_report inversion(report_kind::lock_order_inversion);
  nest(a, b);
  EXPECT_EQ(inversion.caught().size(), 1u);
}

TEST(IgnoreScope, NestsAndEndsWithTheOutermost) {
  lockgraph::mutex a("a"), b("b"), c("c");
  {
    lockgraph::ignore_scope outer;
    {
      lockgraph::ignore_scope inner;
      nest(a, b);
    }
    nest(b, c);  // still inside `outer`
  }
  nest(b, a);
  nest(c, b);
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  lockgraph::expect_report inversion(report_kind::lock_order_inversion);
  nest(a, b);  // outside every scope: recorded, closes b -> a -> b
  EXPECT_EQ(inversion.caught().size(), 1u);
}

// A lock taken inside and released outside (and the reverse) is held and released as usual.
TEST(IgnoreScope, HeldStackStaysConsistentAcrossTheScopeBoundary) {
  lockgraph::mutex a("a"), b("b");
  a.lock();  // outside
  {
    lockgraph::ignore_scope safe;
    b.lock();  // inside, under a: no edge
    a.unlock();  // taken outside, released inside
  }
  b.unlock();  // taken inside, released outside
  a.assert_not_held();
  b.assert_not_held();
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  // b, taken inside and still held after the scope, passes its order on to what comes after it.
  {
    lockgraph::ignore_scope safe;
    b.lock();
  }
  a.lock();  // b -> a recorded
  a.unlock();
  b.unlock();
  lockgraph::expect_report inversion(report_kind::lock_order_inversion, "b");
  nest(a, b);
  EXPECT_EQ(inversion.caught().size(), 1u);
}

// The scope is the constructing thread's: another thread's nesting meanwhile is recorded.
TEST(IgnoreScope, AppliesToItsOwnThreadOnly) {
  lockgraph::mutex a("a"), b("b");
  std::latch scope_open(1), other_done(1);
  std::thread ignoring([&] {
    lockgraph::ignore_scope safe;
    scope_open.count_down();
    other_done.wait();
    nest(b, a);  // ignored
  });
  scope_open.wait();
  nest(a, b);  // recorded
  other_done.count_down();
  ignoring.join();
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  lockgraph::expect_report inversion(report_kind::lock_order_inversion);
  in_thread([&] { nest(b, a); });
  EXPECT_EQ(inversion.caught().size(), 1u);
}

// Misuse is still reported inside: a bad unlock is no matter of lock order.
TEST(IgnoreScope, BadUnlockIsStillReported) {
  lockgraph::mutex a("a");
  lockgraph::ignore_scope safe;
  lockgraph::expect_report bad(report_kind::bad_unlock, "a");
  a.unlock();
  EXPECT_EQ(bad.caught().size(), 1u);
}

// ---- reset() --------------------------------------------------------------------------------------

TEST(Reset, ForgetsReportsAndEdges) {
  lockgraph::mutex a("a"), b("b");
  nest(a, b);
  in_thread([&] { nest(b, a); });
  ASSERT_EQ(lockgraph::reports().size(), 1u);
  lockgraph::reset();
  EXPECT_TRUE(lockgraph::reports().empty());
  // The edges are gone: b -> a alone is no cycle now...
  in_thread([&] { nest(b, a); });
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  // ...and the same inversion is reported again (the dedupe state went too).
  nest(a, b);
  ASSERT_EQ(lockgraph::reports().size(), 1u);
  EXPECT_EQ(lgtest::canonical_cycle(lockgraph::reports()[0]), "a => b => a");
}

// Locks held across reset() stay held: they unlock cleanly, and what is nested under them is recorded.
TEST(Reset, LocksHeldAcrossItStayHeld) {
  lockgraph::mutex a("a"), b("b");
  lockgraph::shared_mutex rw("rw");
  nest(b, a);
  a.lock();
  rw.lock_shared();
  lockgraph::reset();
  a.assert_held();
  rw.assert_shared_held();
  b.lock();  // a -> b (and rw -> b), recorded after the reset
  b.unlock();
  rw.unlock_shared();
  a.unlock();
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
  lockgraph::expect_report inversion(report_kind::lock_order_inversion, "a");
  in_thread([&] { nest(b, a); });
  EXPECT_EQ(inversion.caught().size(), 1u);
}

// ---- expect_report --------------------------------------------------------------------------------

TEST(ExpectReport, SwallowsTheExpectedReport) {
  lockgraph::mutex a("a"), b("b");
  {
    lockgraph::expect_report inversion(report_kind::lock_order_inversion, "a");
    nest(a, b);
    in_thread([&] { nest(b, a); });
    EXPECT_TRUE(inversion.met());
    ASSERT_EQ(inversion.caught().size(), 1u);
    EXPECT_EQ(lgtest::canonical_cycle(inversion.caught()[0]), "a => b => a");
    EXPECT_TRUE(inversion.end());
  }
  EXPECT_TRUE(lockgraph::reports().empty()) << lgtest::kinds_of(lockgraph::reports());
}

// Caught on any thread, while it lives.
TEST(ExpectReport, CatchesReportsOfOtherThreads) {
  lockgraph::mutex a("a");
  lockgraph::expect_report bad(report_kind::bad_unlock);
  in_thread([&] { a.unlock(); });
  EXPECT_EQ(bad.caught().size(), 1u);
  EXPECT_TRUE(lockgraph::reports().empty());
}

TEST(ExpectReport, MissingReportFails) {
  testing::internal::CaptureStderr();
  lockgraph::expect_report never(report_kind::lock_order_inversion, "nowhere");
  const int line = __LINE__ - 1;
  EXPECT_FALSE(never.end());
  EXPECT_FALSE(never.met());
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(contains(err, "lockgraph: expect_report(lock_order_inversion, \"nowhere\") at ")) << err;
  EXPECT_TRUE(contains(err, "control_test.cpp:" + std::to_string(line) +
                                ": no such report was raised while it lived"))
      << err;
}

// A report of another kind, or naming other locks, is not caught: it is raised as usual.
TEST(ExpectReport, OnlyMatchingReportsAreCaught) {
  lockgraph::mutex a("a"), b("b");
  testing::internal::CaptureStderr();
  bool met_kind = true;
  bool met_lock = true;
  {
    lockgraph::expect_report wrong_kind(report_kind::bad_unlock);
    lockgraph::expect_report wrong_lock(report_kind::lock_order_inversion, "zzz");
    nest(a, b);
    in_thread([&] { nest(b, a); });
    met_kind = wrong_kind.end();
    met_lock = wrong_lock.end();
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(met_kind);
  EXPECT_FALSE(met_lock);
  ASSERT_EQ(lockgraph::reports().size(), 1u);
  EXPECT_EQ(lockgraph::reports()[0].kind, report_kind::lock_order_inversion);
  EXPECT_TRUE(contains(err, "lock-order-inversion")) << err;
}

// Swallowed reports are not remembered: the same problem outside the expectation is reported.
TEST(ExpectReport, SwallowedProblemIsReportedWhenItRecursOutside) {
  lockgraph::mutex a("a");
  {
    lockgraph::expect_report bad(report_kind::bad_unlock);
    a.unlock();
  }
  EXPECT_TRUE(lockgraph::reports().empty());
  a.unlock();
  EXPECT_EQ(lgtest::kinds_of(lockgraph::reports()), "bad_unlock");
}

// Exit status: an unmet expectation counts for exitcode=N like a report; a swallowed report does not;
// reset() does not undo a report's count.
std::string control_program() { return LOCKGRAPH_TEST_PROGRAM_DIR "/control_program"; }

TEST(ExpectReportExit, UnmetExpectationCountsForExitcode) {
  const lgtest::run_result r = lgtest::run({control_program(), "unmet"}, {{"LOCKGRAPH_OPTIONS", "exitcode=7"}},
                                           std::chrono::seconds(60));
  EXPECT_TRUE(r.exited_with(7)) << r.describe();
  EXPECT_TRUE(contains(r.err, "no such report was raised while it lived")) << r.describe();
}

TEST(ExpectReportExit, SwallowedReportDoesNotCount) {
  const lgtest::run_result r = lgtest::run({control_program(), "swallowed"}, {{"LOCKGRAPH_OPTIONS", "exitcode=7"}},
                                           std::chrono::seconds(60));
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_FALSE(contains(r.err, "lock-order-inversion")) << r.describe();
}

TEST(ExpectReportExit, ResetDoesNotUndoTheExitStatus) {
  const lgtest::run_result r = lgtest::run({control_program(), "reset"}, {{"LOCKGRAPH_OPTIONS", "exitcode=7"}},
                                           std::chrono::seconds(60));
  EXPECT_TRUE(r.exited_with(7)) << r.describe();
}

}  // namespace
