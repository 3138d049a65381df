// merge_bench.cpp: lockgraph-merge's work on a large suite: 1,000 edge logs (one per test process)
// holding 100,000 distinct class edges between 10,000 lock classes, each log also repeating 50 edges
// every process takes (a common start-up path), each edge with an 8-frame stack as the runtime writes
// it: 150,000 edge lines. Timed: reading and parsing every file, deduplicating, and the cycle check (suite_graph::check);
// the logs are generated once, in a temporary directory, before the first run.
//   BM_MergeSuite             the whole merge of an acyclic suite
//   BM_MergeSuiteWithCycles   the same plus 100 two-class inversions split across processes
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "merge/suite_graph.hpp"
#include "report/edge_log.hpp"

namespace {

namespace fs = std::filesystem;
using lockgraph::detail::edge_log;
using lockgraph::detail::logged_edge;

constexpr int kLogs = 1'000;
constexpr int kEdgesPerLog = 100;  // distinct to the log: 100,000 in all
constexpr int kCommonEdges = 50;   // in every log
constexpr int kCycleClasses = 1'000'000;  // the inversions' classes: apart from the others

std::string class_name(int i) { return "module" + std::to_string(i % 97) + "/file" + std::to_string(i) + ".cpp:42"; }

logged_edge make_edge(int from, int to, int log) {
  logged_edge e;
  e.from = class_name(from);
  e.to = class_name(to);
  e.test = "Suite" + std::to_string(log / 10) + ".Test" + std::to_string(log);
  e.site = "file" + std::to_string(to) + ".cpp:120 (do_work)";
  for (int f = 0; f < 8; ++f) {
    e.stack.push_back("#" + std::to_string(f) + " 0x55d0c1" + std::to_string(100 + f) + " in function" +
                      std::to_string(f) + "(int) src/module/file" + std::to_string(to) + ".cpp:" + std::to_string(10 * f));
  }
  return e;
}

std::vector<std::string>& made_dirs() {
  static std::vector<std::string> dirs;
  return dirs;
}

// Writes the suite into a fresh directory, once per (cycles) variant; returns it.
std::string suite_dir(bool cycles) {
  static std::string dirs[2];
  std::string& dir = dirs[cycles ? 1 : 0];
  if (!dir.empty()) return dir;
  char tmpl[] = "/tmp/lockgraph-merge-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) std::abort();
  dir = tmpl;
  made_dirs().push_back(dir);
  for (int l = 0; l < kLogs; ++l) {
    edge_log log;
    log.pid = 10'000 + l;
    log.command = "./tests --gtest_filter=Suite" + std::to_string(l / 10) + ".Test" + std::to_string(l);
    for (int c = 0; c < kCommonEdges; ++c) {
      logged_edge e = make_edge(c, c + 1, l);
      e.from = "common" + std::to_string(c);
      e.to = "common" + std::to_string(c + 1);
      log.edges.push_back(std::move(e));
    }
    // Edge k = from k / 10 to a class 1..10 above it, so every edge goes up (acyclic) and the 100,000
    // are distinct; logs interleave their classes (l's edges share classes with l - 1 and l + 1).
    for (int i = 0; i < kEdgesPerLog; ++i) {
      const int k = l * kEdgesPerLog + i;
      const int from = k / 10;
      log.edges.push_back(make_edge(from, from + 1 + k % 10, l));
    }
    // A cycle no process sees: log l takes a -> b, log l+1 takes b -> a.
    if (cycles && l < 200) {
      const int a = kCycleClasses + (l / 2) * 2;
      log.edges.push_back(l % 2 == 0 ? make_edge(a, a + 1, l) : make_edge(a + 1, a, l));
    }
    std::ofstream(dir + "/edges-" + std::to_string(log.pid) + ".jsonl") << lockgraph::detail::format_edge_log(log);
  }
  return dir;
}

void merge(benchmark::State& state, bool cycles) {
  const std::string dir = suite_dir(cycles);
  std::size_t edges = 0;
  std::size_t reports = 0;
  for (auto _ : state) {
    std::vector<lockgraph::detail::suite_log> logs;
    std::string error;
    if (!lockgraph::detail::read_suite_logs({dir}, &logs, &error)) state.SkipWithError(error.c_str());
    lockgraph::detail::suite_graph g;
    g.add(logs);
    reports = g.check().size();
    edges = g.edges().size();
    benchmark::DoNotOptimize(reports);
  }
  state.counters["logs"] = kLogs;
  state.counters["distinct_edges"] = static_cast<double>(edges);
  state.counters["cycles"] = static_cast<double>(reports);
}

void BM_MergeSuite(benchmark::State& state) { merge(state, false); }
void BM_MergeSuiteWithCycles(benchmark::State& state) { merge(state, true); }
BENCHMARK(BM_MergeSuite)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_MergeSuiteWithCycles)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // The generated logs go with the process.
  std::error_code ec;
  for (const std::string& dir : made_dirs()) fs::remove_all(dir, ec);
  return 0;
}

// Measured (RelWithDebInfo, gcc, 2 cores shared with other builds, load ~10; wall time includes reading
// the files from /tmp):
// BM_MergeSuite/iterations:3                 1893 ms          631 ms            3 cycles=0 distinct_edges=100.05k logs=1000
// BM_MergeSuiteWithCycles/iterations:3       1842 ms          592 ms            3 cycles=100 distinct_edges=100.25k logs=1000
