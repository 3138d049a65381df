// edge_recorder.cpp: see edge_recorder.hpp.
#include "runtime/edge_recorder.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "base/labels.hpp"
#include "base/stack_trace.hpp"
#include "report/edge_log.hpp"
#include "report/report_sink.hpp"
#include "runtime/runtime.hpp"

namespace lockgraph::detail {
namespace {

struct recorded_edge {
  std::string from, to;
  bool from_shared, to_shared;
  std::string test;
  thread_ref thread;
  stack_trace stack;
};

// Never destroyed: locks are still taken by static destructors, after which the exit path writes.
struct recorder {
  std::mutex mu;  // guards everything below
  std::unordered_set<std::string> seen;  // "from\0to\0<bits>" of every recorded (or dropped) edge
  std::vector<recorded_edge> edges;
  std::size_t dropped = 0;
  std::string test;
  long file_pid = 0;  // the process the name below was made for (a forked child makes its own)
  std::string file;
  bool error_said = false;
};

recorder& rec() {
  static recorder* const r = new recorder();
  return *r;
}

// /proc/self/cmdline with its NULs as spaces ("" when unreadable).
std::string command_line() {
  std::string out;
  const int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < 64 * 1024;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  while (!out.empty() && out.back() == '\0') out.pop_back();
  for (char& c : out) {
    if (c == '\0') c = ' ';
  }
  return out;
}

// DIR/edges-<pid>-<16 hex digits>.jsonl: the pid keeps names apart among live processes, the random part
// among processes of other hosts or runs that reused the pid.
std::string file_name(const std::string& dir, long pid) {
  unsigned long long random = 0;
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::read(fd, &random, sizeof random) != static_cast<ssize_t>(sizeof random)) {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    random = static_cast<unsigned long long>(ts.tv_nsec) * 0x9E3779B97F4A7C15ULL ^
             static_cast<unsigned long long>(ts.tv_sec) ^ reinterpret_cast<std::uintptr_t>(&random);
  }
  if (fd >= 0) ::close(fd);
  char name[64];
  std::snprintf(name, sizeof name, "/edges-%ld-%016llx.jsonl", pid, random);
  return dir + name;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (end > at) out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

}  // namespace

void record_class_edge(const lock_meta& from, const lock_meta& to, bool from_shared, bool to_shared,
                       const thread_ref& thread, const stack_trace& stack) {
  std::string from_key = class_key(from);
  std::string to_key = class_key(to);
  std::string key = from_key + '\0' + to_key + '\0' + (from_shared ? 's' : 'x') + (to_shared ? 's' : 'x');
  recorder& r = rec();
  std::lock_guard<std::mutex> g(r.mu);
  if (!r.seen.insert(std::move(key)).second) return;
  if (r.edges.size() >= kMaxLoggedEdges) {
    ++r.dropped;
    return;
  }
  r.edges.push_back({std::move(from_key), std::move(to_key), from_shared, to_shared, r.test, thread, stack});
}

void set_current_test_name(std::string_view name) noexcept {
  recorder& r = rec();
  std::lock_guard<std::mutex> g(r.mu);
  r.test.assign(name.data(), name.size());
}

void write_edge_log() noexcept {
  runtime* rt_now = rt_if_created();
  if (rt_now == nullptr || rt_now->opts.edge_log.empty() || !rt_now->opts.enabled) return;
  const std::string& dir = rt_now->opts.edge_log;
  // One writer at a time (a thread aborting on a deadlock while the main thread exits): both would use
  // the same temporary name. Never destroyed, like the recorder.
  static std::mutex* const write_mu = new std::mutex();
  std::lock_guard<std::mutex> one_writer(*write_mu);
  try {
    // Copy under the lock, symbolize outside it: symbolizing takes long and may lock things.
    edge_log log;
    std::vector<recorded_edge> edges;
    std::string path;
    recorder& r = rec();
    {
      std::lock_guard<std::mutex> g(r.mu);
      const long pid = static_cast<long>(::getpid());
      if (r.file_pid != pid) {
        r.file_pid = pid;
        r.file = file_name(dir, pid);
      }
      path = r.file;
      edges = r.edges;
      log.dropped = r.dropped;
      log.truncated = r.dropped > 0;
      log.pid = pid;
    }
    log.command = command_line();
    log.edges.reserve(edges.size());
    for (recorded_edge& e : edges) {
      logged_edge out;
      out.from = std::move(e.from);
      out.to = std::move(e.to);
      out.from_shared = e.from_shared;
      out.to_shared = e.to_shared;
      out.test = std::move(e.test);
      out.thread = e.thread.id;
      out.thread_name = std::move(e.thread.name);
      out.site = innermost_site(e.stack);
      out.stack = lines_of(e.stack.to_string(""));
      log.edges.push_back(std::move(out));
    }
    std::string failed;
    int err = make_dirs(dir, &failed);
    if (err == 0) err = write_atomically(path, format_edge_log(log));
    if (err != 0) {
      bool say = false;
      {
        std::lock_guard<std::mutex> g(r.mu);
        say = !r.error_said;
        r.error_said = true;
      }
      if (say) {
        const std::string line = "lockgraph: edge_log '" + dir + "': cannot write '" + path + "' (" +
                                 std::strerror(err) + ")\n";
        (void)!::write(2, line.data(), line.size());
      }
    }
  } catch (...) {
    // Out of memory at exit: the log is lost, the process ends as it would have.
  }
}

void lock_edge_recorder_for_fork() noexcept { rec().mu.lock(); }
void unlock_edge_recorder_after_fork() noexcept { rec().mu.unlock(); }

}  // namespace lockgraph::detail

// The GoogleTest listener (lockgraph/gtest.hpp) names the running test through this.
namespace lockgraph::detail {
void set_gtest_test_name(const char* suite, const char* name) noexcept {
  if (suite == nullptr || name == nullptr) {
    set_current_test_name({});
    return;
  }
  try {
    set_current_test_name(std::string(suite) + "." + name);
  } catch (...) {
  }
}
}  // namespace lockgraph::detail
