// class_graph: the lock-order graph of lock classes, beside the per-lock one, and the gate-lock rule.
//
// A lock's class is its name, its explicit lockgraph::lock_class, or its construction site
// (base/labels.hpp, class_key()). An edge A -> B between classes means "some thread acquired a lock of
// class B, blocking, while it held one of class A". A cycle through two or more distinct classes is a
// potential deadlock even when no single set of locks closes it (thread 1 takes a1 then b1, thread 2
// takes b2 then a2): Linux lockdep's rule. It is reported as a lock_order_inversion with scope
// "class": the class names, and for each edge one real acquisition (thread, stack, the two locks).
// Nesting within one class (hand-over-hand, ordered pairs) is not an inversion: it is counted and shown
// in the lock-order DOT, never reported.
//
// Gate locks (the iGoodLock rule, Bensalem & Havelund / Joshi et al.): a cycle every edge of which was
// taken while the same lock G was held exclusive, at every sighting of every edge, cannot deadlock: G
// lets one thread at a time into the cycle. For each instance edge and each class edge the graph keeps
// the set of locks held exclusive at *every* sighting so far (an intersection that only shrinks). A
// cycle whose edges' sets share a lock is "gated": not reported unless gate_locks=report, listed in the
// DOT and in one summary line at exit, and reported at once if a later sighting breaks the gate (an
// edge taken again without it). Sightings are seen on the slow path only: the first time a thread (or,
// through the process-wide chain cache, any thread) takes a given held-stack sequence. A sighting with
// other locks held is another sequence, so it reaches the slow path and shrinks the sets: the sets are
// exact up to 64-bit chain-hash collisions.
//
// Shared holds: class edges are recorded between exclusive acquisitions only (reader/writer cycles are
// left to the per-lock graph, which knows lockdep's read rules), and a lock held shared is no gate.
//
// Thread-safety: every member is thread-safe (one internal std::mutex, never held while a report is
// raised; it may take the label cache's lock inside it). Only the slow path of lock() calls in: the
// class edges are recorded when an instance edge is new, sightings when a held-stack sequence is new.
// Cost: add_edge() O(1) on the common path (Pearce-Kelly, as the per-lock graph), plus the cycle
// search when one closes; sighting() returns without locking until some edge has been taken with a
// lock held below its source (a possible gate), and is O(1) plus O(kept cycles) when a set shrinks.
#ifndef LOCKGRAPH_DETECTOR_GRAPH_CLASS_GRAPH_HPP
#define LOCKGRAPH_DETECTOR_GRAPH_CLASS_GRAPH_HPP

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph/cycle_detector.hpp"
#include "graph/lock_order_graph.hpp"
#include "lockgraph/detail/lock_meta.hpp"
#include "lockgraph/report.hpp"
#include "report/problem.hpp"

namespace lockgraph::detail {

// Locks held exclusive at one sighting, sorted: graph node ids.
using held_set = std::vector<std::uint64_t>;

class class_graph {
 public:
  // The id of a class key in this process (1, 2, ...: stable within the process only; the key is the
  // stable name). Creates it on first use.
  std::uint32_t class_id(const std::string& key);

  // A new instance edge k (`from` held, `to` being acquired, both alive), accepted by the per-lock
  // graph. Records its class edge (or the same-class nesting) and the edge's gate sets. If the class
  // edge closes a class cycle that is to be reported now, fills *out (scope "class"; the caller adds
  // who closed it) and returns true. A gated cycle is kept instead (see the top of this file).
  // Kept cycles whose gate a sighting broke are appended to *broken, as in sighting().
  bool add_edge(const edge_key& k, const lock_meta& from, const lock_meta& to, const held_set& held,
                const thread_ref& thread, const stack_trace& stack, problem* out, std::vector<problem>* broken);

  // The per-lock graph rejected k: it closes the instance cycle `p` (edge_ids filled). Records k's gate
  // set; returns true if `p` is to be reported now, false if it is gated (and kept).
  bool instance_cycle(const edge_key& k, const held_set& held, const problem& p);

  // A known instance edge k taken again on the slow path with `held` held. Shrinks its gate sets; the
  // kept cycles whose gate that broke are appended to *broken (to be raised by the caller).
  void sighting(const edge_key& k, const held_set& held, std::vector<problem>* broken);

  // A lock's node leaves the per-lock graph (the lock was destroyed): its class stays.
  void remove(std::uint64_t node);
  // lockgraph::forget(): the lock's node leaves (as remove()) and so does its class, with every class
  // edge to and from it: the order learnt through this lock's class is forgotten (other locks of the
  // class keep their per-lock edges; the class comes back, empty, when one of them next nests).
  void forget_class_of(std::uint64_t node);
  // lockgraph::reset(): every class, class edge, gate set and kept cycle goes (class ids restart).
  void forget_edges();

  // gate_locks=report: gated cycles are reported like the others.
  void set_report_gated(bool on) noexcept { report_gated_ = on; }
  // classes=0: add_edge() keeps the gate sets only (no class edges, no class cycles).
  void set_classes(bool on) noexcept { classes_ = on; }
  // False until some edge was taken with a lock held besides its source: sighting() has nothing to
  // shrink before. Lock-free.
  bool may_gate() const noexcept { return any_gates_.load(std::memory_order_acquire); }

  // For the lock-order DOT: one line per same-class nesting and per gated cycle.
  std::vector<std::string> notes() const;
  // The instance edges of gated cycles (marked in the DOT).
  std::vector<edge_key> gated_edges() const;
  // "lockgraph: 2 lock-order cycles not reported: each edge was taken under a gate lock (...)", or
  // empty when there is none.
  std::string gated_summary() const;

  std::size_t class_count() const;
  std::size_t edge_count() const;  // class edges, same-class nestings excluded

  // fork(): hold the lock across fork() so the child never inherits it mid-update.
  void lock_for_fork() { mu_.lock(); }
  void unlock_after_fork() { mu_.unlock(); }

 private:
  struct key_hash {
    std::size_t operator()(const edge_key& k) const noexcept {
      std::uint64_t x = k.from * 0x9E3779B97F4A7C15ULL ^ (k.to + 0x632BE59BD9B4E019ULL) * 0xC2B2AE3D27D4EB4FULL;
      x ^= (static_cast<std::uint64_t>(k.from_shared) << 1) | static_cast<std::uint64_t>(k.to_shared);
      return static_cast<std::size_t>(x ^ (x >> 29));
    }
  };
  // One class edge (or same-class nesting): its first sighting and its gate set.
  struct class_edge {
    std::string from_lock, to_lock;  // the locks of the first sighting (labels)
    thread_ref thread;
    stack_trace stack;
    held_set gates;
    std::uint64_t sightings = 0;
    bool rejected = false;  // closed a class cycle: kept out of the order
  };
  struct gated_cycle {
    problem p;
    std::vector<edge_key> instance_edges;                          // scope "instance"
    std::vector<std::pair<std::uint64_t, std::uint64_t>> classes;  // scope "class": class edges
    held_set gate;
  };

  // Callers hold mu_.
  // The class node of a class key, made (with its key and class id) the first time the key is seen.
  std::uint64_t class_node_of_key(const std::string& key);
  std::uint64_t class_node(const lock_meta& m, std::uint64_t instance);
  // Remembers `held` as the gate of the instance edge k (nothing if it is empty).
  void note_gate(const edge_key& k, const held_set& held);
  static bool shrink(held_set& gates, const held_set& held);
  std::string label_of(std::uint64_t instance) const;
  held_set cycle_gate(const gated_cycle& c) const;
  void keep(gated_cycle c);
  void recheck(std::vector<problem>* broken);

  mutable std::mutex mu_;
  cycle_detector cd_;
  std::map<std::string, std::uint64_t> by_key_;                   // class key -> class node
  std::unordered_map<std::uint64_t, std::string> keys_;           // class node -> key
  std::unordered_map<std::uint64_t, std::uint32_t> ids_;          // class node -> class id
  std::unordered_map<std::uint64_t, std::uint64_t> class_of_;     // instance node -> class node
  std::map<std::pair<std::uint64_t, std::uint64_t>, class_edge> edges_;  // includes same-class (a, a)
  std::unordered_map<edge_key, held_set, key_hash> instance_gates_;      // non-empty gate sets only
  std::unordered_map<std::uint64_t, std::vector<edge_key>> gates_of_;   // instance node -> its keys there
  std::vector<gated_cycle> gated_;  // kept cycles whose locks are alive (re-checked on a shrink)
  std::size_t kept_ = 0;            // cycles kept over the process's life and never reported
  std::vector<std::string> gate_names_;  // their gates' labels, for the summary
  std::atomic<bool> any_gates_{false};  // some gate set has been non-empty (sighting() has work)
  bool report_gated_ = false;
  bool classes_ = true;
};

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_GRAPH_CLASS_GRAPH_HPP
