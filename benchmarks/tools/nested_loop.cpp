// nested_loop.cpp: the whole-process comparison of issue 4 (item 2). One nested-pair loop, built three
// ways by benchmarks/CMakeLists.txt and timed from outside by scripts/bench.sh:
//   nested_loop_std        std::mutex
//   nested_loop_lockgraph  lockgraph::mutex (NESTED_LOOP_LOCKGRAPH=1)
//   nested_loop_tsan       std::mutex under -fsanitize=thread, run with TSAN_OPTIONS=detect_deadlocks=1
//
//   nested_loop [iterations=5000000] [threads=1]
// Each thread takes its own two locks in the same order `iterations` times (no contention), so the
// cost measured is the tools' per-acquisition bookkeeping plus start-up and exit. The loops always run
// on threads started for them, never on the main thread: in a process that never started a thread,
// glibc's pthread_mutex_lock skips its atomic instruction, which no program that needs a mutex sees.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#if defined(NESTED_LOOP_LOCKGRAPH) && NESTED_LOOP_LOCKGRAPH
#include <lockgraph/mutex.hpp>
using mutex_type = lockgraph::mutex;
#else
using mutex_type = std::mutex;
#endif

namespace {

struct alignas(64) pair_of_locks {
  mutex_type a;
  mutex_type b;
  unsigned long counter = 0;
};

void run(pair_of_locks& p, long iterations) {
  for (long i = 0; i < iterations; ++i) {
    std::lock_guard<mutex_type> ga(p.a);
    std::lock_guard<mutex_type> gb(p.b);
    ++p.counter;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 5'000'000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  if (iterations <= 0 || threads <= 0) {
    std::fprintf(stderr, "usage: %s [iterations>0] [threads>0]\n", argv[0]);
    return 2;
  }
  std::vector<pair_of_locks> pairs(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(run, std::ref(pairs[static_cast<std::size_t>(t)]), iterations);
  for (auto& th : pool) th.join();
  unsigned long total = 0;
  for (const auto& p : pairs) total += p.counter;
  std::printf("%lu\n", total);
  return total == static_cast<unsigned long>(iterations) * static_cast<unsigned long>(threads) ? 0 : 1;
}
