// dining_philosophers: a real deadlock, caught the moment it closes.
//
// Five philosophers sit around a table with one fork (a lockgraph::mutex) between each pair. Each
// takes the fork on the left, then the one on the right. A std::barrier makes the classic unlucky
// timing happen every time: every philosopher holds the left fork before anyone reaches for a right
// one. Then each waits for the fork its right neighbour holds: a circular wait of five threads.
//
// With std::mutex this program hangs forever. With lockgraph, the last philosopher to block closes
// the cycle of the wait-for graph; lockgraph reports `deadlock` naming every thread, the fork it
// waits for and the fork it holds, writes its files (with report_dir), and aborts the process. (It
// reports the lock_order_inversion too: fork 0 => fork 1 => ... => fork 4 => fork 0.)
//
// Run it (it is meant to end with "Aborted"):
//   build/examples/dining_philosophers
//   scripts/deadlock-gate.sh -- build/examples/dining_philosophers   # summary table and SVG
//
// The usual fix: take the lower-numbered fork first (one global order), or std::scoped_lock both.
#include <lockgraph/lockgraph.hpp>

#include <barrier>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

constexpr int kPhilosophers = 5;

int main() {
  if (!lockgraph::enabled()) {
    std::printf("dining_philosophers: lockgraph is off (LOCKGRAPH_DISABLE or enabled=0): this program "
                "would hang forever, so it does not start\n");
    return 0;
  }

  // A std::deque, because a mutex can be neither copied nor moved (emplace_back constructs in place).
  std::deque<lockgraph::mutex> forks;
  for (int i = 0; i < kPhilosophers; ++i) forks.emplace_back("fork " + std::to_string(i));

  // Nobody reaches for a right fork until every philosopher holds a left one.
  std::barrier all_hold_left(kPhilosophers);

  std::vector<std::thread> philosophers;
  for (int i = 0; i < kPhilosophers; ++i) {
    philosophers.emplace_back([&, i] {
      lockgraph::set_thread_name("philosopher " + std::to_string(i));
      lockgraph::mutex& left = forks[i];
      lockgraph::mutex& right = forks[(i + 1) % kPhilosophers];
      std::lock_guard<lockgraph::mutex> hold_left(left);
      all_hold_left.arrive_and_wait();
      std::lock_guard<lockgraph::mutex> hold_right(right);  // every right fork is someone's left fork
      std::printf("philosopher %d eats\n", i);             // never reached
    });
  }
  for (std::thread& p : philosophers) p.join();
  std::printf("dining_philosophers: everyone ate (lockgraph did not stop the deadlock?)\n");
  return 1;
}
