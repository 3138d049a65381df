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

// Leaves `held` locked at the end: fails only when quiescence is checked.
TEST(Listener, LockLeftHeldFailsWhenQuiescenceIsChecked) {
  static lockgraph::mutex held("left-held");
  held.lock();
}

}  // namespace
