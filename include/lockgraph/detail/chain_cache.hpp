// lockgraph/detail/chain_cache.hpp: the lockdep-style chain hash of a held sequence and the size
// of the per-thread cache of validated chains. Part of hooks.hpp.
#ifndef LOCKGRAPH_DETAIL_CHAIN_CACHE_HPP
#define LOCKGRAPH_DETAIL_CHAIN_CACHE_HPP

#include <atomic>
#include <cstdint>

#include "lockgraph/detail/config.hpp"

namespace lockgraph::detail {

inline constexpr std::uint32_t kChainCacheSize = 512;  // validated chains per thread (direct-mapped)

// Bumped (rarely) when the graph forgets a rejected edge: chains validated before may then hide a new
// cycle. A thread's cache is valid only while its `chain_epoch` equals this; the nested fast path
// compares the two (one relaxed load of a read-mostly line) and the slow path clears a stale cache.
inline std::atomic<std::uint32_t> g_chain_epoch{0};

// A lockdep-style chain hash step. Order-sensitive ("A then B" must differ from "B then A": the
// previous value is scrambled before the new lock is folded in). Never returns 0 ("not computed").
LOCKGRAPH_ALWAYS_INLINE std::uint64_t chain_mix(std::uint64_t prev, std::uint64_t node, std::uint8_t mode) noexcept {
  std::uint64_t x = (prev * 0x9E3779B97F4A7C15ULL) ^ ((node << 2) | mode);
  x *= 0xC2B2AE3D27D4EB4FULL;
  x ^= x >> 31;
  return x | (x == 0);
}

// The chain value of the held entry at `depth` for a lock with graph node `node` (0 = none yet) taken
// in `mode`, given the chain below it. At depth 0 no hashing is needed: the node and mode say it all.
LOCKGRAPH_ALWAYS_INLINE std::uint64_t chain_step(std::uint64_t below, std::uint32_t depth, std::uint64_t node,
                                                 std::uint8_t mode) noexcept {
  if (node == 0) return 0;
  if (depth == 0) return (node << 2) | mode;
  return below != 0 ? chain_mix(below, node, mode) : 0;
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_CHAIN_CACHE_HPP
