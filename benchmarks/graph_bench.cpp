// graph_bench.cpp: cycle_detector's edge insertion against two baselines: a naive graph that runs a
// full reachability search per insertion, and Abseil's GraphCycles (the Pearce-Kelly detector behind
// absl::Mutex's deadlock detection) when the build found it.
//
// Workloads: a DAG of n nodes with 4 edges per node, its edges inserted in random order. Two shapes,
// where i and j are positions in the DAG's topological order:
//   shallow  i -> j with j drawn from i+1..i+64: locality, like lock graphs where locks nest a few
//            levels deep, mostly among related locks.
//   chain    i -> i+1 plus 3 edges to anywhere after i: one path runs through every node, so the
//            region between two positions holds everything in between.
// and two relations between that order and the order the nodes are created in:
//   hidden    a random permutation: creation order says nothing, so the detector has to discover
//             the order, reordering as it goes. Pearce-Kelly's worst territory, and quadratic for
//             the naive graph, so the sizes stop early (see kMaxHiddenNodes).
//   creation  the same: every edge agrees with the order from the start, as in lock graphs whose
//             locks are created in the order they nest (a container's lock before its elements').
//             Every insertion takes the O(1) path; this is the regime of Abseil's own benchmark.
// per_edge is the CPU time per inserted edge in seconds, printed with an SI prefix (253n = 253 ns);
// CPU time, because these run single-threaded and wall time would also count other processes.
// RejectCycle times one refused cycle-closing edge in a fully built shallow/creation graph.
#include "graph/cycle_detector.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#if defined(LOCKGRAPH_HAVE_ABSL_GRAPHCYCLES) && __has_include(<absl/synchronization/internal/graphcycles.h>)
#include <absl/synchronization/internal/graphcycles.h>
#define LOCKGRAPH_BENCH_ABSL 1
#else
#define LOCKGRAPH_BENCH_ABSL 0
#endif

namespace {

using edge = std::pair<std::uint32_t, std::uint32_t>;

enum class shape { shallow, chain };
enum class order { hidden, creation };

constexpr const char* to_string(shape s) { return s == shape::shallow ? "shallow" : "chain"; }
constexpr const char* to_string(order o) { return o == order::hidden ? "hidden" : "creation"; }

struct workload {
  std::size_t nodes = 0;
  std::vector<edge> edges;       // in insertion order
  std::vector<edge> back_edges;  // each closes a cycle once all of `edges` are in
};

// Adds up to `count` distinct positions from [lo, hi] to `targets`.
void pick_targets(std::size_t lo, std::size_t hi, std::size_t count, std::mt19937_64& rng,
                  std::vector<std::size_t>& targets) {
  if (lo > hi) return;
  const std::size_t want = targets.size() + std::min(count, hi - lo + 1);
  std::uniform_int_distribution<std::size_t> pick(lo, hi);
  while (targets.size() < want) {
    const std::size_t j = pick(rng);
    if (std::find(targets.begin(), targets.end(), j) == targets.end()) targets.push_back(j);
  }
}

workload make_workload(shape s, order o, std::size_t n) {
  std::mt19937_64 rng(4 * n + 2 * static_cast<std::size_t>(s) + static_cast<std::size_t>(o));
  // Nodes are named by creation index; topo[p] is the node at position p of the DAG's order.
  std::vector<std::uint32_t> topo(n);
  for (std::uint32_t i = 0; i < n; ++i) topo[i] = i;
  if (o == order::hidden) std::shuffle(topo.begin(), topo.end(), rng);

  workload w;
  w.nodes = n;
  w.edges.reserve(4 * n);
  std::vector<std::vector<std::size_t>> out(n);  // by position
  for (std::size_t p = 0; p + 1 < n; ++p) {
    if (s == shape::shallow) {
      pick_targets(p + 1, std::min(n - 1, p + 64), 4, rng, out[p]);
    } else {
      out[p].push_back(p + 1);
      pick_targets(p + 2, n - 1, 3, rng, out[p]);
    }
    for (std::size_t q : out[p]) w.edges.emplace_back(topo[p], topo[q]);
  }
  std::shuffle(w.edges.begin(), w.edges.end(), rng);

  // A back edge from the end of a random walk of 1 to 16 steps to its start: a short cycle, like
  // the two- or three-lock inversions real deadlock reports show.
  std::uniform_int_distribution<std::size_t> start(0, n - 2);
  std::uniform_int_distribution<int> steps(1, 16);
  while (w.back_edges.size() < 1024) {
    const std::size_t from = start(rng);
    std::size_t p = from;
    for (int k = steps(rng); k > 0 && !out[p].empty(); --k) {
      p = out[p][std::uniform_int_distribution<std::size_t>(0, out[p].size() - 1)(rng)];
    }
    if (p != from) w.back_edges.emplace_back(topo[p], topo[from]);
  }
  return w;
}

// Built once per (shape, order, size) and shared by every graph type, outside the timed region.
const workload& get_workload(shape s, order o, std::size_t n) {
  static std::map<std::tuple<shape, order, std::size_t>, workload> cache;
  const auto key = std::tuple{s, o, n};
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make_workload(s, o, n)).first;
  return it->second;
}

// The graphs under test, behind one interface: nodes 0..n-1 exist from construction.

class lockgraph_graph {
 public:
  explicit lockgraph_graph(std::size_t n) {
    ids_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) ids_.push_back(graph_.new_node());
  }
  bool insert_edge(std::uint32_t from, std::uint32_t to) { return graph_.insert_edge(ids_[from], ids_[to]); }

 private:
  lockgraph::detail::cycle_detector graph_;
  std::vector<lockgraph::detail::cycle_detector::node_id> ids_;
};

// What a detector without an order does: before adding from->to, search everything reachable from
// `to` for `from`.
class naive_graph {
 public:
  explicit naive_graph(std::size_t n) : out_(n), mark_(n) {}

  bool insert_edge(std::uint32_t from, std::uint32_t to) {
    if (from == to) return false;
    std::vector<std::uint32_t>& succs = out_[from];
    if (std::find(succs.begin(), succs.end(), to) != succs.end()) return true;
    if (reaches(to, from)) return false;
    succs.push_back(to);
    return true;
  }
  // For building a graph known to be acyclic, when only the checks after that are timed.
  void insert_edge_unchecked(std::uint32_t from, std::uint32_t to) { out_[from].push_back(to); }

 private:
  bool reaches(std::uint32_t from, std::uint32_t to) {
    ++epoch_;
    stack_.assign(1, from);
    mark_[from] = epoch_;
    while (!stack_.empty()) {
      const std::uint32_t n = stack_.back();
      stack_.pop_back();
      for (std::uint32_t s : out_[n]) {
        if (s == to) return true;
        if (mark_[s] != epoch_) {
          mark_[s] = epoch_;
          stack_.push_back(s);
        }
      }
    }
    return false;
  }

  std::vector<std::vector<std::uint32_t>> out_;
  std::vector<std::uint32_t> mark_;
  std::vector<std::uint32_t> stack_;
  std::uint32_t epoch_ = 0;
};

#if LOCKGRAPH_BENCH_ABSL
class absl_graph {
 public:
  // GraphCycles names nodes by pointer; any distinct addresses will do.
  explicit absl_graph(std::size_t n) : anchors_(n) {
    ids_.reserve(n);
    for (char& anchor : anchors_) ids_.push_back(graph_.GetId(&anchor));
  }
  bool insert_edge(std::uint32_t from, std::uint32_t to) { return graph_.InsertEdge(ids_[from], ids_[to]); }

 private:
  std::vector<char> anchors_;
  absl::synchronization_internal::GraphCycles graph_;
  std::vector<absl::synchronization_internal::GraphId> ids_;
};
#endif

template <class Graph>
void BM_InsertEdges(benchmark::State& state, shape s, order o, std::size_t n) {
  const workload& w = get_workload(s, o, n);
  for (auto _ : state) {
    state.PauseTiming();
    auto graph = std::make_unique<Graph>(w.nodes);
    state.ResumeTiming();
    std::size_t accepted = 0;
    for (const auto& [from, to] : w.edges) accepted += graph->insert_edge(from, to);
    state.PauseTiming();
    if (accepted != w.edges.size()) state.SkipWithError("an edge of the DAG was refused");
    graph.reset();
    state.ResumeTiming();
  }
  const auto edges = static_cast<double>(w.edges.size());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * w.edges.size()));
  state.counters["per_edge"] =
      benchmark::Counter(edges, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// Builds the graph RejectCycle probes. The naive graph takes the DAG's edges unchecked: checking
// would take it minutes at 100k nodes, and only its checks afterwards are being timed.
template <class Graph>
void build(Graph& graph, const workload& w) {
  for (const auto& [from, to] : w.edges) graph.insert_edge(from, to);
}
void build(naive_graph& graph, const workload& w) {
  for (const auto& [from, to] : w.edges) graph.insert_edge_unchecked(from, to);
}

template <class Graph>
void BM_RejectCycle(benchmark::State& state, std::size_t n) {
  const workload& w = get_workload(shape::shallow, order::creation, n);
  Graph graph(w.nodes);
  build(graph, w);
  std::size_t next = 0;
  for (auto _ : state) {
    const auto& [from, to] = w.back_edges[next++ % w.back_edges.size()];
    if (graph.insert_edge(from, to)) {
      state.SkipWithError("a cycle-closing edge was accepted");
      break;
    }
  }
}

// Sizes stop where one build would take more than a few seconds: Pearce-Kelly on hidden orders and
// the naive graph on any order are quadratic (lockgraph alone needs about 2 CPU minutes for
// shallow/hidden/100k, Abseil several times that). 100k and 1M nodes get a single build.
constexpr std::size_t kMaxNodes = 1'000'000;
constexpr std::size_t kMaxHiddenNodes = 10'000;
constexpr std::size_t kMaxNaiveNodes = 10'000;

template <class Graph>
void register_insert(const std::string& graph, shape s, order o, std::size_t n) {
  const std::string label =
      "InsertEdges/" + graph + "/" + to_string(s) + "/" + to_string(o) + "/" + std::to_string(n);
  auto* b = benchmark::RegisterBenchmark(label.c_str(), BM_InsertEdges<Graph>, s, o, n);
  b->Unit(benchmark::kMillisecond);
  if (n >= 100'000) {
    b->Iterations(1);
  } else {
    b->MinTime(0.2);
  }
}

template <class Graph>
void register_reject(const std::string& graph, std::size_t n) {
  const std::string label = "RejectCycle/" + graph + "/shallow/" + std::to_string(n);
  benchmark::RegisterBenchmark(label.c_str(), BM_RejectCycle<Graph>, n)->Unit(benchmark::kNanosecond);
}

// Grouped by workload, so that the contenders for each come out next to each other.
void register_all() {
  for (order o : {order::creation, order::hidden}) {
    for (shape s : {shape::shallow, shape::chain}) {
      for (std::size_t n : {1'000, 10'000, 100'000, 1'000'000}) {
        if (n > (o == order::hidden ? kMaxHiddenNodes : kMaxNodes)) continue;
        register_insert<lockgraph_graph>("lockgraph", s, o, n);
#if LOCKGRAPH_BENCH_ABSL
        register_insert<absl_graph>("absl", s, o, n);
#endif
        if (n <= kMaxNaiveNodes) register_insert<naive_graph>("naive", s, o, n);
      }
    }
  }
  for (std::size_t n : {10'000, 100'000}) {
    register_reject<lockgraph_graph>("lockgraph", n);
#if LOCKGRAPH_BENCH_ABSL
    register_reject<absl_graph>("absl", n);
#endif
    register_reject<naive_graph>("naive", n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
