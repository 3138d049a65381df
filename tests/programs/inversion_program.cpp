// tests/programs/inversion_program.cpp: a child process for the end-to-end option tests.
//
//   inversion_program [N] [--wait-stdin] [--fork-after-first]
//
// Makes N distinct two-lock inversions (default 1; 0 makes none and only nests locks in one order),
// one after the other on the main thread, so nothing can hang. Each pair i is named "inv<i>.a" and
// "inv<i>.b". Progress goes to stdout unbuffered: "start", then "inversion <i> done" after each, then
// "exit" just before main returns, so a test can tell how far the program got (halt_on_report, a bad
// LOCKGRAPH_OPTIONS). With --wait-stdin the program reads stdin to EOF before its first lock: the
// parent starts several children and releases them together. With --fork-after-first the process
// forks after inversion 0: the child makes the remaining inversions and exits; the parent waits for
// it, says "child exited <status>" and makes no more (for log_path's file per process).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "lockgraph/lockgraph.hpp"

namespace {

void say(const std::string& line) {
  const std::string s = line + "\n";
  (void)!::write(1, s.data(), s.size());
}

}  // namespace

int main(int argc, char** argv) {
  int n = 1;
  bool wait_stdin = false;
  bool fork_after_first = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--fork-after-first") == 0) {
      fork_after_first = true;
    } else if (std::strcmp(argv[i], "--wait-stdin") == 0) {
      wait_stdin = true;
    } else {
      n = std::atoi(argv[i]);
    }
  }
  say("start");
  if (wait_stdin) {
    char buf[64];
    while (::read(0, buf, sizeof buf) > 0) {
    }
  }
  // Consistent nesting first: touches lockgraph (options are parsed here) and makes edges, no cycle.
  lockgraph::mutex outer("outer"), inner("inner");
  {
    std::lock_guard<lockgraph::mutex> g1(outer);
    std::lock_guard<lockgraph::mutex> g2(inner);
  }
  for (int i = 0; i < n; ++i) {
    lockgraph::mutex a("inv" + std::to_string(i) + ".a"), b("inv" + std::to_string(i) + ".b");
    {
      std::lock_guard<lockgraph::mutex> ga(a);
      std::lock_guard<lockgraph::mutex> gb(b);
    }
    {
      std::lock_guard<lockgraph::mutex> gb(b);
      std::lock_guard<lockgraph::mutex> ga(a);
    }
    say("inversion " + std::to_string(i) + " done");
    if (fork_after_first && i == 0) {
      const pid_t child = ::fork();
      if (child > 0) {
        int status = 0;
        ::waitpid(child, &status, 0);
        say("child exited " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1));
        break;
      }
    }
  }
  say("exit");
  return 0;
}
