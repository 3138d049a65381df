// tests/programs/shutdown_program.cpp: issue 9 item 2, checking during static destruction and atexit.
//
//   shutdown_program dtor     a static object's constructor nests sd.a -> sd.b, its destructor (run
//                             during exit) nests sd.b -> sd.a: an inversion to report at shutdown
//   shutdown_program atexit   main nests ae.a -> ae.b, an atexit handler nests ae.b -> ae.a
//   shutdown_program hang     an atexit handler deadlocks with a worker thread: the handler holds
//                             hang.a and blocks on hang.b, the worker holds hang.b and blocks on hang.a
// Prints "main returns" just before main returns. With LOCKGRAPH_OPTIONS=exitcode=N a reported
// inversion makes the process exit N; the deadlock must be reported and abort (SIGABRT).
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <latch>
#include <mutex>
#include <string>
#include <thread>

#include "lockgraph/lockgraph.hpp"

namespace {

void say(const std::string& line) {
  const std::string s = line + "\n";
  (void)!::write(1, s.data(), s.size());
}

lockgraph::mutex sd_a("sd.a"), sd_b("sd.b");
lockgraph::mutex ae_a("ae.a"), ae_b("ae.b");
lockgraph::mutex hang_a("hang.a"), hang_b("hang.b");

bool g_dtor_mode = false;

struct static_object {
  static_object() {
    std::lock_guard<lockgraph::mutex> ga(sd_a);
    std::lock_guard<lockgraph::mutex> gb(sd_b);
  }
  ~static_object() {
    if (!g_dtor_mode) return;
    std::lock_guard<lockgraph::mutex> gb(sd_b);
    std::lock_guard<lockgraph::mutex> ga(sd_a);
  }
};
// Defined after the locks: destroyed before them.
static_object g_object;

void atexit_inversion() {
  std::lock_guard<lockgraph::mutex> gb(ae_b);
  std::lock_guard<lockgraph::mutex> ga(ae_a);
}

std::latch g_worker_holds(1);
std::latch g_go(1);

void atexit_deadlock() {
  std::lock_guard<lockgraph::mutex> ga(hang_a);
  g_go.count_down();  // the worker now blocks on hang.a (held here)
  std::lock_guard<lockgraph::mutex> gb(hang_b);  // held by the worker: circular wait
  say("atexit handler got hang.b (unexpected)");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "dtor") {
    g_dtor_mode = true;
  } else if (mode == "atexit") {
    {
      std::lock_guard<lockgraph::mutex> ga(ae_a);
      std::lock_guard<lockgraph::mutex> gb(ae_b);
    }
    std::atexit(atexit_inversion);
  } else if (mode == "hang") {
    std::thread([] {
      std::lock_guard<lockgraph::mutex> gb(hang_b);
      g_worker_holds.count_down();
      g_go.wait();
      std::lock_guard<lockgraph::mutex> ga(hang_a);
    }).detach();
    g_worker_holds.wait();
    std::atexit(atexit_deadlock);
  } else {
    say("usage: shutdown_program dtor|atexit|hang");
    return 64;
  }
  say("main returns");
  return 0;
}
