// dump_signal.cpp: with dump_signal=N, signal N reports every blocked thread (long_wait) and writes
// the wait-for graph of the hang (see dump_signal.hpp).
#include "runtime/dump_signal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "threads/wait_for_dot.hpp"
#include "threads/wait_for_graph.hpp"
#include "threads/watchdog.hpp"

namespace lockgraph::detail {
namespace {

int g_dump_pipe[2] = {-1, -1};
// The write end the handler uses; swapped for the child's own pipe after fork (a lock-free atomic:
// async-signal-safe to read).
std::atomic<int> g_dump_write_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free);
std::atomic<bool> g_dumper_started{false};  // the handler is installed and the dumper thread runs

void on_dump_signal(int) {
  const int saved = errno;
  const char byte = 1;
  // async-signal-safe
  [[maybe_unused]] const ssize_t n = ::write(g_dump_write_fd.load(std::memory_order_relaxed), &byte, 1);
  errno = saved;
}

void dump_now(runtime& r) {
  const std::int64_t now = steady_now_ns();
  std::vector<problem> blocked;
  std::size_t idle = 0;
  for (const waiting_thread& w : waiting_threads()) {
    if (idle_wait(w)) {  // idle, not hung: in the wait-for graph, not reported
      ++idle;
      continue;
    }
    problem p;
    if (!long_wait_problem(w, now, &p)) continue;
    p.when = "at signal " + std::to_string(r.opts.dump_signal);
    blocked.push_back(std::move(p));
  }
  // The graph file first: whoever reacts to the reports (a gate about to kill the process) finds it.
  std::string where = "stderr";
  const std::string dot = wait_for_dot_text();
  static int dumps = 0;
  if (!r.opts.report_dir.empty() && r.sink.make_report_dir()) {
    const std::string path = r.opts.report_dir + "/lockgraph-" + std::to_string(::getpid()) + "-waitfor-" +
                             std::to_string(++dumps) + ".dot";
    const std::string tmp = path + ".tmp";
    if (std::FILE* f = std::fopen(tmp.c_str(), "we")) {
      const bool ok = std::fwrite(dot.data(), 1, dot.size(), f) == dot.size();
      if (std::fclose(f) == 0 && ok && std::rename(tmp.c_str(), path.c_str()) == 0) where = path;
    }
  }
  std::string line = "lockgraph: signal " + std::to_string(r.opts.dump_signal) + ": " +
                     std::to_string(blocked.size()) + " thread(s) blocked" +
                     (idle != 0 ? ", " + std::to_string(idle) + " idle" : std::string()) +
                     "; wait-for graph: " + where + "\n";
  if (where == "stderr") line += dot;
  r.sink.print(line);
  for (const problem& p : blocked) r.sink.raise(p);
}

// Dumps at most once per second: a burst of signals (a script sending one per process of a group, a
// loop gone wrong) makes one dump now and at most one more a second later, not one file per signal.
constexpr std::chrono::milliseconds kMinDumpInterval{1000};

void dumper(void* arg) {
  runtime* r = static_cast<runtime*>(arg);
  std::chrono::steady_clock::time_point last{};
  bool dumped = false;
  for (;;) {
    pollfd p{g_dump_pipe[0], POLLIN, 0};
    if (::poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (dumped) std::this_thread::sleep_until(last + kMinDumpInterval);
    // Every signal that came until now is served by this one dump (both pipe ends are non-blocking).
    char bytes[256];
    ssize_t n;
    while ((n = ::read(g_dump_pipe[0], bytes, sizeof bytes)) > 0) {
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
    last = std::chrono::steady_clock::now();
    dumped = true;
    dump_now(*r);
  }
}

}  // namespace

void start_signal_dumper(runtime& r) {
  // Non-blocking: the handler never blocks on a full pipe (a dump is pending then anyway).
  if (::pipe2(g_dump_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return;
  g_dump_write_fd.store(g_dump_pipe[1], std::memory_order_relaxed);
  struct sigaction sa {};
  sa.sa_handler = &on_dump_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(r.opts.dump_signal, &sa, nullptr) != 0) {
    std::fprintf(stderr, "lockgraph: dump_signal=%d: cannot install a handler for that signal\n", r.opts.dump_signal);
    return;
  }
  // Returns once the dumper runs: a fork() right after this (the program's first lock) then finds no
  // thread of lockgraph's half started (see start_internal_thread()).
  if (!start_internal_thread(&dumper, &r)) {
    std::fprintf(stderr, "lockgraph: dump_signal=%d: cannot start the dumper thread\n", r.opts.dump_signal);
    return;
  }
  g_dumper_started.store(true, std::memory_order_release);
}

void restart_signal_dumper_after_fork(runtime& r) noexcept {
  if (!g_dumper_started.load(std::memory_order_acquire)) return;
  const int inherited[2] = {g_dump_pipe[0], g_dump_pipe[1]};
  // Until the child has its own pipe, a signal to it writes into nothing (-1: EBADF) rather than into
  // the parent's pipe, where the parent's dumper would dump the parent.
  g_dump_write_fd.store(-1, std::memory_order_relaxed);
  ::close(inherited[0]);
  ::close(inherited[1]);
  g_dump_pipe[0] = g_dump_pipe[1] = -1;
  if (::pipe2(g_dump_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    r.sink.print("lockgraph: dump_signal=" + std::to_string(r.opts.dump_signal) +
                 ": no pipe for this forked child; its dump signal is ignored\n");
    return;
  }
  g_dump_write_fd.store(g_dump_pipe[1], std::memory_order_relaxed);
  // The parent's dumper thread did not survive the fork.
  if (!start_internal_thread(&dumper, &r)) {
    r.sink.print("lockgraph: dump_signal=" + std::to_string(r.opts.dump_signal) +
                 ": no dumper thread for this forked child; its dump signal is ignored\n");
  }
}

}  // namespace lockgraph::detail
