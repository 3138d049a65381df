// Real deadlocks (circular waits) detected the moment they close: report, then abort.
// Each scenario forces its interleaving with latches and runs in a death-test child process.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <unistd.h>

#include "lockgraph/lockgraph.hpp"
#include "runtime/runtime.hpp"
#include "threads/wait_for_graph.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// The bound on "cycle closed -> report" (the report includes its symbolized text, ~0.25 s in a
// normal build with a cold symbolizer). Sanitizers slow symbolizing several-fold and share the
// machine with other builds: generous there.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::chrono::seconds kReportBound{20};
#else
constexpr std::chrono::seconds kReportBound{2};
#endif

// A temporary directory shared by a death test and its child: the "threadsafe" style re-runs the test
// body in a fresh process, so the parent creates the directory and hands it down in the environment.
std::string shared_temp_dir() {
  if (const char* dir = std::getenv("LOCKGRAPH_TEST_SHARED_DIR")) return dir;
  char dir_template[] = "/tmp/lockgraph-test-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) return "/tmp";
  ::setenv("LOCKGRAPH_TEST_SHARED_DIR", dir_template, 1);
  return dir_template;
}

class DeadlockDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// When the last thread of a ring is about to block (steady clock, ns): the cycle closes then.
std::atomic<std::int64_t> g_last_block_ns{0};

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count();
}

// The promise "a deadlock is reported the moment it closes", measured where it is made: from the last
// thread's step into the cycle to the report, inside the child. Process start-up, thread creation and
// the abort are not part of it (under ThreadSanitizer on a loaded machine they alone took seconds).
// The child says whether it kept the promise; the death-test regex asks for the line.
void expect_report_within(std::chrono::milliseconds bound) {
  lockgraph::set_report_handler([bound](const lockgraph::report& r) {
    if (r.kind != lockgraph::report_kind::deadlock) return;
    const std::int64_t elapsed = steady_ns() - g_last_block_ns.load();
    const bool kept = elapsed < std::chrono::duration_cast<std::chrono::nanoseconds>(bound).count();
    std::fprintf(stderr, "lgtest: cycle closed -> report: %lld us (%s)\n", static_cast<long long>(elapsed / 1000),
                 kept ? "within bound" : "TOO SLOW");
  });
}

// N threads in a ring: thread i holds lock i, then (after everyone holds one) wants lock i+1.
[[noreturn]] void ring(int n) {
  std::vector<std::unique_ptr<lockgraph::mutex>> locks;
  for (int i = 0; i < n; ++i) locks.push_back(std::make_unique<lockgraph::mutex>("ring" + std::to_string(i)));
  std::barrier all_hold(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      lockgraph::set_thread_name("philosopher-" + std::to_string(i));
      std::lock_guard<lockgraph::mutex> mine(*locks[i]);
      all_hold.arrive_and_wait();
      const std::int64_t now = steady_ns();
      for (std::int64_t seen = g_last_block_ns.load(); seen < now && !g_last_block_ns.compare_exchange_weak(seen, now);) {
      }
      std::lock_guard<lockgraph::mutex> next(*locks[(i + 1) % n]);
    });
  }
  for (auto& t : threads) t.join();
  std::_Exit(0);  // not reached: the ring deadlocks
}

// Cycle: T1 holds ring0 and waits for ring1, T2 holds ring1 and waits for ring0.
TEST_F(DeadlockDeathTest, TwoThreadsAbortWithinTwoSeconds) {
  EXPECT_EXIT((expect_report_within(kReportBound), ring(2)), ::testing::KilledBySignal(SIGABRT),
              "lockgraph: deadlock \\(threads blocked in a circular wait\\).*Cycle in wait-for graph: T[0-9]+ -> ring[01] -> T[0-9]+ -> ring[01] -> T"
              ".*lgtest: cycle closed -> report: [0-9]+ us \\(within bound\\)");
}

// Cycle: ring0 -> ring1 -> ring2 -> ring0 over three threads.
TEST_F(DeadlockDeathTest, ThreeThreadsAbortWithinTwoSeconds) {
  EXPECT_EXIT((expect_report_within(kReportBound), ring(3)), ::testing::KilledBySignal(SIGABRT),
              "lockgraph: deadlock.*Cycle in wait-for graph: (T[0-9]+ -> ring[0-2] -> ){3}T"
              ".*lgtest: cycle closed -> report: [0-9]+ us \\(within bound\\)");
}

TEST_F(DeadlockDeathTest, EightThreadRing) {
  EXPECT_EXIT(ring(8), ::testing::KilledBySignal(SIGABRT), "Cycle in wait-for graph: (T[0-9]+ -> ring[0-7] -> ){8}T");
}

// The main thread is one side of the cycle.
TEST_F(DeadlockDeathTest, MainThreadTakesPart) {
  EXPECT_EXIT(
      {
        lockgraph::mutex a("a");
        lockgraph::mutex b("b");
        std::latch worker_holds_b(1);
        std::lock_guard<lockgraph::mutex> ga(a);
        std::thread worker([&] {
          std::lock_guard<lockgraph::mutex> gb(b);
          worker_holds_b.count_down();
          std::lock_guard<lockgraph::mutex> ga2(a);
        });
        worker_holds_b.wait();
        std::lock_guard<lockgraph::mutex> gb(b);
        worker.join();
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGABRT), "Thread T0 \\(main\\) waits for lock b");
}

// A writer waits for a reader that waits for the writer's lock: shared locks take part too.
TEST_F(DeadlockDeathTest, ReaderAndWriterOnSharedMutexes) {
  EXPECT_EXIT(
      {
        lockgraph::shared_mutex a("table");
        lockgraph::shared_mutex b("index");
        std::barrier both_hold(2);
        std::thread reader([&] {
          std::shared_lock<lockgraph::shared_mutex> ra(a);
          both_hold.arrive_and_wait();
          std::shared_lock<lockgraph::shared_mutex> rb(b);
        });
        std::thread writer([&] {
          std::unique_lock<lockgraph::shared_mutex> wb(b);
          both_hold.arrive_and_wait();
          std::unique_lock<lockgraph::shared_mutex> wa(a);
        });
        reader.join();
        writer.join();
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGABRT), "lockgraph: deadlock.*waits for lock (table|index) \\(shared\\)");
}

// Mixed types: a timed_mutex and a recursive_mutex (re-entered first) close a cycle.
TEST_F(DeadlockDeathTest, MixedMutexTypes) {
  EXPECT_EXIT(
      {
        lockgraph::timed_mutex a("timed");
        lockgraph::recursive_mutex b("recursive");
        std::barrier both_hold(2);
        std::thread t1([&] {
          std::lock_guard<lockgraph::timed_mutex> ga(a);
          both_hold.arrive_and_wait();
          std::lock_guard<lockgraph::recursive_mutex> gb(b);
        });
        std::thread t2([&] {
          std::lock_guard<lockgraph::recursive_mutex> gb(b);
          std::lock_guard<lockgraph::recursive_mutex> again(b);
          both_hold.arrive_and_wait();
          std::lock_guard<lockgraph::timed_mutex> ga(a);
        });
        t1.join();
        t2.join();
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGABRT), "Cycle in wait-for graph");
}

// Files are complete before the abort.
TEST_F(DeadlockDeathTest, WritesReportFilesBeforeAborting) {
  const std::string dir = shared_temp_dir();
  EXPECT_EXIT(
      {
        ::setenv("LOCKGRAPH_OPTIONS", ("report_dir=" + dir + ":print_reports=0").c_str(), 1);
        ring(2);
      },
      ::testing::KilledBySignal(SIGABRT), "");
  int json = 0, dot = 0;
  bool saw_deadlock = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto ext = entry.path().extension();
    json += ext == ".json";
    dot += ext == ".dot";
    EXPECT_NE(ext, ".tmp") << entry.path();
    if (ext == ".json") {
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      saw_deadlock |= text.str().find("\"kind\": \"deadlock\"") != std::string::npos;
    }
  }
  // The inversion (recorded before blocking) and the deadlock.
  EXPECT_EQ(json, 2);
  EXPECT_EQ(dot, 2);
  EXPECT_TRUE(saw_deadlock);
  std::filesystem::remove_all(dir);
}

// abort_on_deadlock=0: the threads stay blocked (as with std::mutex), and the wait-for graph shows the
// cycle in red. The child writes the DOT and exits on its own.
TEST_F(DeadlockDeathTest, WaitForDotShowsTheCycleWhenNotAborting) {
  const std::string dir = shared_temp_dir();
  const std::string path = dir + "/wait_for.dot";
  EXPECT_EXIT(
      {
        ::setenv("LOCKGRAPH_OPTIONS", "abort_on_deadlock=0:print_reports=0", 1);
        auto* a = new lockgraph::mutex("left");
        auto* b = new lockgraph::mutex("right");
        std::barrier both_hold(2);
        std::thread([&] {
          a->lock();
          both_hold.arrive_and_wait();
          b->lock();
        }).detach();
        std::thread([&] {
          b->lock();
          both_hold.arrive_and_wait();
          a->lock();
        }).detach();
        // The deadlock report is raised once both are blocked; wait for it, then look.
        while (lockgraph::reports().size() < 2) std::this_thread::yield();
        std::ofstream(path) << lockgraph::wait_for_dot();
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string dot = text.str();
  EXPECT_NE(dot.find("circular wait"), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"waits for\", color=red"), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"held by\", color=red"), std::string::npos) << dot;
  const std::string cmd = "dot -Tsvg -o /dev/null " + path + " 2>&1";
  if (std::FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[256];
    std::string out;
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    EXPECT_EQ(::pclose(p), 0);
    EXPECT_EQ(out, "");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
