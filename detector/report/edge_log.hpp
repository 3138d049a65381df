// edge_log: one process's class-level lock-order edges as a file, for lockgraph-merge (edge_log=DIR).
//
// A test suite runs one process per test: no process sees both halves of an inversion split over two
// tests. Each process writes the lock-order edges it saw, between lock classes (stable keys: a lock's
// name, or its construction site "file:line"; never an address), with the first sighting of each;
// lockgraph-merge reads every file of a run and checks the union.
//
// Format, version 1: JSON lines (UTF-8, one JSON object per line, '\n'-terminated).
//   line 1, the header:
//     {"lockgraph_edge_log": 1, "pid": 4242, "command": "./tests --gtest_filter=A.B", "edges": 2,
//      "truncated": false, "dropped": 0}
//   then one line per edge:
//     {"from": "cache_mu", "to": "db.cpp:12", "from_shared": false, "to_shared": false,
//      "test": "Cache.Flush", "thread": 1, "thread_name": "worker", "site": "db.cpp:40 (flush)",
//      "stack": ["#0 0x4011d6 in flush() db.cpp:40", "#1 0x401301 in main main.cpp:9"]}
// "to" was acquired (blocking) while "from" was held; from == to is same-class nesting (two locks of
// one class, e.g. hand-over-hand), listed apart by the merge and never part of a cycle. "test" is the
// GoogleTest test running at the first sighting ("" outside one, or without lockgraph's listener),
// "site" the innermost user frame and "stack" the symbolized frames, both resolved when the file was
// written. "edges" counts the edge lines; "truncated" says edges past the cap were left out ("dropped"
// of them). Readers ignore keys they do not know, so fields may be added without a new version; a
// change of meaning bumps the version, and a reader refuses versions it does not know.
//
// Pure: formatting and parsing only, no I/O and no detector state (the runtime writes the file, the
// merge tool reads it). Thread-safe on distinct objects.
#ifndef LOCKGRAPH_DETECTOR_EDGE_LOG_HPP
#define LOCKGRAPH_DETECTOR_EDGE_LOG_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lockgraph::detail {

inline constexpr int kEdgeLogVersion = 1;
// Edges one process writes at most; past it the file says "truncated" (a class graph this size is far
// beyond any real program's: the cap only keeps a runaway generator of lock names from filling a disk).
inline constexpr std::size_t kMaxLoggedEdges = 100'000;

// One class-level edge with its first sighting.
struct logged_edge {
  std::string from;  // class keys
  std::string to;
  bool from_shared = false;
  bool to_shared = false;
  std::string test;  // GoogleTest "Suite.Name", or empty
  std::uint64_t thread = 0;
  std::string thread_name;
  std::string site;                // innermost user frame, "file.cpp:12 (function)"
  std::vector<std::string> stack;  // symbolized frames, innermost first
};

struct edge_log {
  long pid = 0;
  std::string command;  // the command line, arguments separated by spaces
  bool truncated = false;
  std::size_t dropped = 0;  // edges left out past the cap
  std::vector<logged_edge> edges;
};

// The file's text: the header, then the edges (at most kMaxLoggedEdges of them, or `max_edges` when
// smaller; the rest counted as dropped).
std::string format_edge_log(const edge_log& log, std::size_t max_edges = kMaxLoggedEdges);

// Parses a whole file into `out`. Returns an empty string on success, else one line
// "LINE: <what is wrong>" (1-based line), so the caller can prefix the file name.
std::string parse_edge_log(std::string_view text, edge_log& out);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_EDGE_LOG_HPP
