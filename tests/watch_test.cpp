// Long waits, quiescence checkpoints, the lock-order DOT and the dump signal.
//
// Options are read once per process, so each scenario runs in a death-test child ("threadsafe" style:
// a fresh process) that sets LOCKGRAPH_OPTIONS first, checks what it must, and exits 0 only if all
// checks held; failures print a line the parent shows.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <latch>
#include <mutex>
#include <string>
#include <thread>

#include "lockgraph/lockgraph.hpp"
#include "support/text.hpp"

namespace {

class WatchDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// In the child: a failed check prints and exits 1.
#define CHILD_CHECK(cond)                                                       \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "check failed at line %d: %s\n", __LINE__, #cond); \
      std::_Exit(1);                                                            \
    }                                                                           \
  } while (0)

using lgtest::contains;

// Resolves `seen` the first time a report of `kind` is raised.
void notify_on(lockgraph::report_kind kind, std::promise<lockgraph::report>* seen) {
  auto done = std::make_shared<std::once_flag>();
  lockgraph::set_report_handler([kind, seen, done](const lockgraph::report& r) {
    if (r.kind == kind) std::call_once(*done, [&] { seen->set_value(r); });
  });
}

// A consumer waits, holding another lock, on a condition variable nobody notifies: long_wait names it
// and its mutex is free. (Changed for issue 9, item 5: the consumer used to hold nothing, which is an
// idle wait now, never a long_wait.)
TEST_F(WatchDeathTest, LongWaitOnConditionVariableIsReportedOnce) {
  EXPECT_EXIT(
      {
        ::setenv("LOCKGRAPH_OPTIONS", "long_wait_ms=50:print_reports=0", 1);
        lockgraph::mutex mu("queue_mu");
        lockgraph::mutex state("consumer_state");
        lockgraph::condition_variable cv("queue_not_empty");
        std::promise<lockgraph::report> seen;
        notify_on(lockgraph::report_kind::long_wait, &seen);
        bool ready = false;
        // The consumer waits while it holds another lock: a hang (whoever needs consumer_state waits
        // behind it). Without it the wait would be idle and never a long_wait (IdleWaits tests).
        std::thread consumer([&] {
          std::lock_guard<lockgraph::mutex> busy(state);
          std::unique_lock<lockgraph::mutex> lk(mu);
          cv.wait(lk, [&] { return ready; });
        });
        const lockgraph::report r = seen.get_future().get();  // the watchdog's report ends the wait
        CHILD_CHECK(r.locks.size() == 1 && r.locks[0] == "queue_not_empty");
        CHILD_CHECK(contains(r.summary, "condition variable queue_not_empty"));
        CHILD_CHECK(r.threads.size() == 1 && r.threads[0].waited_ms >= 50);
        {
          std::lock_guard<lockgraph::mutex> g(mu);  // free while the consumer waits
          ready = true;
        }
        cv.notify_one();
        consumer.join();
        std::size_t long_waits = 0;
        for (const auto& rep : lockgraph::reports()) long_waits += rep.kind == lockgraph::report_kind::long_wait;
        CHILD_CHECK(long_waits == 1);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

// A thread blocked on a lock whose holder is itself blocked: the report follows the chain of holders.
TEST_F(WatchDeathTest, LongWaitOnLockNamesTheChainOfHolders) {
  EXPECT_EXIT(
      {
        ::setenv("LOCKGRAPH_OPTIONS", "long_wait_ms=50:print_reports=0", 1);
        lockgraph::mutex outer("outer");
        lockgraph::mutex inner("inner");
        lockgraph::mutex gate("gate");
        std::promise<lockgraph::report> seen;
        notify_on(lockgraph::report_kind::long_wait, &seen);
        gate.lock();  // main holds gate until the report arrives
        std::latch holder_has_outer(1);
        std::thread holder([&] {
          std::lock_guard<lockgraph::mutex> go(outer);
          holder_has_outer.count_down();
          std::lock_guard<lockgraph::mutex> gg(gate);  // blocks on main
        });
        holder_has_outer.wait();
        std::thread waiter([&] { std::lock_guard<lockgraph::mutex> go(outer); });
        const lockgraph::report r = seen.get_future().get();
        gate.unlock();
        holder.join();
        waiter.join();
        // Either blocked thread may be reported first; both name who holds what they wait for.
        CHILD_CHECK(contains(r.summary, "held by"));
        CHILD_CHECK(contains(r.summary, "blocked") && (contains(r.summary, "outer") || contains(r.summary, "gate")));
        CHILD_CHECK(r.threads.size() >= 2);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Quiescence, QuietProgramIsQuiescent) {
  lockgraph::mutex a("a");
  { std::lock_guard<lockgraph::mutex> g(a); }
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
}

// A held lock and a blocked thread at a checkpoint are both named; after they finish, nothing is.
TEST(Quiescence, NamesHeldLocksAndBlockedThreads) {
  lockgraph::mutex held("held_mu");
  lockgraph::mutex cvmu("cv_mu");
  lockgraph::condition_variable cv("never_notified");
  std::latch holding(1), release(1);
  std::thread holder([&] {
    std::lock_guard<lockgraph::mutex> g(held);
    holding.count_down();
    release.wait();
  });
  bool go = false;
  std::atomic<bool> waiting{false};
  std::thread sleeper([&] {
    std::unique_lock<lockgraph::mutex> lk(cvmu);
    waiting = true;
    cv.wait(lk, [&] { return go; });
  });
  holding.wait();
  // The sleeper is blocked once it has released cv_mu inside wait(): taking cv_mu proves it.
  for (;;) {
    std::lock_guard<lockgraph::mutex> g(cvmu);
    if (waiting) break;
  }
  const auto problems = lockgraph::check_quiescent();
  bool saw_held = false, saw_blocked = false;
  for (const auto& p : problems) {
    saw_held |= p.kind == lockgraph::report_kind::unreleased_lock && p.locks == std::vector<std::string>{"held_mu"};
    saw_blocked |= p.kind == lockgraph::report_kind::long_wait && p.locks.front() == "never_notified";
  }
  EXPECT_TRUE(saw_held);
  EXPECT_TRUE(saw_blocked);
  EXPECT_EQ(problems.size(), 2u);
  release.count_down();
  {
    std::lock_guard<lockgraph::mutex> g(cvmu);
    go = true;
  }
  cv.notify_one();
  holder.join();
  sleeper.join();
  EXPECT_TRUE(lockgraph::check_quiescent().empty());
}

// A lock left held by an exited thread stays a problem at every checkpoint, and in the wait-for graph.
TEST(Quiescence, LockLeftByExitedThreadIsOrphaned) {
  auto* leaked = new lockgraph::mutex("leaked");
  std::thread([&] { leaked->lock(); }).join();
  const auto first = lockgraph::check_quiescent();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kind, lockgraph::report_kind::unreleased_lock);
  EXPECT_NE(first[0].summary.find("after it exited"), std::string::npos) << first[0].summary;
  EXPECT_EQ(lockgraph::check_quiescent().size(), 1u);
  const std::string dot = lockgraph::wait_for_dot();
  EXPECT_NE(dot.find("fillcolor=orange"), std::string::npos) << dot;
  EXPECT_NE(dot.find("(exited)"), std::string::npos) << dot;
}

TEST(LockOrderDot, ShowsEdgesWithThreadAndSiteAndTheCycleInRed) {
  lockgraph::mutex a("alpha");
  lockgraph::shared_mutex b("beta");
  {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::shared_lock<lockgraph::shared_mutex> rb(b);
  }
  std::string dot = lockgraph::lock_order_dot();
  EXPECT_NE(dot.find("label=\"alpha\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"beta\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("watch_test.cpp:"), std::string::npos) << dot;  // the acquisition site
  EXPECT_NE(dot.find("style=dashed"), std::string::npos) << dot;     // shared acquisition
  EXPECT_EQ(dot.find("color=red"), std::string::npos) << dot;
  {
    std::lock_guard<lockgraph::shared_mutex> wb(b);
    std::lock_guard<lockgraph::mutex> ga(a);
  }
  dot = lockgraph::lock_order_dot();
  EXPECT_NE(dot.find("color=red"), std::string::npos) << dot;
  const std::string path = ::testing::TempDir() + "lock_order.dot";
  { std::FILE* f = std::fopen(path.c_str(), "w"); std::fputs(dot.c_str(), f); std::fclose(f); }
  std::FILE* p = ::popen(("dot -Tsvg -o /dev/null " + path + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256];
  std::string out;
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  EXPECT_EQ(::pclose(p), 0);
  EXPECT_EQ(out, "");
}

// dump_signal: the signal makes lockgraph report every blocked thread and write the wait-for graph.
TEST_F(WatchDeathTest, DumpSignalReportsBlockedThreadsAndWritesTheWaitForGraph) {
  EXPECT_EXIT(
      {
        char dir[] = "/tmp/lockgraph-dump-XXXXXX";
        CHILD_CHECK(::mkdtemp(dir) != nullptr);
        ::setenv("LOCKGRAPH_OPTIONS", (std::string("dump_signal=12:print_reports=0:report_dir=") + dir).c_str(), 1);
        lockgraph::mutex mu("stuck");
        std::promise<lockgraph::report> seen;
        notify_on(lockgraph::report_kind::long_wait, &seen);
        mu.lock();
        std::latch started(1);
        std::thread t([&] {
          started.count_down();
          std::lock_guard<lockgraph::mutex> g(mu);
        });
        started.wait();
        // Until the thread is really blocked, a dump finds nobody: signal until one report arrives.
        auto fut = seen.get_future();
        while (fut.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) std::raise(12);
        const lockgraph::report r = fut.get();
        CHILD_CHECK(r.locks.front() == "stuck");
        CHILD_CHECK(contains(r.summary, "(at signal 12)"));
        mu.unlock();
        t.join();
        bool dot_written = false;
        for (int i = 1; i < 100 && !dot_written; ++i) {
          const std::string path = std::string(dir) + "/lockgraph-" + std::to_string(::getpid()) + "-waitfor-" +
                                   std::to_string(i) + ".dot";
          if (std::FILE* f = std::fopen(path.c_str(), "r")) {
            char buf[4096] = {};
            const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
            std::fclose(f);
            dot_written = contains(std::string(buf, n), "waits for");
          }
        }
        CHILD_CHECK(dot_written);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
