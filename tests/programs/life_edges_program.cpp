// tests/programs/life_edges_program.cpp: the scenarios of issue 9 that need a process of their own
// (it must exit, crash, fork or hang). One program, one scenario per first argument:
//
//   exited_holder      item 4: T1 holds lw.held and blocks on lw.orphan, left held by a thread that
//                      exited; prints to_text() and to_json() of the long_wait found by
//                      check_quiescent() between "--- text" / "--- json" / "--- end", then _exit(0)
//   idle_pool          item 5: 4 workers idle in condition_variable::wait (holding nothing) while two
//                      threads block, one after the other, on a lock main holds; with long_wait_ms set,
//                      prints "idle_reports=<n> blocked_reports=<n>" once both blocked threads were
//                      reported, then shuts down cleanly
//   asleep_cv          item 5: main waits on a condition variable whose producer has exited: every
//                      thread of the process is asleep for good
//   asleep_pair        item 5: main and a worker each wait on a condition variable only the other
//                      could notify
//   ping_pong N        item 5 (control): main and a worker hand a turn back and forth N times through two
//                      condition variables (each notifies, then waits): never all_threads_blocked;
//                      prints "rounds=<N>"
//   outside_worker     item 5 (control): main waits on a condition variable while the only other thread
//                      works outside lockgraph (a 300 ms nanosleep), then notifies it: not all asleep;
//                      prints "woke up"
//   asleep_timed       item 5 (control): as asleep_cv, but main waits with wait_for(500 ms): a timed wait
//                      ends by itself, so not all asleep; prints "timed out"
//   exit_race          item 6: a live worker is inside a critical section (holding race.busy, a lock
//                      that is never destroyed) when main returns
//   exit_race_global   the same with race.busy a static, destroyed during exit while the worker holds it
//   exit_leak          item 6 (control): a worker locks leaked and exits without unlocking it
//   exit_blocked       item 6: a worker holds fg.held and is blocked for good on fg.orphan, left held
//                      by a thread that exited, when main returns (neither lock is ever destroyed)
//   exit_blocked_global  the same with fg.held a static, destroyed during exit while the worker holds it
//   exit_main_holds    item 2/6: main returns holding mh.mu (never destroyed)
//   fork_exitcode      item 7: an inversion, then fork(); the child reports nothing and calls exit(0);
//                      prints "child status=<n>"
//   fork_dump DIR      item 7: fork(); the child has a blocked thread; the parent sends dump_signal
//                      (SIGUSR1) to the child and prints "child dump=yes|no" and "parent dumps=<n>"
//                      (wait-for files in DIR named after the child's pid / the parent's pid)
//   handler_throws     item 12: the report handler throws; prints "after" if the program goes on
//   handler_self_lock  item 12: the report handler locks a lock its thread holds
//   dump_flood N       item 13: raises SIGUSR1 (dump_signal) N times at itself, then waits 3 s
//   halt_flush         item 13: writes "buffered line" to stdout through stdio, then an inversion
//   edge_cap N         item 10: N locks nested in one order (N*(N-1)/2 distinct edges); prints
//                      "edges made"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lockgraph/lockgraph.hpp"

namespace {

void say(const std::string& line) {
  const std::string s = line + "\n";
  (void)!::write(1, s.data(), s.size());
}

using lock_t = std::lock_guard<lockgraph::mutex>;

void make_inversion(lockgraph::mutex& a, lockgraph::mutex& b) {
  {
    lock_t ga(a);
    lock_t gb(b);
  }
  {
    lock_t gb(b);
    lock_t ga(a);
  }
}

// Polls check_quiescent() (a condition, not a hoped-for delay) until a long_wait on `lock` shows up.
bool find_long_wait(const std::string& lock, lockgraph::report* out) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
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

int exited_holder() {
  static lockgraph::mutex held("lw.held");
  static lockgraph::mutex orphan("lw.orphan");
  std::thread([] { orphan.lock(); }).join();  // leaves lw.orphan held by an exited thread
  std::thread([] {
    lock_t g(held);
    lock_t o(orphan);  // blocks for good
  }).detach();
  lockgraph::report r;
  if (!find_long_wait("lw.orphan", &r)) {
    say("no long_wait found");
    ::_exit(1);
  }
  say("--- text");
  say(lockgraph::to_text(r));
  say("--- json");
  say(lockgraph::to_json(r));
  say("--- end");
  ::_exit(0);
}

int idle_pool() {
  lockgraph::mutex mu("pool.mu");
  lockgraph::condition_variable cv("pool.cv");
  bool stop = false;
  constexpr int kWorkers = 4;
  std::latch entered(kWorkers);
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.emplace_back([&] {
      std::unique_lock<lockgraph::mutex> lk(mu);
      entered.count_down();
      cv.wait(lk, [&] { return stop; });
    });
  }
  entered.wait();
  { lock_t g(mu); }  // every worker released pool.mu inside wait(): all are idle now

  lockgraph::mutex busy("pool.busy");
  busy.lock();
  auto blocked_reported = [](const std::string& thread_name) {
    for (const auto& r : lockgraph::reports()) {
      if (r.kind == lockgraph::report_kind::long_wait && !r.threads.empty() &&
          r.threads[0].thread.name == thread_name) {
        return true;
      }
    }
    return false;
  };
  auto wait_until = [](auto pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  };
  // Two stuck threads, the second started after the first was reported: by the second's report the
  // watchdog has finished a whole pass in which the idle workers had waited longer than the threshold.
  std::thread stuck1([&] {
    lockgraph::set_thread_name("stuck1");
    lock_t g(busy);
  });
  const bool r1 = wait_until([&] { return blocked_reported("stuck1"); });
  std::thread stuck2([&] {
    lockgraph::set_thread_name("stuck2");
    lock_t g(busy);
  });
  const bool r2 = r1 && wait_until([&] { return blocked_reported("stuck2"); });
  std::size_t idle = 0, blocked = 0;
  for (const auto& r : lockgraph::reports()) {
    if (r.kind != lockgraph::report_kind::long_wait || r.locks.empty()) continue;
    if (r.locks[0] == "pool.cv") ++idle;
    if (r.locks[0] == "pool.busy") ++blocked;
  }
  say("idle_reports=" + std::to_string(idle) + " blocked_reports=" + std::to_string(blocked) +
      (r2 ? "" : " (timed out)"));
  busy.unlock();
  stuck1.join();
  stuck2.join();
  {
    lock_t g(mu);
    stop = true;
  }
  cv.notify_all();
  for (auto& w : workers) w.join();
  return 0;
}

int asleep_cv() {
  static lockgraph::mutex mu("asleep.mu");
  static lockgraph::condition_variable cv("asleep.cv");
  static bool ready = false;
  // The producer does its work and exits without ever setting `ready`.
  std::thread([] { lock_t g(mu); }).join();
  say("waiting");
  std::unique_lock<lockgraph::mutex> lk(mu);
  cv.wait(lk, [] { return ready; });
  say("woke up (unexpected)");
  return 1;
}

int asleep_pair() {
  static lockgraph::mutex mu("pair.mu");
  static lockgraph::condition_variable to_main("pair.to_main"), to_worker("pair.to_worker");
  static bool main_go = false, worker_go = false;
  std::thread worker([] {
    std::unique_lock<lockgraph::mutex> lk(mu);
    to_worker.wait(lk, [] { return worker_go; });
    main_go = true;
    to_main.notify_one();
  });
  say("waiting");
  {
    std::unique_lock<lockgraph::mutex> lk(mu);
    to_main.wait(lk, [] { return main_go; });
    worker_go = true;
    to_worker.notify_one();
  }
  worker.join();
  say("woke up (unexpected)");
  return 1;
}

int asleep_timed() {
  static lockgraph::mutex mu("timed.mu");
  static lockgraph::condition_variable cv("timed.cv");
  std::thread([] { lock_t g(mu); }).join();
  std::unique_lock<lockgraph::mutex> lk(mu);
  const bool woke = cv.wait_for(lk, std::chrono::milliseconds(500), [] { return false; });
  say(woke ? "woke up (unexpected)" : "timed out");
  return 0;
}

int ping_pong(int rounds) {
  static lockgraph::mutex mu("pp.mu");
  static lockgraph::condition_variable to_main("pp.to_main"), to_worker("pp.to_worker");
  static int turn = 0;  // even: main's turn, odd: the worker's
  static int n = 0;
  n = rounds;
  std::thread worker([] {
    for (int i = 0; i < n; ++i) {
      std::unique_lock<lockgraph::mutex> lk(mu);
      to_worker.wait(lk, [&] { return turn % 2 == 1; });
      ++turn;
      to_main.notify_one();
    }
  });
  for (int i = 0; i < n; ++i) {
    std::unique_lock<lockgraph::mutex> lk(mu);
    ++turn;
    to_worker.notify_one();
    to_main.wait(lk, [&] { return turn % 2 == 0; });
  }
  worker.join();
  say("rounds=" + std::to_string(turn / 2));
  return 0;
}

int outside_worker() {
  static lockgraph::mutex mu("ow.mu");
  static lockgraph::condition_variable cv("ow.cv");
  static bool ready = false;
  std::thread worker([] {
    // Busy outside lockgraph: this thread has not touched a lockgraph primitive yet.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    {
      lock_t g(mu);
      ready = true;
    }
    cv.notify_one();
  });
  {
    std::unique_lock<lockgraph::mutex> lk(mu);
    cv.wait(lk, [] { return ready; });
  }
  worker.join();
  say("woke up");
  return 0;
}

// `global`: the lock is a static, so exit's static destructors also destroy it while the worker holds
// it; otherwise it is never destroyed and only the exit check sees it.
int exit_race(bool global) {
  static lockgraph::mutex static_busy("race.busy");
  static lockgraph::mutex& busy = global ? static_busy : *new lockgraph::mutex("race.busy");
  static std::latch inside(1);
  static std::latch never(1);
  std::thread([] {
    lock_t g(busy);
    inside.count_down();
    never.wait();  // still inside its critical section when main returns; not a lockgraph wait
  }).detach();
  inside.wait();
  say("main returns");
  return 0;
}

int exit_leak() {
  static lockgraph::mutex leaked("leak.mu");
  std::thread([] { leaked.lock(); }).join();
  say("main returns");
  return 0;
}

// The worker can never go on: whatever it holds is leaked, whether the exit check or exit's static
// destructors find it.
int exit_blocked(bool global) {
  static lockgraph::mutex static_held("fg.held");
  static lockgraph::mutex& held = global ? static_held : *new lockgraph::mutex("fg.held");
  static lockgraph::mutex& orphan = *new lockgraph::mutex("fg.orphan");
  std::thread([] { orphan.lock(); }).join();  // left held by a thread that exited
  std::thread([] {
    lock_t g(held);
    lock_t o(orphan);  // blocks for good
  }).detach();
  // Until the worker is blocked (the wait-for graph has a "waits for" edge: its wait on fg.orphan).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (lockgraph::wait_for_dot().find("waits for") == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) {
      say("worker never blocked");
      ::_exit(1);
    }
    std::this_thread::yield();
  }
  say("main returns");
  return 0;
}

int exit_main_holds() {
  static lockgraph::mutex& mu = *new lockgraph::mutex("mh.mu");
  mu.lock();
  say("main returns");
  return 0;
}

int fork_exitcode() {
  lockgraph::mutex a("fork.a"), b("fork.b");
  make_inversion(a, b);
  const pid_t child = ::fork();
  if (child < 0) return 3;
  if (child == 0) std::exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  say("child status=" + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
  return 0;
}

std::size_t count_files(const std::string& dir, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    n += name.rfind(prefix, 0) == 0 && name.size() > 4 && name.compare(name.size() - 4, 4, ".dot") == 0;
  }
  return n;
}

int fork_dump(const std::string& dir) {
  lockgraph::mutex warm("fork_dump.warm");
  { lock_t g(warm); }  // the detector (and its dump_signal handler) exists before the fork
  int ready[2];
  if (::pipe(ready) != 0) return 3;
  const pid_t child = ::fork();
  if (child < 0) return 3;
  if (child == 0) {
    static lockgraph::mutex x("fork_dump.x");
    x.lock();
    std::thread([] { lock_t g(x); }).detach();  // blocks: the child's own hang
    (void)!::write(ready[1], "r", 1);
    // Idle until killed. sleep(), not pause(): ThreadSanitizer runs a signal's handler when the thread
    // is in (or leaves) a call it intercepts, which pause() is not.
    for (;;) ::sleep(1);
  }
  ::close(ready[1]);  // a child that dies before it is ready ends the read (no byte: status below)
  char byte;
  if (::read(ready[0], &byte, 1) != 1) {
    say("child died before it was ready");
    ::waitpid(child, nullptr, 0);
    return 1;
  }
  ::kill(child, SIGUSR1);
  const std::string child_prefix = "lockgraph-" + std::to_string(child) + "-waitfor-";
  const std::string parent_prefix = "lockgraph-" + std::to_string(::getpid()) + "-waitfor-";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool child_dumped = false;
  while (!(child_dumped = count_files(dir, child_prefix) > 0) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the directory for a file
  }
  say(std::string("child dump=") + (child_dumped ? "yes" : "no"));
  say("parent dumps=" + std::to_string(count_files(dir, parent_prefix)));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  return 0;
}

int handler_throws() {
  lockgraph::set_report_handler([](const lockgraph::report&) { throw std::runtime_error("handler failed"); });
  lockgraph::mutex a("ht.a"), b("ht.b");
  make_inversion(a, b);
  say("after");
  return 0;
}

int handler_self_lock() {
  static lockgraph::mutex held("hs.held");
  lockgraph::set_report_handler([](const lockgraph::report&) { lock_t g(held); });
  lockgraph::mutex a("hs.a"), b("hs.b");
  lock_t g(held);
  make_inversion(a, b);  // the report's handler runs on this thread, which holds hs.held
  say("after (unexpected)");
  return 0;
}

int dump_flood(int n) {
  lockgraph::mutex warm("flood.warm");
  { lock_t g(warm); }  // creates the detector and installs the handler
  for (int i = 0; i < n; ++i) ::kill(::getpid(), SIGUSR1);
  say("sent");
  // The dumps happen on lockgraph's dumper thread; give it time to work through what it was sent.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  return 0;
}

int halt_flush() {
  std::printf("buffered line\n");  // stdout is a pipe: fully buffered, not yet written
  lockgraph::mutex a("hf.a"), b("hf.b");
  make_inversion(a, b);
  std::printf("after (unexpected)\n");
  return 0;
}

int edge_cap(int n) {
  std::vector<std::unique_ptr<lockgraph::mutex>> locks;
  for (int i = 0; i < n; ++i) locks.push_back(std::make_unique<lockgraph::mutex>("cap." + std::to_string(i)));
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      lock_t gi(*locks[i]);
      lock_t gj(*locks[j]);
    }
  }
  say("edges made");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const std::string arg = argc > 2 ? argv[2] : "";
  if (mode == "exited_holder") return exited_holder();
  if (mode == "idle_pool") return idle_pool();
  if (mode == "asleep_cv") return asleep_cv();
  if (mode == "asleep_pair") return asleep_pair();
  if (mode == "asleep_timed") return asleep_timed();
  if (mode == "ping_pong") return ping_pong(std::atoi(arg.c_str()));
  if (mode == "outside_worker") return outside_worker();
  if (mode == "exit_race") return exit_race(false);
  if (mode == "exit_race_global") return exit_race(true);
  if (mode == "exit_leak") return exit_leak();
  if (mode == "exit_blocked") return exit_blocked(false);
  if (mode == "exit_blocked_global") return exit_blocked(true);
  if (mode == "exit_main_holds") return exit_main_holds();
  if (mode == "fork_exitcode") return fork_exitcode();
  if (mode == "fork_dump") return fork_dump(arg);
  if (mode == "handler_throws") return handler_throws();
  if (mode == "handler_self_lock") return handler_self_lock();
  if (mode == "dump_flood") return dump_flood(std::atoi(arg.c_str()));
  if (mode == "halt_flush") return halt_flush();
  if (mode == "edge_cap") return edge_cap(std::atoi(arg.c_str()));
  say("usage: life_edges_program <scenario> [arg] (see the top of the source)");
  return 64;
}
