// cycle_detector.hpp: incremental cycle detection in a directed graph that changes one edge at a time.
//
// cycle_detector keeps a directed acyclic graph and refuses any edge that would close a cycle. It is
// the lock-order graph's core: a node per lock, an edge a->b when some thread acquired b while
// holding a, and a refused edge is a potential deadlock whose cycle find_path() then spells out.
//
// Nodes are named by opaque 64-bit ids. Removing a node removes all its edges and invalidates its id
// for good: a later node may reuse the storage but never the id, so a stale id held by a caller (a
// destroyed mutex still referenced by a report, say) is simply invalid and never aliases a new node.
// Every operation accepts invalid ids and treats them as "not in the graph" (see each method).
//
// The graph holds at most one edge per (source, destination) pair; inserting an edge that exists is
// a successful no-op.
//
// cycle_detector uses no internal locking; calls must be serialized by the caller. That includes the
// const methods: find_path() marks visited nodes in per-node scratch state.
//
// Performance considerations:
//   The detector maintains a topological order of the nodes incrementally (Pearce & Kelly, 2006).
//   insert_edge(x, y) is O(1) when the edge already exists or when x is already ordered before y,
//   which is the common case once the graph has settled. Otherwise it costs O(k + the sum of the
//   degrees of those k nodes), where k counts the nodes that are reachable from y or reach x and
//   are positioned between y and x. A refused edge costs at most the part reachable from y, and
//   usually much less: that search is depth-first and stops at x. Edges that keep contradicting
//   the current order (nodes created in an order unrelated to the order they are used in) can make
//   every insertion touch a large part of the graph: quadratic in total, the price of
//   Pearce-Kelly's simplicity (graph_bench's "hidden" workloads measure it).
//   has_edge(), remove_edge() and new_node() are O(1) (amortized for new_node()); remove_node(n)
//   is O(degree of n). Adjacency sets hold up to 4 entries inside the node, then use arrays up to
//   16 entries and open-addressing hash tables beyond, so lookups stay O(1) for nodes with
//   thousands of edges.
//   find_path(x, y) is a breadth-first search over the nodes between x and y in the topological
//   order: linear in that part of the graph at worst.
//   Memory is 64 bytes per node slot, which holds up to 4 successors and 4 predecessors; beyond
//   that, 4 bytes per edge at each end, plus hash-table slack. Removing a node frees its edges at
//   once; its slot is reused by a later new_node(), so the slot table is sized by the peak number
//   of live nodes and is not returned to the allocator.
#ifndef LOCKGRAPH_DETECTOR_CYCLE_DETECTOR_HPP
#define LOCKGRAPH_DETECTOR_CYCLE_DETECTOR_HPP

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lockgraph::detail {

class cycle_detector {
 public:
  // (generation << 32) | (slot + 1). 0 is never a valid id, so callers may use it as "no node".
  using node_id = std::uint64_t;

  cycle_detector() = default;
  cycle_detector(const cycle_detector&) = delete;
  cycle_detector& operator=(const cycle_detector&) = delete;

  // Adds a node without edges and returns its id. Reuses the slot of a removed node when one is
  // free, under a new generation. Throws std::length_error when all 2^32 - 1 slots are taken and
  // std::bad_alloc if memory runs out.
  node_id new_node();

  // Removes n and every edge into or out of it. n stays invalid from then on, even once its slot
  // is reused. No-op if n is invalid.
  void remove_node(node_id n);

  // True iff n names a node currently in the graph: false for 0, for removed nodes, and for ids of
  // an earlier generation of a reused slot.
  bool valid(node_id n) const noexcept;

  // Inserts the edge x->y. Returns true if it was inserted or was already present, false if it
  // would close a cycle (x == y included), in which case the graph is unchanged. If x or y is
  // invalid the call does nothing and returns true: there is no cycle through a node that is not
  // in the graph, and a caller racing a node's removal should not be told otherwise.
  bool insert_edge(node_id x, node_id y);

  // True iff the edge x->y is in the graph (false if x or y is invalid).
  bool has_edge(node_id x, node_id y) const noexcept;

  // Removes the edge x->y if present. No-op if it is absent or x or y is invalid.
  void remove_edge(node_id x, node_id y) noexcept;

  // Returns a shortest path from x to y as node ids, x first and y last, or an empty vector if y is
  // not reachable from x or either id is invalid. find_path(x, x) is {x}. After insert_edge(x, y)
  // has failed, find_path(y, x) followed by the refused edge x->y is a shortest cycle through it.
  // If max_len is not 0 and the path has more than max_len nodes, returns its first max_len nodes
  // and sets *truncated (when given) to true; otherwise *truncated is set to false.
  std::vector<node_id> find_path(node_id x, node_id y, std::size_t max_len = 0,
                                 bool* truncated = nullptr) const;

  // Calls f(node_id) once for each successor (for_each_successor) or predecessor
  // (for_each_predecessor) of n, in no particular order; no calls if n is invalid. f must not
  // modify the detector.
  template <class F>
  void for_each_successor(node_id n, F&& f) const;
  template <class F>
  void for_each_predecessor(node_id n, F&& f) const;

  std::size_t node_count() const noexcept { return live_count_; }
  std::size_t edge_count() const noexcept { return edge_count_; }

  // Heap bytes held by the detector: the capacities of its tables and scratch buffers, not their
  // sizes. Excludes allocator overhead, so it is a lower bound of what the allocator gives up.
  std::size_t memory_bytes() const noexcept;

  // Checks every internal invariant: the positions of all slots form a permutation (so no two live
  // nodes share one), every edge goes forward in that order, each edge is recorded at both ends,
  // and the counters match. Returns false on the first violation. O(nodes + edges); for tests.
  bool test_only_check_invariants() const;

 private:
  // A set of slot indices, sized for the common node with a handful of edges. Up to kInline
  // entries live inside the set itself, so the node's cache line holds them; up to kMaxLinear in an
  // unsorted heap array searched linearly (a 64-byte scan beats hashing); past that, in an
  // open-addressing hash table with linear probing, so that membership tests stay O(1) for nodes
  // with thousands of edges.
  class slot_set {
   public:
    class const_iterator;

    slot_set() = default;
    // std::vector<node> moves nodes as it grows; nothing else moves or copies a set.
    slot_set(slot_set&& other) noexcept;
    slot_set(const slot_set&) = delete;
    slot_set& operator=(const slot_set&) = delete;
    ~slot_set() { clear(); }

    bool contains(std::uint32_t v) const noexcept;
    // Makes room for one more entry, so that the next insert() cannot fail. Throws std::bad_alloc.
    void reserve_one();
    void insert(std::uint32_t v) noexcept;  // v must be absent and reserve_one() called
    bool erase(std::uint32_t v) noexcept;   // false if v was absent
    void clear() noexcept;                  // also frees the heap storage
    std::uint32_t size() const noexcept { return size_; }
    std::size_t heap_bytes() const noexcept {
      return on_heap() ? std::size_t{capacity_} * sizeof(std::uint32_t) : 0;
    }
    const_iterator begin() const noexcept;
    const_iterator end() const noexcept;

   private:
    static constexpr std::uint32_t kInline = 4;
    static constexpr std::uint32_t kMaxLinear = 16;
    // Slot indices stop at 2^32 - 2, so all-ones never names a slot.
    static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};

    bool on_heap() const noexcept { return capacity_ > kInline; }
    bool hashed() const noexcept { return capacity_ > kMaxLinear; }
    std::uint32_t* data() noexcept { return on_heap() ? heap_ : inline_; }
    const std::uint32_t* data() const noexcept { return on_heap() ? heap_ : inline_; }
    // The end of the scanned range: the array's size, or the whole hash table.
    const std::uint32_t* scan_end() const noexcept { return data() + (hashed() ? capacity_ : size_); }
    std::uint32_t home(std::uint32_t v) const noexcept;
    // Index of v's entry in the hash table, or of the empty entry where it would go.
    std::uint32_t probe(std::uint32_t v) const noexcept;
    // Moves the entries to storage for new_capacity entries (kInline: inline; else a power of two).
    // Returns false, changing nothing, if that storage cannot be allocated.
    bool rebuild(std::uint32_t new_capacity) noexcept;

    union {
      std::uint32_t inline_[kInline];  // while capacity_ == kInline
      std::uint32_t* heap_;            // while capacity_ > kInline
    };
    std::uint32_t size_ = 0;
    std::uint32_t capacity_ = kInline;
  };

  // Everything about a node in one cache line: the fast path of insert_edge() reads two lines, and
  // a search one per node it looks at.
  struct alignas(64) node {
    slot_set out;                    // successors
    slot_set in;                     // predecessors
    std::uint32_t ord = 0;           // position in the topological order: the paper's ord(n)
    mutable std::uint32_t mark = 0;  // epoch_ of the last search that reached the node
    std::uint32_t generation = 0;
    bool live = false;
  };
  static_assert(sizeof(node) == 64);

  static constexpr std::uint32_t slot_of(node_id n) noexcept { return static_cast<std::uint32_t>(n) - 1; }
  node_id id_of(std::uint32_t slot) const noexcept {
    return (node_id{nodes_[slot].generation} << 32) | (node_id{slot} + 1);
  }

  void link(std::uint32_t from, std::uint32_t to);
  void unlink(std::uint32_t from, std::uint32_t to) noexcept;
  // Starts a new search: afterwards no node is marked.
  void begin_search() const noexcept;
  bool forward_search(std::uint32_t from, std::uint32_t ub);
  void backward_search(std::uint32_t from, std::uint32_t lb);
  void reorder(std::uint32_t lb, std::uint32_t ub);
  void release_large_scratch() noexcept;

  std::vector<node> nodes_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t live_count_ = 0;
  std::size_t edge_count_ = 0;
  std::size_t adjacency_bytes_ = 0;  // sum of heap_bytes() over every slot_set in nodes_
  mutable std::uint32_t epoch_ = 0;

  // Scratch for insert_edge(), kept between calls so the common small search does not allocate.
  // delta_f_/delta_b_ hold (ord << 32 | slot) keys so that sorting them sorts by position; merged_
  // is the pool of positions, and the radix sort's buffer before that.
  std::vector<std::uint32_t> stack_;
  std::vector<std::uint64_t> delta_f_;
  std::vector<std::uint64_t> delta_b_;
  std::vector<std::uint64_t> merged_;
};

class cycle_detector::slot_set::const_iterator {
 public:
  const_iterator(const std::uint32_t* p, const std::uint32_t* end) noexcept : p_(p), end_(end) {
    skip_empty();
  }

  std::uint32_t operator*() const noexcept { return *p_; }
  const_iterator& operator++() noexcept {
    ++p_;
    skip_empty();
    return *this;
  }
  bool operator==(const const_iterator& o) const noexcept { return p_ == o.p_; }

 private:
  // Hash-table entries may be empty; array entries never are, so this loop ends at once there.
  void skip_empty() noexcept {
    while (p_ != end_ && *p_ == kEmpty) ++p_;
  }

  const std::uint32_t* p_;
  const std::uint32_t* end_;
};

inline cycle_detector::slot_set::const_iterator cycle_detector::slot_set::begin() const noexcept {
  return const_iterator(data(), scan_end());
}

inline cycle_detector::slot_set::const_iterator cycle_detector::slot_set::end() const noexcept {
  return const_iterator(scan_end(), scan_end());
}

inline bool cycle_detector::valid(node_id n) const noexcept {
  const std::uint32_t slot = slot_of(n);
  return slot < nodes_.size() && nodes_[slot].live && nodes_[slot].generation == (n >> 32);
}

template <class F>
void cycle_detector::for_each_successor(node_id n, F&& f) const {
  if (!valid(n)) return;
  for (std::uint32_t s : nodes_[slot_of(n)].out) f(id_of(s));
}

template <class F>
void cycle_detector::for_each_predecessor(node_id n, F&& f) const {
  if (!valid(n)) return;
  for (std::uint32_t s : nodes_[slot_of(n)].in) f(id_of(s));
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_CYCLE_DETECTOR_HPP
