// tests/support/subprocess.hpp: run a program as a child process for end-to-end tests, and a
// temporary directory that cleans up after itself.
//
//   lgtest::run_result r = lgtest::run({program("inversion_program"), "2"},
//                                      {{"LOCKGRAPH_OPTIONS", "exitcode=7"}}, std::chrono::seconds(30));
//   EXPECT_TRUE(r.exited_with(7)) << r.describe();
//
// The child gets the parent's environment with `extra` added (an entry with the same name replaces
// the inherited one), stdin from a pipe the parent controls (closed at once by run(); spawn() keeps it
// open until close_stdin(), so a child blocked reading stdin starts work on the parent's signal), and
// stdout and stderr captured separately. A child still running at the deadline is killed with SIGKILL
// and reaped; the result then says timed_out. Nothing here sleeps: the parent waits in poll(2) on the
// output pipes and a pidfd of the child.
//
// Header-only, POSIX/Linux. Children are started with posix_spawn, so this is safe to call from a
// multi-threaded test process.
#ifndef LOCKGRAPH_TESTS_SUPPORT_SUBPROCESS_HPP
#define LOCKGRAPH_TESTS_SUPPORT_SUBPROCESS_HPP

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "sanitizers.hpp"

extern char** environ;

namespace lgtest {

// How a child ended, with everything it wrote.
struct run_result {
  std::string out;         // everything written to stdout
  std::string err;         // everything written to stderr
  bool exited = false;     // ended through exit()/_exit(): exit_code is valid
  int exit_code = -1;
  bool signaled = false;   // ended by a signal: term_signal is valid
  int term_signal = 0;
  bool timed_out = false;  // still running at the deadline: killed with SIGKILL by us

  bool exited_with(int code) const { return exited && exit_code == code; }
  bool killed_by(int sig) const { return signaled && term_signal == sig && !timed_out; }

  // One paragraph for failure messages: how it ended, then both outputs.
  std::string describe() const {
    std::ostringstream s;
    if (timed_out) {
      s << "child timed out (killed)";
    } else if (exited) {
      s << "child exited with status " << exit_code;
    } else if (signaled) {
      s << "child killed by signal " << term_signal << " (" << ::strsignal(term_signal) << ")";
    } else {
      s << "child state unknown";
    }
    s << "\n--- stdout ---\n" << out << "\n--- stderr ---\n" << err << "\n--------------";
    return s.str();
  }
};

namespace detail {

inline void throw_errno(const char* what, int e = errno) { throw std::system_error(e, std::generic_category(), what); }

struct fd_pair {
  int r = -1, w = -1;
};

inline fd_pair make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
  return {fds[0], fds[1]};
}

inline void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

inline int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace detail

// A running child. Move-only; the destructor kills and reaps a child that was never waited for.
class child {
 public:
  child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env) {
    if (argv.empty()) throw std::invalid_argument("spawn: empty argv");
    // Everything the child needs is built before posix_spawn.
    std::map<std::string, std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      const std::string entry(*e);
      const auto eq = entry.find('=');
      if (eq == std::string::npos) continue;
      env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [k, v] : extra_env) env[k] = v;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argvp;
    for (auto& s : args) argvp.push_back(s.data());
    argvp.push_back(nullptr);

    detail::fd_pair in = detail::make_pipe(), out = detail::make_pipe(), err = detail::make_pipe();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in.r, 0);
    posix_spawn_file_actions_adddup2(&fa, out.w, 1);
    posix_spawn_file_actions_adddup2(&fa, err.w, 2);
    // Default signal dispositions and an empty mask in the child, whatever the test runner set.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const int rc = ::posix_spawn(&pid_, argvp[0], &fa, &attr, argvp.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    detail::close_fd(in.r);
    detail::close_fd(out.w);
    detail::close_fd(err.w);
    if (rc != 0) {
      detail::close_fd(in.w);
      detail::close_fd(out.r);
      detail::close_fd(err.r);
      pid_ = -1;
      detail::throw_errno(("posix_spawn " + argv[0]).c_str(), rc);
    }
    stdin_ = in.w;
    stdout_ = out.r;
    stderr_ = err.r;
    pidfd_ = detail::pidfd_open(pid_);  // -1 on old kernels: wait() then falls back to WNOHANG polling
  }

  child(const child&) = delete;
  child& operator=(const child&) = delete;
  child(child&& o) noexcept { *this = std::move(o); }
  child& operator=(child&& o) noexcept {
    if (this != &o) {
      reap_if_running();
      pid_ = std::exchange(o.pid_, -1);
      stdin_ = std::exchange(o.stdin_, -1);
      stdout_ = std::exchange(o.stdout_, -1);
      stderr_ = std::exchange(o.stderr_, -1);
      pidfd_ = std::exchange(o.pidfd_, -1);
    }
    return *this;
  }
  ~child() { reap_if_running(); }

  pid_t pid() const { return pid_; }

  // Writes to the child's stdin (ignores a child that closed it).
  void write_stdin(const std::string& data) {
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0 && stdin_ >= 0) {
      const ssize_t n = ::write(stdin_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;  // EPIPE: the child is gone or closed stdin
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  void close_stdin() { detail::close_fd(stdin_); }

  // Collects output until the child has exited and both pipes are closed, or until `timeout` has
  // passed; then kills the child (SIGKILL) if it is still running. Call once.
  run_result wait(std::chrono::milliseconds timeout) {
    run_result res;
    close_stdin();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool reaped = false;
    int status = 0;
    while (stdout_ >= 0 || stderr_ >= 0 || !reaped) {
      if (!reaped && try_reap(&status)) {
        reaped = true;
        continue;  // drain what is left in the pipes
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd fds[3];
      nfds_t n = 0;
      int* owners[3];
      if (stdout_ >= 0) {
        fds[n] = {stdout_, POLLIN, 0};
        owners[n++] = &stdout_;
      }
      if (stderr_ >= 0) {
        fds[n] = {stderr_, POLLIN, 0};
        owners[n++] = &stderr_;
      }
      const bool watch_pid = !reaped && pidfd_ >= 0;
      if (watch_pid) {
        fds[n] = {pidfd_, POLLIN, 0};
        owners[n++] = nullptr;
      }
      // Without a pidfd, a child whose pipes are closed (or inherited by a grandchild) is polled for.
      const int wait_ms = (!reaped && !watch_pid) ? std::min<long>(left.count(), 10) : static_cast<int>(left.count());
      const int rc = ::poll(fds, n, wait_ms);
      if (rc < 0) {
        if (errno == EINTR) continue;
        detail::throw_errno("poll");
      }
      for (nfds_t i = 0; i < n; ++i) {
        if (owners[i] == nullptr || fds[i].revents == 0) continue;
        char buf[8192];
        const ssize_t got = ::read(*owners[i], buf, sizeof buf);
        if (got > 0) {
          (owners[i] == &stdout_ ? res.out : res.err).append(buf, static_cast<std::size_t>(got));
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          detail::close_fd(*owners[i]);
        }
      }
    }
    if (!reaped) {
      res.timed_out = true;
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      reaped = true;
    }
    pid_ = -1;
    detail::close_fd(stdout_);
    detail::close_fd(stderr_);
    detail::close_fd(pidfd_);
    if (WIFEXITED(status)) {
      res.exited = !res.timed_out;
      res.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      res.signaled = true;
      res.term_signal = WTERMSIG(status);
    }
    return res;
  }

 private:
  bool try_reap(int* status) {
    const pid_t r = ::waitpid(pid_, status, WNOHANG);
    return r == pid_;
  }
  void reap_if_running() {
    detail::close_fd(stdin_);
    detail::close_fd(stdout_);
    detail::close_fd(stderr_);
    detail::close_fd(pidfd_);
    if (pid_ > 0) {
      int status = 0;
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = -1;
  }

  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1, pidfd_ = -1;
};

// Starts `argv` (argv[0] is a path) with the parent's environment plus `extra_env`.
inline child spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env = {}) {
  return child(argv, extra_env);
}

// Runs `argv` to completion (stdin at EOF), killing it after `timeout`.
inline run_result run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  return spawn(argv, extra_env).wait(timeout);
}

// The lines of `text` (without their '\n'); a final line without '\n' counts too.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string::size_type at = 0;
  while (at < text.size()) {
    const auto nl = text.find('\n', at);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(at));
      break;
    }
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

// Non-overlapping occurrences of `needle` in `text`.
inline std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); !needle.empty() && at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class temp_dir {
 public:
  explicit temp_dir(const std::string& prefix = "lockgraph-test") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) detail::throw_errno("mkdtemp");
    path_ = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

  // Names (not paths) of the regular files directly inside, sorted.
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) {
      if (e.is_regular_file()) names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  // Names of the files whose name ends with `suffix`, sorted.
  std::vector<std::string> files_ending(const std::string& suffix) const {
    std::vector<std::string> out;
    for (auto& n : files()) {
      if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) out.push_back(n);
    }
    return out;
  }

 private:
  std::filesystem::path path_;
};

// Whole contents of a file ("" if it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Absolute path of a test program built from tests/programs/<name>.cpp.
inline std::string program(const std::string& name) {
#ifdef LOCKGRAPH_TEST_PROGRAM_DIR
  return std::string(LOCKGRAPH_TEST_PROGRAM_DIR) + "/" + name;
#else
  return name;
#endif
}

// The environment for a test program run with LOCKGRAPH_OPTIONS=`options`. Under TSan, TSan's own
// deadlock detection is off (lockgraph is the detector under test) and its first report ends the run.
inline std::map<std::string, std::string> env_with(const std::string& options) {
  std::map<std::string, std::string> env{{"LOCKGRAPH_OPTIONS", options}};
#if LGTEST_TSAN
  env["TSAN_OPTIONS"] = "detect_deadlocks=0 halt_on_error=1";
#endif
  return env;
}

// Runs one scenario of tests/programs/life_edges_program.cpp (the scenario and its arguments in `args`)
// with LOCKGRAPH_OPTIONS=`options`.
inline run_result run_life(const std::vector<std::string>& args, const std::string& options,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  std::vector<std::string> argv{program("life_edges_program")};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, {{"LOCKGRAPH_OPTIONS", options}}, timeout);
}

}  // namespace lgtest

#endif  // LOCKGRAPH_TESTS_SUPPORT_SUBPROCESS_HPP
