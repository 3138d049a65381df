// A test program linked with lockgraph::gtest_main; gtest_hook_test.cpp runs it and reads its verdicts.
#include <gtest/gtest.h>

#include <latch>
#include <mutex>
#include <thread>

#include "lockgraph/lockgraph.hpp"

namespace {

lockgraph::mutex a("a");
lockgraph::mutex b("b");

TEST(Listener, CleanTestPasses) {
  std::lock_guard<lockgraph::mutex> ga(a);
  std::lock_guard<lockgraph::mutex> gb(b);
}

// Closes the cycle a => b => a: this test, and only this one, must fail.
TEST(Listener, InversionFailsTheTestThatIntroducedIt) {
  std::lock_guard<lockgraph::mutex> gb(b);
  std::lock_guard<lockgraph::mutex> ga(a);
}

TEST(Listener, LaterCleanTestPasses) {
  std::lock_guard<lockgraph::mutex> ga(a);
}

// An inversion made on purpose inside an expect_report: swallowed, the test passes.
TEST(Listener, ExpectedInversionIsSwallowed) {
  lockgraph::mutex c("c"), d("d");
  lockgraph::expect_report expected(lockgraph::report_kind::lock_order_inversion, "c");
  {
    std::lock_guard<lockgraph::mutex> gc(c);
    std::lock_guard<lockgraph::mutex> gd(d);
  }
  std::thread([&] {
    std::lock_guard<lockgraph::mutex> gd(d);
    std::lock_guard<lockgraph::mutex> gc(c);
  }).join();
}

// No such report comes: the test fails at the expectation's line.
TEST(Listener, UnmetExpectationFailsTheTest) {
  lockgraph::expect_report never(lockgraph::report_kind::bad_unlock, "nowhere");
}

// reset() empties reports(): a report raised after it in the same test still fails the test.
TEST(Listener, ReportAfterResetFailsTheTest) {
  lockgraph::reset();
  lockgraph::mutex e("e"), f("f");
  {
    std::lock_guard<lockgraph::mutex> ge(e);
    std::lock_guard<lockgraph::mutex> gf(f);
  }
  std::lock_guard<lockgraph::mutex> gf(f);
  std::lock_guard<lockgraph::mutex> ge(e);
}

// Leaves `held` locked at the end: fails only when quiescence is checked.
TEST(Listener, LockLeftHeldFailsWhenQuiescenceIsChecked) {
  static lockgraph::mutex held("left-held");
  held.lock();
}

// The lock left held by the test above is still held: that test was blamed, this one is not.
TEST(Listener, TestAfterALeakIsNotBlamedForIt) {
  lockgraph::mutex g("g");
  std::lock_guard<lockgraph::mutex> gg(g);
}

}  // namespace
