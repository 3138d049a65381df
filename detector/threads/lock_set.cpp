// lock_set.cpp: see lock_set.hpp.
#include "threads/lock_set.hpp"

#include <new>

namespace lockgraph::detail {

lock_set::~lock_set() { delete[] slots_; }

std::size_t lock_set::home(const void* p) const noexcept {
  // Fibonacci hashing; locks are at least 8-byte aligned, so the low bits carry nothing.
  std::uint64_t h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)) * 0x9E3779B97F4A7C15ULL;
  h ^= h >> 29;
  return static_cast<std::size_t>(h) & mask_;
}

std::size_t lock_set::find(const void* p) const noexcept {
  if (slots_ == nullptr) return 0;
  for (std::size_t i = home(p);; i = (i + 1) & mask_) {
    if (slots_[i].key == p) return i;
    if (slots_[i].key == nullptr) return mask_ + 1;
  }
}

bool lock_set::contains(const void* p) const noexcept { return find(p) < capacity(); }

bool lock_set::grow() noexcept {
  const std::size_t old_cap = capacity();
  const std::size_t cap = old_cap == 0 ? 64 : 2 * old_cap;
  slot* fresh = new (std::nothrow) slot[cap]();
  if (fresh == nullptr) return false;
  slot* old = slots_;
  slots_ = fresh;
  mask_ = cap - 1;
  for (std::size_t i = 0; i < old_cap; ++i) {
    if (old[i].key == nullptr) continue;
    std::size_t j = home(old[i].key);
    while (slots_[j].key != nullptr) j = (j + 1) & mask_;
    slots_[j] = old[i];
  }
  delete[] old;
  return true;
}

bool lock_set::insert(const void* p) noexcept {
  const std::size_t at = find(p);
  if (at < capacity()) {
    ++slots_[at].count;
    return true;
  }
  if (2 * (size_ + 1) > capacity() && !grow()) return false;  // at most half full
  std::size_t i = home(p);
  while (slots_[i].key != nullptr) i = (i + 1) & mask_;
  slots_[i] = slot{p, 1};
  ++size_;
  return true;
}

void lock_set::erase(const void* p) noexcept {
  std::size_t hole = find(p);
  if (hole >= capacity()) return;
  if (--slots_[hole].count != 0) return;
  // Backward shift: a later key of the same run moves into the hole when the hole lies between its
  // home and where it sits, so every key stays reachable from its home without tombstones.
  for (std::size_t j = (hole + 1) & mask_; slots_[j].key != nullptr; j = (j + 1) & mask_) {
    if (((j - home(slots_[j].key)) & mask_) >= ((j - hole) & mask_)) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = slot{nullptr, 0};
  --size_;
}

void lock_set::clear() noexcept {
  for (std::size_t i = 0; i < capacity(); ++i) slots_[i] = slot{nullptr, 0};
  size_ = 0;
}

}  // namespace lockgraph::detail
