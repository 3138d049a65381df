// cycle_detector.cpp: cycle_detector keeps a topological order of its graph up to date, edge by edge.
//
// The algorithm is from D. J. Pearce and P. H. J. Kelly, "A Dynamic Topological Sort Algorithm for
// Directed Acyclic Graphs", ACM Journal of Experimental Algorithmics 11 (2006). Every node n holds a
// distinct position ord(n), and every edge a->b satisfies ord(a) < ord(b). An edge x->y with
// ord(x) < ord(y) keeps that true and is simply added. Otherwise only the nodes positioned in
// [lb, ub] = [ord(y), ord(x)], the affected region, can be out of place, and the insertion is:
//   1. Search forward from y, following only nodes with ord < ub; the nodes reached form delta_f.
//      Reaching ord == ub, that is x itself, means y already reaches x: the edge would close a
//      cycle and is refused, with nothing changed.
//   2. Search backward from x, following only nodes with ord > lb; the nodes reached form delta_b.
//   3. Pool the positions held by delta_b and delta_f, sort them, and hand them out first to
//      delta_b and then to delta_f, each set keeping its internal order. Everything that reaches x
//      now precedes everything y reaches, and no node outside the two sets moves.
// Variables follow the paper's names: ord, lb, ub, delta_f, delta_b.
//
// Positions belong to slots rather than to nodes: a removed node's slot keeps its position for
// the next node to reuse it, and a new slot takes position nodes_.size(). The positions of all
// slots are therefore always exactly 0..nodes_.size()-1, and nothing is ever renumbered. A node
// without edges may sit at any position, so handing a new node a recycled one is always valid.
#include "graph/cycle_detector.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <new>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace lockgraph::detail {
namespace {

// A node's id carries slot + 1 in 32 bits, and the all-ones slot index is slot_set's empty marker.
constexpr std::size_t kMaxSlots = 0xFFFF'FFFF;
constexpr std::uint32_t kLastGeneration = 0xFFFF'FFFF;

// A search (and so a reorder) this large keeps its buffers only until it ends: a single giant
// region must not pin megabytes for the detector's lifetime, while the usual few-node searches
// reuse theirs and never allocate.
constexpr std::size_t kMaxRetainedScratch = std::size_t{1} << 16;

// delta_f / delta_b entries: sorting the keys sorts the nodes by position.
constexpr std::uint64_t ord_key(std::uint32_t ord, std::uint32_t slot) noexcept {
  return (std::uint64_t{ord} << 32) | slot;
}
constexpr std::uint32_t key_ord(std::uint64_t key) noexcept { return static_cast<std::uint32_t>(key >> 32); }
constexpr std::uint32_t key_slot(std::uint64_t key) noexcept { return static_cast<std::uint32_t>(key); }

// Sorts delta_f / delta_b keys by position, using `buffer` as scratch. Past a few dozen keys this
// sort is where a reorder spends its time. All the positions lie in the affected region [lb, ub],
// so an LSD radix sort on ord - lb needs one pass per 11 bits of ub - lb: one pass for regions of
// up to 2048 positions, two up to 4M. Its digits are split evenly across the passes, keeping the
// histograms small.
void sort_by_ord(std::vector<std::uint64_t>& keys, std::uint32_t lb, std::uint32_t ub,
                 std::vector<std::uint64_t>& buffer) {
  constexpr std::size_t kMinRadixKeys = 64;
  constexpr int kMaxDigitBits = 11;
  if (keys.size() < kMinRadixKeys) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  const int width = static_cast<int>(std::bit_width(ub - lb));
  const int passes = (width + kMaxDigitBits - 1) / kMaxDigitBits;
  const int digit_bits = (width + passes - 1) / passes;
  const std::uint32_t digit_mask = (std::uint32_t{1} << digit_bits) - 1;
  buffer.resize(keys.size());
  std::array<std::uint32_t, std::size_t{1} << kMaxDigitBits> start;
  for (int shift = 0; shift < width; shift += digit_bits) {
    const auto digit = [&](std::uint64_t key) { return ((key_ord(key) - lb) >> shift) & digit_mask; };
    std::fill_n(start.begin(), digit_mask + 1, 0);
    for (std::uint64_t key : keys) ++start[digit(key)];
    std::exclusive_scan(start.begin(), start.begin() + digit_mask + 1, start.begin(), std::uint32_t{0});
    for (std::uint64_t key : keys) buffer[start[digit(key)]++] = key;
    keys.swap(buffer);
  }
}

template <class T>
void release_if_large(std::vector<T>& v) noexcept {
  if (v.capacity() > kMaxRetainedScratch) std::vector<T>().swap(v);
}

}  // namespace

// ---- slot_set ------------------------------------------------------------------------------------

cycle_detector::slot_set::slot_set(slot_set&& other) noexcept
    : size_(other.size_), capacity_(other.capacity_) {
  if (on_heap()) {
    heap_ = other.heap_;
  } else {
    std::copy_n(other.inline_, size_, inline_);
  }
  other.size_ = 0;
  other.capacity_ = kInline;
}

std::uint32_t cycle_detector::slot_set::home(std::uint32_t v) const noexcept {
  // Fibonacci hashing. Slot indices are small, often consecutive integers (nodes created together
  // tend to be linked together); the multiply scatters them and the top bits are the best mixed.
  return (v * 0x9E37'79B9u) >> (32 - std::countr_zero(capacity_));
}

std::uint32_t cycle_detector::slot_set::probe(std::uint32_t v) const noexcept {
  const std::uint32_t mask = capacity_ - 1;
  std::uint32_t i = home(v);
  while (heap_[i] != v && heap_[i] != kEmpty) i = (i + 1) & mask;
  return i;
}

bool cycle_detector::slot_set::contains(std::uint32_t v) const noexcept {
  if (hashed()) return heap_[probe(v)] == v;
  const std::uint32_t* const begin = data();
  return std::find(begin, begin + size_, v) != begin + size_;
}

bool cycle_detector::slot_set::rebuild(std::uint32_t new_capacity) noexcept {
  std::uint32_t* fresh = nullptr;
  if (new_capacity > kInline) {
    fresh = new (std::nothrow) std::uint32_t[new_capacity];
    if (fresh == nullptr) return false;
  }
  // Take the entries out first: the inline entries and the heap pointer share their bytes.
  std::uint32_t* const old_heap = on_heap() ? heap_ : nullptr;
  std::uint32_t spilled[kInline];
  const std::uint32_t* old_begin = old_heap;
  if (old_heap == nullptr) {
    std::copy_n(inline_, size_, spilled);
    old_begin = spilled;
  }
  const std::uint32_t* const old_end = old_begin + (hashed() ? capacity_ : size_);

  capacity_ = new_capacity;
  if (fresh != nullptr) heap_ = fresh;
  if (hashed()) {
    std::fill_n(heap_, capacity_, kEmpty);
    for (const std::uint32_t* p = old_begin; p != old_end; ++p) {
      if (*p != kEmpty) heap_[probe(*p)] = *p;
    }
  } else {
    std::remove_copy(old_begin, old_end, data(), kEmpty);
  }
  delete[] old_heap;
  return true;
}

void cycle_detector::slot_set::reserve_one() {
  // Arrays fill up completely; hash tables stay at most 3/4 full so that probe sequences stay short.
  const bool full =
      hashed() ? (std::uint64_t{size_} + 1) * 4 > std::uint64_t{capacity_} * 3 : size_ == capacity_;
  if (full && !rebuild(capacity_ * 2)) throw std::bad_alloc();
}

void cycle_detector::slot_set::insert(std::uint32_t v) noexcept {
  if (hashed()) {
    heap_[probe(v)] = v;
  } else {
    data()[size_] = v;
  }
  ++size_;
}

bool cycle_detector::slot_set::erase(std::uint32_t v) noexcept {
  if (hashed()) {
    std::uint32_t hole = probe(v);
    if (heap_[hole] != v) return false;
    // Backward-shift deletion: later entries of the probe run move up into the hole unless their home
    // lies cyclically within (hole, j], so that no lookup ever stops early at a spurious empty entry
    // and no tombstones accumulate.
    const std::uint32_t mask = capacity_ - 1;
    for (std::uint32_t j = (hole + 1) & mask; heap_[j] != kEmpty; j = (j + 1) & mask) {
      if (((j - home(heap_[j])) & mask) >= ((j - hole) & mask)) {
        heap_[hole] = heap_[j];
        hole = j;
      }
    }
    heap_[hole] = kEmpty;
  } else {
    std::uint32_t* const end = data() + size_;
    std::uint32_t* const p = std::find(data(), end, v);
    if (p == end) return false;
    // Array order carries no meaning, so the last entry fills the gap.
    *p = end[-1];
  }
  --size_;
  // Shrink at 1/8 occupancy, not sooner, so that alternating inserts and erases at a size boundary
  // do not reallocate each time. Shrinking is an optimization: if it cannot allocate, the set keeps
  // its storage.
  if (size_ == 0) {
    clear();
  } else if (on_heap() && size_ <= capacity_ / 8) {
    rebuild(std::max(capacity_ / 2, kInline));
  }
  return true;
}

void cycle_detector::slot_set::clear() noexcept {
  if (on_heap()) delete[] heap_;
  size_ = 0;
  capacity_ = kInline;
}

// ---- cycle_detector ------------------------------------------------------------------------------

cycle_detector::node_id cycle_detector::new_node() {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (nodes_.size() == kMaxSlots) {
      throw std::length_error("lockgraph::detail::cycle_detector: too many nodes");
    }
    slot = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back().ord = slot;
  }
  nodes_[slot].live = true;
  ++live_count_;
  return id_of(slot);
}

void cycle_detector::remove_node(node_id n) {
  if (!valid(n)) return;
  const std::uint32_t slot = slot_of(n);
  node& dead = nodes_[slot];
  // A slot whose generation is used up is retired instead of reused: recycling it would hand out
  // an id that some stale holder may still have. Queue the slot first so that, should that
  // allocation fail, the graph is unchanged.
  if (dead.generation != kLastGeneration) free_slots_.push_back(slot);

  const auto drop_back_reference = [&](slot_set& set) noexcept {
    const std::size_t before = set.heap_bytes();
    set.erase(slot);
    adjacency_bytes_ -= before - set.heap_bytes();
  };
  for (std::uint32_t s : dead.out) drop_back_reference(nodes_[s].in);
  for (std::uint32_t s : dead.in) drop_back_reference(nodes_[s].out);
  edge_count_ -= dead.out.size() + dead.in.size();
  adjacency_bytes_ -= dead.out.heap_bytes() + dead.in.heap_bytes();
  dead.out.clear();
  dead.in.clear();

  dead.live = false;
  if (dead.generation != kLastGeneration) ++dead.generation;
  --live_count_;
}

bool cycle_detector::has_edge(node_id x, node_id y) const noexcept {
  return valid(x) && valid(y) && nodes_[slot_of(x)].out.contains(slot_of(y));
}

void cycle_detector::remove_edge(node_id x, node_id y) noexcept {
  if (valid(x) && valid(y)) unlink(slot_of(x), slot_of(y));
}

bool cycle_detector::insert_edge(node_id x, node_id y) {
  if (!valid(x) || !valid(y)) return true;
  const std::uint32_t sx = slot_of(x);
  const std::uint32_t sy = slot_of(y);
  if (sx == sy) return false;
  if (nodes_[sx].out.contains(sy)) return true;

  const std::uint32_t lb = nodes_[sy].ord;
  const std::uint32_t ub = nodes_[sx].ord;
  if (lb < ub) {
    // The edge points backward in the current order; [lb, ub] is the affected region.
    const bool acyclic = forward_search(sy, ub);
    if (acyclic) {
      backward_search(sx, lb);
      reorder(lb, ub);
    }
    release_large_scratch();
    if (!acyclic) return false;
  }
  // If link() throws, the order may have changed, but it is valid with or without x->y.
  link(sx, sy);
  return true;
}

void cycle_detector::link(std::uint32_t from, std::uint32_t to) {
  // Both sets make room before either changes, so that a failed allocation leaves no half edge.
  const auto reserve_one = [&](slot_set& set) {
    const std::size_t before = set.heap_bytes();
    set.reserve_one();
    adjacency_bytes_ += set.heap_bytes() - before;
  };
  slot_set& out = nodes_[from].out;
  slot_set& in = nodes_[to].in;
  reserve_one(out);
  reserve_one(in);
  out.insert(to);
  in.insert(from);
  ++edge_count_;
}

void cycle_detector::unlink(std::uint32_t from, std::uint32_t to) noexcept {
  slot_set& out = nodes_[from].out;
  slot_set& in = nodes_[to].in;
  const std::size_t before = out.heap_bytes() + in.heap_bytes();
  if (!out.erase(to)) return;
  in.erase(from);
  adjacency_bytes_ -= before - (out.heap_bytes() + in.heap_bytes());
  --edge_count_;
}

void cycle_detector::begin_search() const noexcept {
  if (++epoch_ == 0) {
    // After 2^32 searches the epoch wraps, and a mark left by a search that long ago would pass
    // for a current one: wipe them all, once per wrap.
    for (const node& n : nodes_) n.mark = 0;
    epoch_ = 1;
  }
}

// Steps 1 and 2 search depth-first with an explicit stack (chains can be a million nodes long). A
// node joins its delta set when first reached, while its ord is at hand. Depth-first matters for
// refused edges: the forward search dives toward x and usually meets it after a small fraction of
// the region, where a breadth-first search would sweep everything closer to y first.

// Step 1. Returns false, leaving delta_f_ incomplete, if the search reaches ub (that is x).
bool cycle_detector::forward_search(std::uint32_t from, std::uint32_t ub) {
  begin_search();
  delta_f_.clear();
  stack_.clear();
  nodes_[from].mark = epoch_;
  delta_f_.push_back(ord_key(nodes_[from].ord, from));
  stack_.push_back(from);
  while (!stack_.empty()) {
    const std::uint32_t n = stack_.back();
    stack_.pop_back();
    for (std::uint32_t w : nodes_[n].out) {
      const node& next = nodes_[w];
      if (next.ord == ub) return false;
      if (next.ord < ub && next.mark != epoch_) {
        next.mark = epoch_;
        delta_f_.push_back(ord_key(next.ord, w));
        stack_.push_back(w);
      }
    }
  }
  return true;
}

// Step 2. Cannot meet delta_f_: a node in both would put y before x on a path, which step 1 rules out.
void cycle_detector::backward_search(std::uint32_t from, std::uint32_t lb) {
  begin_search();
  delta_b_.clear();
  stack_.clear();
  nodes_[from].mark = epoch_;
  delta_b_.push_back(ord_key(nodes_[from].ord, from));
  stack_.push_back(from);
  while (!stack_.empty()) {
    const std::uint32_t n = stack_.back();
    stack_.pop_back();
    for (std::uint32_t w : nodes_[n].in) {
      const node& prev = nodes_[w];
      if (prev.ord > lb && prev.mark != epoch_) {
        prev.mark = epoch_;
        delta_b_.push_back(ord_key(prev.ord, w));
        stack_.push_back(w);
      }
    }
  }
}

// Step 3. Both sets sorted by position, their merge is the sorted pool of positions to hand out.
void cycle_detector::reorder(std::uint32_t lb, std::uint32_t ub) {
  sort_by_ord(delta_b_, lb, ub, merged_);
  sort_by_ord(delta_f_, lb, ub, merged_);
  merged_.resize(delta_b_.size() + delta_f_.size());
  std::merge(delta_b_.begin(), delta_b_.end(), delta_f_.begin(), delta_f_.end(), merged_.begin());
  auto pool = merged_.cbegin();
  for (std::uint64_t key : delta_b_) nodes_[key_slot(key)].ord = key_ord(*pool++);
  for (std::uint64_t key : delta_f_) nodes_[key_slot(key)].ord = key_ord(*pool++);
}

void cycle_detector::release_large_scratch() noexcept {
  release_if_large(stack_);
  release_if_large(delta_f_);
  release_if_large(delta_b_);
  release_if_large(merged_);
}

std::vector<cycle_detector::node_id> cycle_detector::find_path(node_id x, node_id y, std::size_t max_len,
                                                               bool* truncated) const {
  if (truncated != nullptr) *truncated = false;
  if (!valid(x) || !valid(y)) return {};
  const std::uint32_t sx = slot_of(x);
  const std::uint32_t sy = slot_of(y);

  // The path's slots, y first.
  std::vector<std::uint32_t> reversed;
  if (sx == sy) {
    reversed.push_back(sx);
  } else {
    // Every node on a path from x to y is positioned between them, so the search never leaves
    // [ord(x), ord(y)); if y precedes x there is no path at all.
    const std::uint32_t ub = nodes_[sy].ord;
    if (nodes_[sx].ord > ub) return {};
    // Breadth-first, so that the path (and the cycle a report prints) is a shortest one. Each entry
    // records the index of the entry it was reached from.
    struct visit {
      std::uint32_t slot;
      std::uint32_t parent;
    };
    std::vector<visit> queue{{sx, 0}};
    begin_search();
    nodes_[sx].mark = epoch_;
    std::size_t last = 0;  // the entry with an edge to y
    bool found = false;
    for (std::size_t head = 0; head < queue.size() && !found; ++head) {
      for (std::uint32_t w : nodes_[queue[head].slot].out) {
        if (w == sy) {
          last = head;
          found = true;
          break;
        }
        const node& next = nodes_[w];
        if (next.ord < ub && next.mark != epoch_) {
          next.mark = epoch_;
          queue.push_back({w, static_cast<std::uint32_t>(head)});
        }
      }
    }
    if (!found) return {};
    reversed.push_back(sy);
    for (std::size_t i = last;; i = queue[i].parent) {
      reversed.push_back(queue[i].slot);
      if (i == 0) break;
    }
  }

  std::size_t len = reversed.size();
  if (max_len != 0 && len > max_len) {
    len = max_len;
    if (truncated != nullptr) *truncated = true;
  }
  std::vector<node_id> path;
  path.reserve(len);
  for (auto it = reversed.crbegin(); path.size() < len; ++it) path.push_back(id_of(*it));
  return path;
}

std::size_t cycle_detector::memory_bytes() const noexcept {
  return nodes_.capacity() * sizeof(node) + adjacency_bytes_ +
         (free_slots_.capacity() + stack_.capacity()) * sizeof(std::uint32_t) +
         (delta_f_.capacity() + delta_b_.capacity() + merged_.capacity()) * sizeof(std::uint64_t);
}

bool cycle_detector::test_only_check_invariants() const {
  const std::size_t slots = nodes_.size();
  std::vector<bool> ord_taken(slots);
  std::size_t live = 0;
  std::size_t out_edges = 0;
  std::size_t in_edges = 0;
  std::size_t bytes = 0;
  // The iterators must agree with size(): a hash table that lost or duplicated an entry would not.
  const auto walk = [](const slot_set& set) {
    std::uint32_t n = 0;
    for ([[maybe_unused]] std::uint32_t entry : set) ++n;
    return n == set.size();
  };
  for (std::uint32_t s = 0; s < slots; ++s) {
    const node& a = nodes_[s];
    const std::uint32_t ord = a.ord;
    if (ord >= slots || ord_taken[ord]) return false;
    ord_taken[ord] = true;
    bytes += a.out.heap_bytes() + a.in.heap_bytes();
    if (!walk(a.out) || !walk(a.in)) return false;
    if (!a.live) {
      if (a.out.size() != 0 || a.in.size() != 0) return false;
      continue;
    }
    ++live;
    out_edges += a.out.size();
    in_edges += a.in.size();
    for (std::uint32_t t : a.out) {
      if (t >= slots || !nodes_[t].live || nodes_[t].ord <= ord || !nodes_[t].in.contains(s)) return false;
    }
    for (std::uint32_t t : a.in) {
      if (t >= slots || !nodes_[t].live || !nodes_[t].out.contains(s)) return false;
    }
  }
  std::vector<bool> freed(slots);
  for (std::uint32_t s : free_slots_) {
    if (s >= slots || nodes_[s].live || freed[s]) return false;
    freed[s] = true;
  }
  return live == live_count_ && out_edges == edge_count_ && in_edges == edge_count_ &&
         bytes == adjacency_bytes_;
}

}  // namespace lockgraph::detail
