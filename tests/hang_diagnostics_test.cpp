// Issue 9, items 4 and 5: what lockgraph says about a hang, and what it calls one.
//
// Item 4: long_wait reports (the text and JSON that check_quiescent(), the watchdog, dump_signal and
// the gate's hang dump all print) must show every thread's held locks with their sites, the captured
// wait stack, and a holder that has exited.
// Item 5: a condition-variable wait with no lockgraph lock held is idle, not a hang; but when every
// thread of the process is blocked in a lockgraph wait with no time-out, nothing can wake them: that is
// reported at once as report kind `all_threads_blocked` (a decision of this test, see
// docs/notes/issue9-plan.md), with every thread's wait and holdings, and ends the process like a
// deadlock (files written, then abort).
//
// Each test failed before its item was fixed (regression tests for issue 9).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "lockgraph/lockgraph.hpp"
#include "support/subprocess.hpp"

namespace {

using lgtest::program;
using lgtest::run;
using lgtest::run_life;
using lgtest::run_result;
using namespace std::chrono_literals;

// Polls check_quiescent() (a condition, not a hoped-for delay) until it lists a long_wait on `lock`.
bool find_long_wait(const std::string& lock, lockgraph::report* out) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& r : lockgraph::check_quiescent()) {
      if (r.kind == lockgraph::report_kind::long_wait && !r.locks.empty() && r.locks[0] == lock) {
        *out = r;
        return true;
      }
    }
    std::this_thread::yield();
  }
  return false;
}

bool holds(const lockgraph::thread_state& ts, const std::string& lock, bool* with_site) {
  const auto it = std::find_if(ts.holds.begin(), ts.holds.end(), [&](const auto& h) { return h.lock == lock; });
  if (it == ts.holds.end()) return false;
  *with_site = !it->stack.empty();
  return true;
}

// The text between "--- <from>\n" and the next "--- " line of a program's output.
std::string section(const std::string& out, const std::string& from) {
  const std::string start = "--- " + from + "\n";
  const auto at = out.find(start);
  if (at == std::string::npos) return "";
  const auto end = out.find("\n--- ", at + start.size());
  return out.substr(at + start.size(), end == std::string::npos ? std::string::npos : end - at - start.size());
}

// ---- item 4 ------------------------------------------------------------------------------------------

// A worker holds hd.held and blocks on hd.x, which this thread holds. The long_wait report must list
// the worker's held lock with its site, the worker's wait stack, and the holder's hold of hd.x; its
// text must not claim "holds no locks" for either thread.
TEST(HangDiagnostics, LongWaitShowsHeldLocksAndTheWaitStack) {
  lockgraph::mutex held("hd.held");
  lockgraph::mutex x("hd.x");
  x.lock();
  std::thread worker([&] {
    std::lock_guard<lockgraph::mutex> g(held);
    std::lock_guard<lockgraph::mutex> gx(x);
  });
  lockgraph::report r;
  const bool found = find_long_wait("hd.x", &r);
  x.unlock();
  worker.join();
  ASSERT_TRUE(found);
  ASSERT_GE(r.threads.size(), 2u) << lockgraph::to_text(r);
  bool site = false;
  EXPECT_TRUE(holds(r.threads[0], "hd.held", &site)) << lockgraph::to_text(r);
  EXPECT_TRUE(site) << "the held lock's acquisition site is missing\n" << lockgraph::to_text(r);
  EXPECT_FALSE(r.threads[0].stack.empty()) << "the captured wait stack was dropped\n" << lockgraph::to_text(r);
  EXPECT_TRUE(holds(r.threads[1], "hd.x", &site)) << "the holder's locks are missing\n" << lockgraph::to_text(r);
  const std::string text = lockgraph::to_text(r);
  EXPECT_EQ(text.find("holds no locks"), std::string::npos) << text;
  EXPECT_NE(lockgraph::to_json(r).find("\"hd.held\""), std::string::npos) << lockgraph::to_json(r);
}

// The holder of the awaited lock exited without releasing it: the long_wait names it, marked as exited
// (text "(exited)", JSON "exited": true on its thread entry, a decision of this test).
TEST(HangDiagnostics, LongWaitNamesAnExitedHolder) {
  const run_result r = run_life({"exited_holder"}, "");
  ASSERT_TRUE(r.exited_with(0)) << r.describe();
  const std::string text = section(r.out, "text");
  const std::string json = section(r.out, "json");
  ASSERT_FALSE(text.empty()) << r.describe();
  EXPECT_NE(text.find("held by thread T1"), std::string::npos) << text;
  EXPECT_NE(text.find("(exited)"), std::string::npos) << text;
  EXPECT_NE(text.find("lw.held"), std::string::npos) << "the waiter's own held lock is missing\n" << text;
  EXPECT_NE(json.find("\"exited\": true"), std::string::npos) << json;
}

// ---- item 5 ------------------------------------------------------------------------------------------

// Four workers idle in condition_variable::wait holding nothing, past long_wait_ms: no long_wait for
// them; two threads blocked on a lock past the threshold are still reported (the test can fail both
// ways). The program shuts down cleanly: a running main is not "all threads blocked".
TEST(IdleWaits, IdleConditionWaitsAreNotLongWaits) {
  const run_result r = run_life({"idle_pool"}, "long_wait_ms=100");
  ASSERT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_NE(r.out.find("idle_reports=0 blocked_reports=2\n"), std::string::npos) << r.describe();
}

// Every thread is asleep for good: main waits on a condition variable whose producer exited. Reported
// at once as all_threads_blocked (JSON file written), then the process aborts, long before any time-out.
TEST(IdleWaits, AllThreadsAsleepOnAConditionVariableIsReported) {
  lgtest::temp_dir dir;
  const run_result r = run_life({"asleep_cv"}, "report_dir=" + dir.str(), 10s);
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_TRUE(r.killed_by(SIGABRT)) << r.describe();
  const auto json = dir.files_ending(".json");
  ASSERT_EQ(json.size(), 1u) << r.describe();
  const std::string body = lgtest::read_file(dir.path() / json[0]);
  EXPECT_NE(body.find("\"kind\": \"all_threads_blocked\""), std::string::npos) << body;
  EXPECT_NE(body.find("asleep.cv"), std::string::npos) << body;
}

// The last two threads wait on each other through condition variables.
TEST(IdleWaits, LastThreadsWaitingOnEachOtherAreReported) {
  lgtest::temp_dir dir;
  const run_result r = run_life({"asleep_pair"}, "report_dir=" + dir.str(), 10s);
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_TRUE(r.killed_by(SIGABRT)) << r.describe();
  const auto json = dir.files_ending(".json");
  ASSERT_EQ(json.size(), 1u) << r.describe();
  const std::string body = lgtest::read_file(dir.path() / json[0]);
  EXPECT_NE(body.find("\"kind\": \"all_threads_blocked\""), std::string::npos) << body;
  EXPECT_NE(body.find("pair.to_main"), std::string::npos) << body;
  EXPECT_NE(body.find("pair.to_worker"), std::string::npos) << body;
}

// Controls: threads that notify and then wait (a ping-pong) are never all asleep, however the waits and
// notifies interleave; nor is a process whose other thread works outside lockgraph.
TEST(IdleWaits, PingPongIsNotAllThreadsBlocked) {
  const run_result r = run_life({"ping_pong", "20000"}, "", 60s);
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_NE(r.out.find("rounds=20000\n"), std::string::npos) << r.describe();
  EXPECT_EQ(r.err.find("all threads blocked"), std::string::npos) << r.describe();
}

TEST(IdleWaits, TimedWaitIsNotAllThreadsBlocked) {
  const run_result r = run_life({"asleep_timed"}, "");
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_NE(r.out.find("timed out\n"), std::string::npos) << r.describe();
  EXPECT_EQ(r.err.find("all threads blocked"), std::string::npos) << r.describe();
}

TEST(IdleWaits, ThreadOutsideLockgraphMeansNotAllAsleep) {
  const run_result r = run_life({"outside_worker"}, "");
  EXPECT_TRUE(r.exited_with(0)) << r.describe();
  EXPECT_NE(r.out.find("woke up\n"), std::string::npos) << r.describe();
  EXPECT_EQ(r.err.find("all threads blocked"), std::string::npos) << r.describe();
}

}  // namespace
