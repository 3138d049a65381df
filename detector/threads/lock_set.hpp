// lock_set: a small multiset of lock addresses, owned by one thread.
//
// hooks.cpp keeps one per thread for the held entries past the inline stack, so that the
// self-deadlock check of a deep acquisition ("does this thread hold m already?") is one probe instead
// of a walk over every held lock. It is a filter: a miss proves the lock is not among the entries
// added; a hit (or a set that could not grow) sends the caller to the exact walk.
//
// Not thread-safe: only the owning thread touches it. Open addressing with linear probing, at most
// half full, removal by backward shift (no tombstones): insert, erase and contains are O(1) expected.
// Memory is proportional to the most keys it ever held (16 B per slot, at most 4 slots per key), kept
// until destruction.
//
// Layer: threads/ (see docs/DESIGN.md).
#ifndef LOCKGRAPH_DETECTOR_THREADS_LOCK_SET_HPP
#define LOCKGRAPH_DETECTOR_THREADS_LOCK_SET_HPP

#include <cstddef>
#include <cstdint>

namespace lockgraph::detail {

class lock_set {
 public:
  lock_set() = default;
  ~lock_set();
  lock_set(const lock_set&) = delete;
  lock_set& operator=(const lock_set&) = delete;

  // Adds one occurrence of `p` (not null). False when the table could not grow (out of memory): `p`
  // is then not in the set.
  bool insert(const void* p) noexcept;
  // Removes one occurrence of `p`; nothing if it has none.
  void erase(const void* p) noexcept;
  bool contains(const void* p) const noexcept;
  // Removes everything; keeps the table.
  void clear() noexcept;
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }  // distinct keys
  std::size_t capacity() const noexcept { return slots_ == nullptr ? 0 : mask_ + 1; }

 private:
  struct slot {
    const void* key;
    std::size_t count;
  };
  std::size_t home(const void* p) const noexcept;
  std::size_t find(const void* p) const noexcept;  // its index, or capacity() when absent
  bool grow() noexcept;

  slot* slots_ = nullptr;
  std::size_t mask_ = 0;  // capacity - 1
  std::size_t size_ = 0;
};

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_THREADS_LOCK_SET_HPP
