// lock_order_graph: the process-wide lock-order graph. An edge A -> B means "some thread acquired B,
// blocking, while it held A". A cycle is a potential deadlock (lock_order_inversion).
//
// Reader/writer rule (Linux lockdep's recursive-read rule): two readers never block each other, so a
// path that enters a lock in shared mode and leaves it while holding it shared is not a dependency.
// To keep that exact inside an ordinary DAG, every shared-capable lock has two nodes in the
// cycle_detector: N ("entered by a writer": any edge may leave it) and R ("entered by a reader": only
// edges taken while holding the lock exclusive leave it). A cycle among those nodes is exactly a cycle
// with a writer on the way; shared -> shared-only cycles never appear.
//
// Thread-safety: every member is thread-safe. known() takes no graph-wide lock (a oneTBB
// concurrent_hash_map bucket lock only), and is only reached on a thread-local chain-cache miss;
// node creation, edge insertion and removal serialize on one internal std::mutex, which is never held
// while a report is raised.
//
// Cost: known() O(1); add() O(affected region) (Pearce-Kelly); node_of() O(1) after the first call
// per lock; remove() O(degree).
#ifndef LOCKGRAPH_DETECTOR_LOCK_ORDER_GRAPH_HPP
#define LOCKGRAPH_DETECTOR_LOCK_ORDER_GRAPH_HPP

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/tbb/concurrent_hash_map.h>

#include "base/labels.hpp"
#include "graph/cycle_detector.hpp"
#include "lockgraph/detail/lock_meta.hpp"
#include "lockgraph/report.hpp"
#include "report/problem.hpp"

namespace lockgraph::detail {

// A lock-level edge: lock nodes (their N ids) and the shared bits of both ends.
struct edge_key {
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  bool from_shared = false;
  bool to_shared = false;
  bool operator==(const edge_key& o) const noexcept {
    return from == o.from && to == o.to && from_shared == o.from_shared && to_shared == o.to_shared;
  }
};

// The first sighting of an edge. Immutable once published.
struct edge_info {
  edge_key key;
  label_ref from_label;
  label_ref to_label;
  thread_ref thread;
  stack_trace stack;
  bool from_try = false;  // `from` had been taken with try_lock*/a timed lock
  bool rejected = false;  // it closed a cycle and was kept out of the order
};

// What the graph looks like now, for DOT output.
struct lock_order_snapshot {
  struct node {
    std::uint64_t id;
    std::string label;
  };
  struct edge {
    std::uint64_t from, to;
    bool from_shared, to_shared, from_try;
    bool rejected;  // closed a cycle (kept out of the order)
    bool in_cycle;  // on a reported cycle
    thread_ref thread;
    std::string site;  // innermost user frame of the first sighting, symbolized
  };
  std::vector<node> nodes;
  std::vector<edge> edges;
};

// What add() did with an edge.
enum class edge_outcome {
  accepted,      // new, kept in the order
  known,         // seen before (by another thread meanwhile), or an end was destroyed mid-flight
  closes_cycle,  // new, closes a cycle: rejected, and the cycle described
};

class lock_order_graph {
 public:
  // m's node, created the first time it is needed. Thread-safe.
  std::uint64_t node_of(lock_meta& m);

  // True if the edge was seen before (accepted or rejected). Thread-safe, no graph-wide lock.
  bool known(const edge_key& k) const;

  // Records a new edge first seen by `thread` at `stack`. If it closes a cycle, the edge is rejected
  // and `*cycle` receives the lock_order_inversion's locks, edges and edge ids (the caller adds who
  // closed it: thread, held locks, stack). Thread-safe; takes the graph lock, raises nothing.
  edge_outcome add(const edge_key& k, bool from_try, const thread_ref& thread, stack_trace stack, problem* cycle);

  // Removes a destroyed lock's nodes and every edge touching them.
  void remove(std::uint64_t node);

  lock_order_snapshot snapshot() const;

  // fork(): hold the graph lock across the fork so the child never inherits it mid-update.
  void lock_for_fork() { mu_.lock(); }
  void unlock_after_fork() { mu_.unlock(); }
  std::size_t node_count() const;  // locks with a node
  std::size_t edge_count() const;  // accepted lock-level edges
  std::size_t memory_bytes() const;

 private:
  struct key_hash {
    static std::size_t hash(const edge_key& k) {
      std::uint64_t x = k.from * 0x9E3779B97F4A7C15ULL ^ (k.to + 0x632BE59BD9B4E019ULL) * 0xC2B2AE3D27D4EB4FULL;
      x ^= (static_cast<std::uint64_t>(k.from_shared) << 1) | static_cast<std::uint64_t>(k.to_shared);
      return static_cast<std::size_t>(x ^ (x >> 29));
    }
    static bool equal(const edge_key& a, const edge_key& b) { return a == b; }
  };
  struct pair_hash {
    std::size_t operator()(const std::pair<std::uint64_t, std::uint64_t>& p) const noexcept {
      return static_cast<std::size_t>(p.first * 0x9E3779B97F4A7C15ULL ^ p.second);
    }
  };
  struct node_info {
    label_ref label;
    std::uint64_t lock = 0;    // the lock's N node (itself for N nodes)
    std::uint64_t reader = 0;  // for an N node of a shared-capable lock: its R node
    std::vector<edge_key> rejected;  // rejected edges touching this lock (not in the detector)
  };

  void describe_cycle(const std::vector<cycle_detector::node_id>& path, const std::shared_ptr<edge_info>& closing,
                      problem* out);  // caller holds mu_
  void erase_state_edges(cycle_detector::node_id n);   // caller holds mu_

  mutable std::mutex mu_;  // guards everything below but edges_
  cycle_detector cd_;
  std::unordered_map<std::uint64_t, node_info> nodes_;
  // State-graph edge (detector node ids) -> the lock-level edges it stands for (first one first). Two
  // lock-level edges can share one: a -> b taken with a held exclusive and with a held shared both
  // leave a's N node.
  std::unordered_map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::shared_ptr<edge_info>>, pair_hash>
      state_edges_;
  std::size_t accepted_edges_ = 0;
  std::vector<edge_key> cycle_edges_;  // edges of reported cycles, for DOT; pruned with their nodes
  // std::allocator: see labels.cpp (LeakSanitizer does not scan oneTBB's scalable allocator).
  tbb::concurrent_hash_map<edge_key, std::shared_ptr<edge_info>, key_hash,
                           std::allocator<std::pair<const edge_key, std::shared_ptr<edge_info>>>>
      edges_;
};

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_LOCK_ORDER_GRAPH_HPP
