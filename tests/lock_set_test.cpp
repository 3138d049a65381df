// tests/lock_set_test.cpp: the owner-only multiset of lock addresses behind the deep self-deadlock
// check (detector/threads/lock_set.hpp).
#include "threads/lock_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace {

using lockgraph::detail::lock_set;

// Distinct, 8-byte aligned addresses like those of locks.
const void* key(std::size_t i) { return reinterpret_cast<const void*>(std::uintptr_t{0x10000} + 8 * i); }

TEST(LockSet, CountsEachAddressAndForgetsItWithItsLastOccurrence) {
  lock_set s;
  EXPECT_FALSE(s.contains(key(1)));
  ASSERT_TRUE(s.insert(key(1)));
  ASSERT_TRUE(s.insert(key(1)));
  ASSERT_TRUE(s.insert(key(2)));
  EXPECT_EQ(s.size(), 2u);
  s.erase(key(1));
  EXPECT_TRUE(s.contains(key(1)));  // held twice (a recursive read), released once
  s.erase(key(1));
  EXPECT_FALSE(s.contains(key(1)));
  EXPECT_TRUE(s.contains(key(2)));
  s.erase(key(3));  // absent: nothing
  EXPECT_EQ(s.size(), 1u);
  s.clear();
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.contains(key(2)));
}

// Random inserts and erases against std::map: every key stays findable through growth and the
// backward-shift removals, and the table stays within 4 slots per key at its peak.
TEST(LockSet, AgreesWithAReferenceMultisetUnderRandomUse) {
  lock_set s;
  std::map<const void*, int> ref;
  std::mt19937 rng(7);
  std::size_t peak = 0;
  for (int step = 0; step < 200000; ++step) {
    const void* k = key(rng() % 3000);
    if (rng() % 3 != 0) {
      ASSERT_TRUE(s.insert(k));
      ++ref[k];
    } else {
      s.erase(k);
      if (auto it = ref.find(k); it != ref.end() && --it->second == 0) ref.erase(it);
    }
    peak = std::max(peak, ref.size());
    if (step % 997 == 0) {
      for (std::size_t i = 0; i < 3000; ++i) ASSERT_EQ(s.contains(key(i)), ref.count(key(i)) == 1) << i;
    }
  }
  EXPECT_EQ(s.size(), ref.size());
  EXPECT_LE(s.capacity(), 4 * peak);
}

}  // namespace
