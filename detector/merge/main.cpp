// lockgraph-merge: checks the lock order of a whole test suite. Reads the edge logs that processes run
// with edge_log=DIR wrote (report/edge_log.hpp), merges them into one class-level lock-order graph and
// reports every cycle as a lock_order_inversion with "scope": "suite" (merge/suite_graph.hpp).
//
//   lockgraph-merge [--dot FILE] [--json DIR] [--text] [--across-processes] [--suppressions FILE]
//                   [--write-order FILE] [--check-order FILE] DIR...
//
// Exit status: 0 no cycle, 1 a cycle (or a declared-order violation), 2 unreadable or malformed input
// or a usage error, with one line "lockgraph-merge: FILE:LINE: ...".
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "merge/order_check.hpp"
#include "merge/suite_graph.hpp"
#include "report/report_sink.hpp"
#include "report/suppressions.hpp"

namespace {

using namespace lockgraph;
using namespace lockgraph::detail;

constexpr std::string_view kUsage =
    "usage: lockgraph-merge [--dot FILE] [--json DIR] [--text] [--across-processes] [--suppressions FILE]\n"
    "                       [--write-order FILE] [--check-order FILE] DIR...\n"
    "  DIR...              directories of edge logs (edge_log=DIR); a file is read as one log\n"
    "  --dot FILE          write the whole suite lock-order graph as Graphviz DOT (cycles red)\n"
    "  --json DIR          write each cycle as DIR/lockgraph-suite-NNNN.json and .dot\n"
    "  --text              print each cycle's full report (default: one line per cycle)\n"
    "  --across-processes  leave out cycles one process saw whole (it reported them itself)\n"
    "  --suppressions FILE leave out reports a rule of FILE matches (suppressions=FILE's format)\n"
    "  --write-order FILE  write the observed order as a declaration to start from\n"
    "  --check-order FILE  check the suite against a declared order\n"
    "exit status: 0 no cycle, 1 cycle or order violation, 2 bad input\n";

int usage_error(const std::string& what) {
  std::fprintf(stderr, "lockgraph-merge: %s\n%.*s", what.c_str(), static_cast<int>(kUsage.size()), kUsage.data());
  return 2;
}

bool write_or_say(const std::string& path, const std::string& content) {
  if (const int err = write_atomically(path, content); err != 0) {
    std::fprintf(stderr, "lockgraph-merge: %s: cannot write (%s)\n", path.c_str(), std::strerror(err));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dot_file, json_dir, write_order, check_order, suppressions_file;
  bool text = false;
  bool across = false;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc || argv[i + 1][0] == '\0') return false;
      *out = argv[++i];
      return true;
    };
    if (a == "--dot") {
      if (!value(&dot_file)) return usage_error("--dot needs a file");
    } else if (a == "--json") {
      if (!value(&json_dir)) return usage_error("--json needs a directory");
    } else if (a == "--write-order") {
      if (!value(&write_order)) return usage_error("--write-order needs a file");
    } else if (a == "--check-order") {
      if (!value(&check_order)) return usage_error("--check-order needs a file");
    } else if (a == "--suppressions") {
      if (!value(&suppressions_file)) return usage_error("--suppressions needs a file");
    } else if (a == "--text") {
      text = true;
    } else if (a == "--across-processes") {
      across = true;
    } else if (a == "-h" || a == "--help") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    } else if (a == "--") {
      for (++i; i < argc; ++i) inputs.emplace_back(argv[i]);
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option '" + std::string(a) + "'");
    } else {
      inputs.emplace_back(a);
    }
  }
  if (inputs.empty()) return usage_error("no edge-log directory given");

  std::vector<suite_log> logs;
  std::string error;
  if (!read_suite_logs(inputs, &logs, &error)) {
    std::fprintf(stderr, "lockgraph-merge: %s\n", error.c_str());
    return 2;
  }
  suppressions rules;
  if (!suppressions_file.empty()) {
    if (const std::string e = rules.add_file(suppressions_file); !e.empty()) {
      std::fprintf(stderr, "lockgraph-merge: %s\n", e.c_str());
      return 2;
    }
  }
  suite_graph graph;
  graph.add(logs);
  std::vector<report> cycles = graph.check(across);
  // Declared lock order: it sees the same class edges.
  std::vector<report> violations;
  declared_order order;
  if (!check_order.empty()) {
    if (const int s = check_order_declaration(graph, check_order, order, &violations); s != 0) return s;
  }
  // Suppressions as in a process (the suite reports' stacks are text, so rules match their lock and
  // class names and fingerprints).
  std::size_t suppressed = 0;
  for (std::vector<report>* list : {&cycles, &violations}) {
    suppressed += std::erase_if(*list, [&](const report& r) { return rules.match(r) >= 0; });
  }
  const int status = cycles.empty() && violations.empty() ? 0 : 1;
  if (!write_order.empty()) {
    if (const int s = write_order_declaration(graph, write_order); s != 0) return s;
  }

  std::vector<report> all = cycles;
  all.insert(all.end(), violations.begin(), violations.end());
  if (!json_dir.empty()) {
    std::string failed;
    if (const int err = make_dirs(json_dir, &failed); err != 0) {
      std::fprintf(stderr, "lockgraph-merge: --json %s: cannot create '%s' (%s)\n", json_dir.c_str(), failed.c_str(),
                   std::strerror(err));
      return 2;
    }
    for (std::size_t i = 0; i < all.size(); ++i) {
      char stem[64];
      std::snprintf(stem, sizeof stem, "/lockgraph-suite-%04zu", i + 1);
      report& r = all[i];
      r.files = {json_dir + stem + ".json", json_dir + stem + ".dot"};
      if (!write_or_say(r.files[0], to_json(r)) || !write_or_say(r.files[1], lockgraph::to_dot(r))) return 2;
    }
  }
  if (!dot_file.empty() && !write_or_say(dot_file, graph.to_dot(check_order.empty() ? nullptr : &order))) return 2;

  for (const report& r : all) {
    if (text) {
      const std::string t = to_text(r);  // names r.files itself
      std::fwrite(t.data(), 1, t.size(), stdout);
      std::fputc('\n', stdout);
    } else {
      std::printf("lockgraph-merge: %s\n", r.summary.c_str());
      for (const lock_edge& e : r.edges) {
        std::printf("  %s -> %s  first seen in %s%s%s\n", e.from.c_str(), e.to.c_str(), e.seen_in.c_str(),
                    e.site.empty() ? "" : " at ", e.site.c_str());
      }
    }
  }
  const std::vector<const suite_graph::edge*> same = graph.same_class_edges();
  for (const suite_graph::edge* e : same) {
    std::printf("lockgraph-merge: same-class nesting (not a cycle): %s -> %s, first seen in %s%s%s\n", e->from.c_str(),
                e->to.c_str(), graph.seen_in(*e).c_str(), e->first->site.empty() ? "" : " at ",
                e->first->site.c_str());
  }
  std::size_t truncated = 0;
  for (const suite_log& l : logs) truncated += l.log.truncated ? 1 : 0;
  std::printf("lockgraph-merge: checked %zu logs from %zu processes: %zu classes, %zu edges (%zu same-class), "
              "%zu cycles%s\n",
              logs.size(), graph.process_count(), graph.class_count(), graph.edges().size(), same.size(),
              cycles.size(), across ? " across processes" : "");
  if (!check_order.empty()) std::printf("lockgraph-merge: %zu declared-order violations\n", violations.size());
  if (suppressed > 0) std::printf("lockgraph-merge: %zu reports suppressed (%s)\n", suppressed, suppressions_file.c_str());
  if (truncated > 0) {
    std::printf("lockgraph-merge: %zu logs were truncated (edges past the cap were not logged)\n", truncated);
  }
  std::fflush(stdout);
  return status;
}
