// fork() in a multithreaded program: the child keeps one thread and none of the others' state.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <latch>
#include <mutex>
#include <thread>

#include "lockgraph/lockgraph.hpp"

namespace {

// Another thread holds a lock and is blocked in a condition wait at the fork: in the child neither its
// lock nor its wait exists, the graph still works, and the child's own misuse is still caught.
TEST(Fork, ChildDropsOtherThreadsState) {
  lockgraph::mutex held("held_by_worker");
  lockgraph::mutex cvmu("cv_mu");
  lockgraph::condition_variable cv("cv");
  lockgraph::mutex a("a");
  lockgraph::mutex b("b");
  std::latch holding(1);
  bool done = false;
  std::thread worker([&] {
    std::lock_guard<lockgraph::mutex> g(held);
    std::unique_lock<lockgraph::mutex> lk(cvmu);
    holding.count_down();
    cv.wait(lk, [&] { return done; });
  });
  holding.wait();
  { std::lock_guard<lockgraph::mutex> g(cvmu); }  // the worker is inside wait() once cv_mu is free
  ASSERT_EQ(lockgraph::check_quiescent().size(), 2u);  // held_by_worker + the waiting worker

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int failures = 0;
    failures += !lockgraph::check_quiescent().empty();
    {
      std::lock_guard<lockgraph::mutex> ga(a);
      std::lock_guard<lockgraph::mutex> gb(b);
    }
    {
      std::lock_guard<lockgraph::mutex> gb(b);
      std::lock_guard<lockgraph::mutex> ga(a);
    }
    std::size_t inversions = 0;
    for (const auto& r : lockgraph::reports()) inversions += r.kind == lockgraph::report_kind::lock_order_inversion;
    failures += inversions != 1;
    ::_exit(failures == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  {
    std::lock_guard<lockgraph::mutex> g(cvmu);
    done = true;
  }
  cv.notify_one();
  worker.join();
}

// A forked child is a process of its own (issue 9, item 7): it starts with no reports, numbers its own
// from 1, and what it reports stays its own. (Its exit status: ForkLife.* in process_life_test.cpp.)
TEST(Fork, ChildStartsWithItsOwnReports) {
  lockgraph::mutex a("fk.a");
  lockgraph::mutex b("fk.b");
  lockgraph::mutex c("fk.c");
  {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::lock_guard<lockgraph::mutex> gb(b);
  }
  {
    std::lock_guard<lockgraph::mutex> gb(b);
    std::lock_guard<lockgraph::mutex> ga(a);
  }
  const std::size_t parent_reports = lockgraph::reports().size();
  ASSERT_GE(parent_reports, 1u);

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int failures = 0;
    failures += !lockgraph::reports().empty();
    c.unlock();  // not held: a bad_unlock, the child's first report
    const auto mine = lockgraph::reports();
    failures += mine.size() != 1;
    failures += !mine.empty() && (mine[0].kind != lockgraph::report_kind::bad_unlock || mine[0].sequence != 1);
    ::_exit(failures);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(lockgraph::reports().size(), parent_reports);
}

}  // namespace
