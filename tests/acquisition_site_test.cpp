// Held locks carry where they were acquired: reports name the file and line of the lock() call.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "lockgraph/lockgraph.hpp"
#include "support/stacks.hpp"

namespace {

int g_line = 0;

// Real code does something after lock(); without that the compiler may tail-call lock(), and then no
// return address anywhere points back here (a debugger's backtrace would not show it either).
void forget_to_unlock(lockgraph::mutex& m) {
  g_line = __LINE__ + 1;
  m.lock();
  __asm__ __volatile__("" ::: "memory");
}

TEST(AcquisitionSite, UnreleasedLockAtThreadExitNamesTheLockCall) {
  LGTEST_REQUIRE_INLINE_FRAMES();
  lockgraph::mutex m("forgotten");
  std::thread([&] { forget_to_unlock(m); }).join();
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  ASSERT_EQ(reps[0].threads.size(), 1u);
  ASSERT_EQ(reps[0].threads[0].holds.size(), 1u);
  const std::string where = reps[0].threads[0].holds[0].stack.to_string();
  EXPECT_NE(where.find("acquisition_site_test.cpp:" + std::to_string(g_line)), std::string::npos) << where;
  EXPECT_EQ(where.find("lockgraph::detail"), std::string::npos) << where;  // lockgraph's own frames hidden
  EXPECT_NE(lockgraph::to_text(reps[0]).find("acquired at:"), std::string::npos);
}

TEST(AcquisitionSite, GuardedAcquisitionPointsAtTheGuardsLine) {
  LGTEST_REQUIRE_INLINE_FRAMES();
  lockgraph::mutex a("a");
  lockgraph::mutex b("b");
  int line = 0;
  {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::lock_guard<lockgraph::mutex> gb(b);
  }
  {
    std::lock_guard<lockgraph::mutex> gb(b); line = __LINE__;
    std::lock_guard<lockgraph::mutex> ga(a);  // closes a => b => a; the report lists what was held: b
  }
  const auto reps = lockgraph::reports();
  ASSERT_EQ(reps.size(), 1u);
  ASSERT_EQ(reps[0].held.size(), 1u);
  EXPECT_EQ(reps[0].held[0].lock, "b");
  const std::string where = reps[0].held[0].stack.to_string();
  EXPECT_NE(where.find("acquisition_site_test.cpp:" + std::to_string(line)), std::string::npos) << where;
}

}  // namespace
