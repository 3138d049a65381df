// The thread-local chain hash (lockdep's chain cache key): a validated chain must never stand for
// another sequence of the same locks, or an inversion would hit the cache and go unchecked.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "lockgraph/detail/hooks.hpp"

namespace {

using lockgraph::detail::chain_mix;
using lockgraph::detail::chain_step;

std::uint64_t chain_of(const std::vector<std::uint64_t>& nodes, std::uint8_t mode = 0) {
  std::uint64_t c = 0;
  for (std::uint32_t i = 0; i < nodes.size(); ++i) c = chain_step(c, i, nodes[i], mode);
  return c;
}

TEST(ChainHash, OrderMatters) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t a = rng() >> 8 | 1, b = rng() >> 8 | 1, c = rng() >> 8 | 1;
    if (a == b) continue;
    // Held {a}, acquiring b  vs  held {b}, acquiring a.
    ASSERT_NE(chain_mix(chain_of({a}), b, 0), chain_mix(chain_of({b}), a, 0));
    // Held {a, b}, acquiring c  vs  held {b, a}, acquiring c.
    ASSERT_NE(chain_mix(chain_of({a, b}), c, 0), chain_mix(chain_of({b, a}), c, 0));
  }
}

TEST(ChainHash, ModeMatters) {
  EXPECT_NE(chain_of({5, 9}, 0), chain_of({5, 9}, 1));
  EXPECT_NE(chain_mix(chain_of({5}), 9, 0), chain_mix(chain_of({5}), 9, 1));
}

TEST(ChainHash, UnknownNodeMakesTheChainUnknownAndKnownChainsAreNeverZero) {
  EXPECT_EQ(chain_step(0, 0, 0, 0), 0u);
  EXPECT_EQ(chain_step(0, 1, 7, 0), 0u);  // the entry below had no chain
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) ASSERT_NE(chain_mix(rng(), rng() | 1, 0), 0u);
}

TEST(ChainHash, FewCollisionsAmongSmallIds) {
  // Node ids are (generation << 32) | slot: small slots, generation 1. All ordered pairs of 300 locks.
  std::set<std::uint64_t> keys;
  std::size_t pairs = 0;
  for (std::uint64_t a = 1; a <= 300; ++a) {
    for (std::uint64_t b = 1; b <= 300; ++b) {
      if (a == b) continue;
      ++pairs;
      keys.insert(chain_mix(chain_of({(1ULL << 32) | a}), (1ULL << 32) | b, 0));
    }
  }
  EXPECT_EQ(keys.size(), pairs);
}

}  // namespace
