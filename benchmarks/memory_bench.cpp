// memory_bench.cpp: what lockgraph costs in memory (issue 4, item 4). Every "benchmark" here runs once
// and reports plain numbers as counters; scripts/bench.sh reads them from the JSON output.
//
//   BM_Sizeof                 sizeof of each lockgraph type and of its std:: twin, of a thread's slot
//                             (thread_registry.hpp) and of one overflow chunk of held entries
//   BM_GraphPerNode           100k locks, each nested once under a long-lived lock: graph bytes per node
//                             by lock_order_graph::memory_bytes() and by the allocator (mallinfo2), and
//                             what is left after the locks are destroyed
//   BM_GraphPerEdge           300 locks with a node each, then every forward pair (i < j) nested once:
//                             44,850 more edges; bytes per edge, both ways as above
//   BM_PerThread/<impl>       64 threads alive at once, each having taken one lock: heap bytes per
//                             thread (std: what std::thread itself allocates; lockgraph: that plus its slot)
//   BM_RssLifetimes/<impl>    1M lock lifetimes, each lock nested once under a long-lived lock (so it gets
//                             a graph node and an edge) and then destroyed: peak RSS (getrusage
//                             ru_maxrss) after 10k and after 1M lifetimes, and the graph left at the end
//   BM_RssLive/<impl>         100k live locks, each nested once under a long-lived lock: peak RSS
//                             growth and RSS bytes per live lock
// Peak RSS only grows, so scripts/bench.sh runs each BM_Rss* case in a process of its own.
#include <malloc.h>
#include <sys/resource.h>

#include <benchmark/benchmark.h>

#include <barrier>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include <lockgraph/lockgraph.hpp>

#if !LOCKGRAPH_DISABLED
#include "runtime/runtime.hpp"
#include "threads/thread_registry.hpp"
#endif

namespace {

double peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0;  // Linux reports KiB
}

double heap_in_use() { return static_cast<double>(mallinfo2().uordblks); }

double graph_bytes() {
#if !LOCKGRAPH_DISABLED
  return static_cast<double>(lockgraph::detail::rt().graph.memory_bytes());
#else
  return 0;
#endif
}
double graph_nodes() {
#if !LOCKGRAPH_DISABLED
  return static_cast<double>(lockgraph::detail::rt().graph.node_count());
#else
  return 0;
#endif
}
double graph_edges() {
#if !LOCKGRAPH_DISABLED
  return static_cast<double>(lockgraph::detail::rt().graph.edge_count());
#else
  return 0;
#endif
}

void BM_Sizeof(benchmark::State& state) {
  for (auto _ : state) {
  }
  auto& c = state.counters;
  c["std_mutex"] = sizeof(std::mutex);
  c["lockgraph_mutex"] = sizeof(lockgraph::mutex);
  c["std_timed_mutex"] = sizeof(std::timed_mutex);
  c["lockgraph_timed_mutex"] = sizeof(lockgraph::timed_mutex);
  c["std_recursive_mutex"] = sizeof(std::recursive_mutex);
  c["lockgraph_recursive_mutex"] = sizeof(lockgraph::recursive_mutex);
  c["std_shared_mutex"] = sizeof(std::shared_mutex);
  c["lockgraph_shared_mutex"] = sizeof(lockgraph::shared_mutex);
  c["std_condition_variable"] = sizeof(std::condition_variable);
  c["lockgraph_condition_variable"] = sizeof(lockgraph::condition_variable);
#if !LOCKGRAPH_DISABLED
  c["thread_slot"] = sizeof(lockgraph::detail::thread_slot);
  c["thread_record"] = sizeof(lockgraph::detail::thread_record);
  c["held_chunk"] = sizeof(lockgraph::detail::held_chunk);
  c["inline_held"] = lockgraph::detail::kInlineHeld;
#endif
}

// Takes `anchor` then `m`: gives m a graph node and the edge anchor -> m.
void nest_once(lockgraph::mutex& anchor, lockgraph::mutex& m) {
  std::lock_guard<lockgraph::mutex> a(anchor);
  std::lock_guard<lockgraph::mutex> b(m);
}

void BM_GraphPerNode(benchmark::State& state) {
  constexpr std::size_t kLocks = 100'000;
  for (auto _ : state) {
    lockgraph::mutex anchor, warm;
    nest_once(anchor, warm);  // creates the runtime and anchor's node
    const double g0 = graph_bytes(), h0 = heap_in_use(), n0 = graph_nodes();
    auto locks = std::make_unique<lockgraph::mutex[]>(kLocks);
    const double h_array = heap_in_use() - h0;
    for (std::size_t i = 0; i < kLocks; ++i) nest_once(anchor, locks[i]);
    const double nodes = graph_nodes() - n0;
    state.counters["nodes"] = nodes;
    state.counters["graph_bytes_per_node"] = (graph_bytes() - g0) / nodes;  // includes the edge into it
    state.counters["heap_bytes_per_node"] = (heap_in_use() - h0 - h_array) / nodes;
    locks.reset();
    state.counters["graph_bytes_left"] = graph_bytes() - g0;
    state.counters["heap_bytes_left"] = heap_in_use() - h0;
  }
}

void BM_GraphPerEdge(benchmark::State& state) {
  constexpr std::size_t kLocks = 300;
  for (auto _ : state) {
    lockgraph::mutex anchor;
    auto locks = std::make_unique<lockgraph::mutex[]>(kLocks);
    for (std::size_t i = 0; i < kLocks; ++i) nest_once(anchor, locks[i]);
    const double g0 = graph_bytes(), h0 = heap_in_use(), e0 = graph_edges();
    for (std::size_t i = 0; i < kLocks; ++i) {
      for (std::size_t j = i + 1; j < kLocks; ++j) nest_once(locks[i], locks[j]);
    }
    const double edges = graph_edges() - e0;
    state.counters["edges"] = edges;
    state.counters["graph_bytes_per_edge"] = (graph_bytes() - g0) / edges;
    state.counters["heap_bytes_per_edge"] = (heap_in_use() - h0) / edges;
  }
}

template <class M>
void BM_PerThread(benchmark::State& state) {
  constexpr int kThreads = 64;
  for (auto _ : state) {
    M m;
    std::barrier<> ready(kThreads + 1), done(kThreads + 1);
    const double h0 = heap_in_use();
    std::vector<std::thread> pool;
    pool.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      pool.emplace_back([&] {
        { std::lock_guard<M> g(m); }
        ready.arrive_and_wait();
        done.arrive_and_wait();
      });
    }
    ready.arrive_and_wait();
    state.counters["heap_bytes_per_thread"] = (heap_in_use() - h0) / kThreads;
    done.arrive_and_wait();
    for (auto& th : pool) th.join();
  }
}

template <class M>
void BM_RssLifetimes(benchmark::State& state) {
  for (auto _ : state) {
    M anchor;
    auto life = [&] {
      M m;
      std::lock_guard<M> a(anchor);
      std::lock_guard<M> b(m);
    };
    life();
    const double rss0 = peak_rss_bytes();
    for (int i = 0; i < 10'000; ++i) life();
    const double rss_10k = peak_rss_bytes();
    for (int i = 10'000; i < 1'000'000; ++i) life();
    state.counters["peak_rss_start_MiB"] = rss0 / (1 << 20);
    state.counters["peak_rss_10k_MiB"] = rss_10k / (1 << 20);
    state.counters["peak_rss_1M_MiB"] = peak_rss_bytes() / (1 << 20);
    state.counters["growth_10k_to_1M_KiB"] = (peak_rss_bytes() - rss_10k) / 1024;
    state.counters["graph_nodes_left"] = graph_nodes();
    state.counters["graph_bytes_left"] = graph_bytes();
  }
}

template <class M>
void BM_RssLive(benchmark::State& state) {
  constexpr std::size_t kLocks = 100'000;
  for (auto _ : state) {
    M anchor;
    { std::lock_guard<M> a(anchor); }
    const double rss0 = peak_rss_bytes();
    auto locks = std::make_unique<M[]>(kLocks);
    for (std::size_t i = 0; i < kLocks; ++i) {
      std::lock_guard<M> a(anchor);
      std::lock_guard<M> b(locks[i]);
    }
    const double grown = peak_rss_bytes() - rss0;
    state.counters["peak_rss_MiB"] = peak_rss_bytes() / (1 << 20);
    state.counters["rss_growth_MiB"] = grown / (1 << 20);
    state.counters["rss_bytes_per_live_lock"] = grown / kLocks;
    state.counters["graph_nodes"] = graph_nodes();
  }
}

}  // namespace

BENCHMARK(BM_Sizeof)->Iterations(1);
#if !LOCKGRAPH_DISABLED
BENCHMARK(BM_GraphPerNode)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GraphPerEdge)->Iterations(1)->Unit(benchmark::kMillisecond);
#endif
BENCHMARK_TEMPLATE(BM_PerThread, std::mutex)->Name("BM_PerThread/std")->Iterations(1);
BENCHMARK_TEMPLATE(BM_PerThread, lockgraph::mutex)->Name("BM_PerThread/lockgraph")->Iterations(1);
BENCHMARK_TEMPLATE(BM_RssLifetimes, std::mutex)->Name("BM_RssLifetimes/std")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_RssLifetimes, lockgraph::mutex)
    ->Name("BM_RssLifetimes/lockgraph")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_RssLive, std::mutex)->Name("BM_RssLive/std")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_RssLive, lockgraph::mutex)->Name("BM_RssLive/lockgraph")->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
