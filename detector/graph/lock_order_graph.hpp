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
// per lock; remove() O(in-degree x out-degree) (the splice).
#ifndef LOCKGRAPH_DETECTOR_LOCK_ORDER_GRAPH_HPP
#define LOCKGRAPH_DETECTOR_LOCK_ORDER_GRAPH_HPP

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
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

// Who first took an edge, and where: shared by every edge first seen by the same thread at the same
// stack (interned: the stacks of one acquisition site are nearly always identical), so an edge costs
// a pointer, not a stack.
struct sighting {
  thread_ref thread;
  stack_trace stack;
};

// The first sighting of an edge. Immutable once published.
struct edge_info {
  edge_key key;
  std::shared_ptr<const sighting> seen;
  bool from_try = false;  // `from` had been taken with try_lock*/a timed lock
  bool rejected = false;  // it closed a cycle and was kept out of the order
  bool spliced = false;   // stands for a path through a destroyed lock (recorded when it died)
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
    bool spliced;   // through a destroyed lock
    bool gated = false;  // on a cycle not reported because a gate lock serialises it (class_graph.hpp)
    thread_ref thread;
    std::string site;  // innermost user frame of the first sighting, symbolized
  };
  std::vector<node> nodes;
  std::vector<edge> edges;
  std::size_t omitted_edges = 0;  // edges left out by snapshot(max_edges)
  std::size_t omitted_nodes = 0;
  // Filled by the caller, from the class graph: same-class nestings and gated cycles, one line each.
  std::vector<std::string> notes;
};

// What add() did with an edge.
enum class edge_outcome {
  accepted,      // new, kept in the order
  known,         // seen before (by another thread meanwhile), or an end was destroyed mid-flight
  capped,        // new, but the graph holds max_edges edges already: not recorded
  closes_cycle,  // new, closes a cycle: rejected, and the cycle described
};

class lock_order_graph {
 public:
  // m's node, created the first time it is needed. Thread-safe.
  std::uint64_t node_of(lock_meta& m);

  // True if the edge was seen before (accepted or rejected; `*rejected` says which). Thread-safe, no
  // graph-wide lock.
  bool known(const edge_key& k, bool* rejected = nullptr) const;

  // Records a new edge first seen by `thread` at `stack`. If it closes a cycle, the edge is rejected
  // and `*cycle` receives the lock_order_inversion's locks, edges and edge ids (the caller adds who
  // closed it: thread, held locks, stack). Thread-safe; takes the graph lock, raises nothing.
  edge_outcome add(const edge_key& k, bool from_try, const thread_ref& thread, stack_trace stack, problem* cycle);

  // hooks.cpp records the edges from the nearest held locks only (b -> c for a held stack [a, b]), and
  // notes here that `under` (a) was held below b when b -> c was taken: a -> c is implied through b
  // for as long as b lives. Thread-safe; takes the graph lock (only on a new chain).
  void note_under(const edge_key& k, std::uint64_t under);

  // Removes a destroyed lock's nodes and every edge touching them. The order that went through the
  // lock is kept where a thread really held both ends: for b -> s with a noted `under` u (and u -> b),
  // u -> s is added (marked spliced), so the held stack [a, b] + c still has a -> c once b dies; order
  // that only chained through b at different times (a -> b one day, b -> c another) is dropped.
  // Rejected edges whose reported cycle went through the lock are forgotten (their cycle is gone), and
  // g_chain_epoch is bumped so no thread's chain cache keeps hiding them.
  void remove(std::uint64_t node);

  // lockgraph::forget(): takes `m`'s node away from it (m.node becomes 0: it gets a new one when next
  // nested) and remove()s it. Bumps g_chain_epoch. Thread-safe.
  // Returns the node the lock had (0: none), for the class graph to forget too.
  std::uint64_t forget(lock_meta& m);

  // lockgraph::reset(): every edge (accepted, rejected, spliced) and every note about them goes; the
  // nodes stay (live locks keep their ids, so held stacks stay valid). Bumps g_chain_epoch so no
  // chain validated before is trusted. Thread-safe.
  void forget_edges();

  // The whole graph, or, when it has more than `max_edges` edges (0 = no limit), the edges of reported
  // cycles and of their locks' one-hop neighbourhood up to that many, counting what was left out.
  lock_order_snapshot snapshot(std::size_t max_edges = 0) const;

  // max_edges=N: past N recorded edges add() records nothing new (edge_outcome::capped) and the first
  // time says so once on stderr. 0 = unlimited.
  void set_max_edges(std::size_t n) noexcept { max_edges_ = n; }

  // A process-wide cache of validated chain values (lockdep's chain hash), behind the thread-local
  // ones: a thread-cache miss on a chain some thread validated under the current g_chain_epoch is one
  // probe here. Lock-free, fixed size, direct-mapped; a lost entry only costs a slow path.
  bool chain_validated(std::uint64_t key) const noexcept;
  void remember_chain(std::uint64_t key, std::uint32_t epoch) noexcept;

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
  struct key_std_hash {
    std::size_t operator()(const edge_key& k) const noexcept { return key_hash::hash(k); }
  };
  struct node_info {
    label_ref label;
    std::uint64_t lock = 0;    // the lock's N node (itself for N nodes)
    std::uint64_t reader = 0;  // for an N node of a shared-capable lock: its R node
    std::vector<edge_key> rejected;  // rejected edges whose cycle went through this lock (not in the detector)
  };

  // Callers of these hold mu_.
  void describe_cycle(const std::vector<cycle_detector::node_id>& path, const std::shared_ptr<edge_info>& closing,
                      problem* out);
  const edge_info* state_edge_info(std::uint64_t src, std::uint64_t dst) const;  // a lock-level edge behind it
  edge_outcome insert(const std::shared_ptr<edge_info>& info, problem* cycle);
  void erase_edges_of(cycle_detector::node_id n);
  std::vector<std::shared_ptr<edge_info>> all_edges() const;
  void splice_through(std::uint64_t lock);
  std::shared_ptr<const sighting> intern(thread_ref thread, stack_trace stack);
  struct sighting_hash {
    std::size_t operator()(const std::shared_ptr<const sighting>& s) const noexcept;
  };
  struct sighting_eq {
    bool operator()(const std::shared_ptr<const sighting>& a, const std::shared_ptr<const sighting>& b) const noexcept {
      return a->thread.id == b->thread.id && a->thread.name == b->thread.name && a->stack.frames == b->stack.frames;
    }
  };

  mutable std::mutex mu_;  // guards everything below but edges_
  cycle_detector cd_;
  std::unordered_map<std::uint64_t, node_info> nodes_;
  // Interned sightings; entries nobody else refers to are dropped when the set has doubled.
  std::unordered_set<std::shared_ptr<const sighting>, sighting_hash, sighting_eq> sightings_;
  std::size_t sightings_purge_at_ = 1024;
  // The locks of the cycle each rejected edge closed (for forgetting it when one of them dies).
  std::unordered_map<edge_key, std::vector<std::uint64_t>, key_std_hash> rejected_cycles_;
  // Edge b -> c => the locks noted held right below b when it was taken (see note_under()).
  std::unordered_map<edge_key, std::vector<std::uint64_t>, key_std_hash> unders_;
  // Lock => the edges that list it in unders_ (may be stale: checked on use).
  std::unordered_map<std::uint64_t, std::vector<edge_key>> under_of_;
  void add_under(const edge_key& k, std::uint64_t under);  // caller holds mu_
  std::size_t max_edges_ = 0;
  bool cap_noticed_ = false;
  static constexpr std::size_t kChains = std::size_t{1} << 13;
  mutable std::atomic<std::uint64_t> chains_[kChains] = {};  // validated chain values, mixed with their epoch
  std::size_t accepted_edges_ = 0;
  std::vector<edge_key> cycle_edges_;  // edges of reported cycles, for DOT; pruned with their nodes
  // std::allocator: see labels.cpp (LeakSanitizer does not scan oneTBB's scalable allocator).
  tbb::concurrent_hash_map<edge_key, std::shared_ptr<edge_info>, key_hash,
                           std::allocator<std::pair<const edge_key, std::shared_ptr<edge_info>>>>
      edges_;
};

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_LOCK_ORDER_GRAPH_HPP
