// tests/programs/self_deadlock_program.cpp: a child process that locks a lockgraph::mutex it already
// holds, for the abort_on_deadlock tests.
//
// The main thread locks `m`, then locks it again: a self_deadlock. By default lockgraph reports and
// aborts. With abort_on_deadlock=0 it reports and then blocks as std::mutex would; so that the test
// does not hang, a helper thread waits until the report was raised (a report handler counts down a
// latch) and then releases the underlying std::mutex behind lockgraph's back, through native_handle().
// The main thread then gets the lock and prints "survived" on stdout. Prints "reported" from the
// handler, so the test can tell the report was raised before whatever followed.
#include <pthread.h>
#include <unistd.h>

#include <latch>
#include <string>
#include <thread>

#include "lockgraph/lockgraph.hpp"

namespace {

void say(const std::string& line) {
  const std::string s = line + "\n";
  (void)!::write(1, s.data(), s.size());
}

}  // namespace

int main() {
  lockgraph::mutex m("self.m");
  std::latch reported(1);
  lockgraph::set_report_handler([&](const lockgraph::report& r) {
    if (r.kind == lockgraph::report_kind::self_deadlock) {
      say("reported");
      reported.count_down();
    }
  });
  m.lock();
  std::thread rescuer([&] {
    reported.wait();
    ::pthread_mutex_unlock(m.native_handle());
  });
  m.lock();  // self-deadlock
  say("survived");
  // lockgraph counted both lock() calls, so m is on this thread's held stack twice: release it twice.
  // The second unlock of the (already free) std::mutex is harmless for glibc's default mutex; the
  // TSan build of the test turns TSan's mutex-misuse reports off for this program.
  m.unlock();
  m.unlock();
  rescuer.join();
  return 0;
}
