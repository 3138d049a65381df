// suite_graph: lockgraph-merge's core. The edge logs of a whole test run (report/edge_log.hpp) become
// one class-level lock-order graph, checked with the same incremental cycle detector the runtime uses
// (graph/cycle_detector.hpp); every cycle becomes a lock_order_inversion with "scope": "suite" through
// the same report pipeline (report/problem.hpp's build_report, then to_text/to_json/to_dot).
//
// Reader/writer rule as in the runtime's lock_order_graph: a class entered in shared mode somewhere has
// a second node R ("entered by a reader") that only edges taken while holding the class exclusive leave,
// so shared -> shared-only cycles never appear. Same-class edges (from == to: hand-over-hand, ordered
// pairs of one class) stay out of the graph and are listed apart.
//
// Checking an order declaration (lockgraph-merge --check-order) needs only edges(): every distinct class
// edge with its first sighting.
//
// Not thread-safe; one merge per object. Cost: O(total edge lines) to read and deduplicate (hashing),
// then one cycle_detector insertion per distinct edge (Pearce-Kelly: O(1) for edges that agree with
// the order so far); 1,000 logs holding 100,000 distinct edges merge in well under a second
// (benchmarks/merge_bench.cpp).
#ifndef LOCKGRAPH_DETECTOR_SUITE_GRAPH_HPP
#define LOCKGRAPH_DETECTOR_SUITE_GRAPH_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "graph/declared_order.hpp"
#include "lockgraph/report.hpp"
#include "report/edge_log.hpp"

namespace lockgraph::detail {

// One input file, read.
struct suite_log {
  std::string path;
  edge_log log;
};

// Reads every *.jsonl file directly in each of `paths` (a path that is a file is read as one log),
// sorted by name so that the merge is deterministic. On failure returns false and sets `*error` to one
// line "FILE:LINE: <what>" (LINE 0 when the file as a whole cannot be read).
bool read_suite_logs(const std::vector<std::string>& paths, std::vector<suite_log>* out, std::string* error);

class suite_graph {
 public:
  // A distinct class edge and where it was first seen (the first log, in read order, that has it).
  struct edge {
    std::string from, to;
    bool from_shared = false;
    bool to_shared = false;
    std::size_t log = 0;  // index into the logs given to add()
    const logged_edge* first = nullptr;  // in that log
    std::vector<std::uint32_t> logs;     // every log it appears in
    bool in_cycle = false;
  };

  // Adds every edge of every log (keep `logs` alive as long as this object).
  void add(const std::vector<suite_log>& logs);

  // Inserts the edges into the cycle detector, in the order they were added, and returns one
  // lock_order_inversion report ("scope": "suite") per cycle over distinct classes (cycles over the
  // same set of classes are one report). With `across_processes_only`, a cycle that one process saw
  // whole is left out (that process checked it, and reported it, itself).
  std::vector<report> check(bool across_processes_only = false);

  const std::vector<edge>& edges() const { return edges_; }
  // Same-class edges (from == to), apart: never part of a cycle.
  std::vector<const edge*> same_class_edges() const;
  std::size_t class_count() const { return classes_.size(); }
  std::size_t process_count() const;

  // Graphviz of the whole suite graph: one node per class, each edge labelled with where it was first
  // seen (test, process, site), the edges of reported cycles red, same-class edges as dashed loops.
  // With `order` (--check-order), each edge is marked against the declaration: blue and bold when it
  // goes against it (labelled with the rule), green when the declaration allows it, as before when the
  // declaration says nothing of it.
  std::string to_dot(const declared_order* order = nullptr) const;

  // "where" an edge was seen, as reports and DOT labels say it: "test A.B, pid 42: ./tests ..."
  std::string seen_in(const edge& e) const;

 private:
  const std::vector<suite_log>* logs_ = nullptr;
  std::vector<edge> edges_;
  std::unordered_map<std::string, std::size_t> index_;  // "from\0to\0bits" -> edges_ index
  std::unordered_map<std::string, std::uint32_t> classes_;
};

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_SUITE_GRAPH_HPP
