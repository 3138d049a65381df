// worker_exits_holding_lock: a thread that returns while still holding a lock.
//
// reload_config() locks the config mutex by hand (m.lock(), no guard) and unlocks it at the end, but
// an early-return error path forgets the unlock(). The worker thread that hits the error exits with
// the mutex still locked. Nobody can ever take it again: with std::mutex the next lock() hangs forever
// and nothing says why. lockgraph checks every thread at exit and reports `unreleased_lock`, naming
// the lock, the thread that held it, and what it held.
//
// Afterwards, main shows the damage with try_lock() (which never blocks) instead of hanging in lock().
//
// Run it:
//   build/examples/worker_exits_holding_lock
//   scripts/deadlock-gate.sh -- build/examples/worker_exits_holding_lock
//
// The usual fix: std::lock_guard / std::unique_lock, so every return path unlocks.
#include <lockgraph/lockgraph.hpp>

#include <cstdio>
#include <string>
#include <thread>

// Never destroyed, on purpose: destroying a locked mutex is undefined behaviour, and after the bug
// below nobody can unlock this one any more.
lockgraph::mutex& config_mutex() {
  static lockgraph::mutex* const m = new lockgraph::mutex("config mutex");
  return *m;
}

std::string config = "v1";

// Returns false when the new config is invalid.
bool reload_config(const std::string& next) {
  config_mutex().lock();
  if (next.empty()) {
    return false;  // BUG: returns with config_mutex() still locked
  }
  config = next;
  config_mutex().unlock();
  return true;
}

int main() {
  std::thread worker([] {
    lockgraph::set_thread_name("config-reloader");
    if (!reload_config("")) std::printf("worker: invalid config, giving up\n");
  });  // the worker exits here: lockgraph reports the lock it still holds
  worker.join();

  if (config_mutex().try_lock()) {
    std::printf("worker_exits_holding_lock: the config mutex is free (unexpected)\n");
    config_mutex().unlock();
    return 1;
  }
  std::printf("worker_exits_holding_lock: main cannot take the config mutex: it is held by a thread that no "
              "longer exists, so a lock() here would hang forever; lockgraph raised %zu report(s)\n",
              lockgraph::reports().size());
  return 0;
}
