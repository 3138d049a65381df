// lockgraph/detail/thread_record.hpp: the hot, thread-local part of a thread's state (held stack
// and chain cache) and the one write that pushes a held entry. Part of hooks.hpp.
#ifndef LOCKGRAPH_DETAIL_THREAD_RECORD_HPP
#define LOCKGRAPH_DETAIL_THREAD_RECORD_HPP

#include <atomic>
#include <cstdint>

#include "lockgraph/detail/chain_cache.hpp"
#include "lockgraph/detail/config.hpp"
#include "lockgraph/detail/held_stack.hpp"
#include "lockgraph/detail/lock_meta.hpp"

namespace lockgraph::detail {

struct thread_extra;  // detector-private: wait state, overflow chunks, name, id

// The hot, thread-local part of a thread's state. Records are never freed (a finished thread's record
// is reused by a later one), so other threads may read `depth` and `held` at any time without a lock.
struct thread_record {
  std::atomic<std::uint32_t> depth{0};  // held entries in use (inline and overflow)
  std::uint32_t bypass = 0;             // != 0: pass everything through (checking off, re-entry, exit)
  std::uint32_t chain_epoch = 0;        // g_chain_epoch when chain_cache was last known valid
  thread_extra* extra = nullptr;
  held_entry held[kInlineHeld];
  std::uint64_t chain_cache[kChainCacheSize];
};

// This thread's record; null until its first lockgraph acquisition. Constant-initialised and trivially
// destructible, so reading it is one TLS load with no init guard.
inline thread_local thread_record* tl_record = nullptr;

// True if the chain value `key` (never 0) was validated by this thread under the current epoch.
LOCKGRAPH_ALWAYS_INLINE bool chain_cached(const thread_record* t, std::uint64_t key) noexcept {
  return (t->chain_cache[key & (kChainCacheSize - 1)] == key) &
         (t->chain_epoch == g_chain_epoch.load(std::memory_order_relaxed));
}

// Writes inline entry `d` (< kInlineHeld) for `m` and publishes it. Inlined into the acquiring code, so
// the site it records is that code's.
LOCKGRAPH_ALWAYS_INLINE void push_held(thread_record* t, std::uint32_t d, lock_meta& m, std::uint64_t node,
                                       std::uint8_t mode, std::uint64_t chain) noexcept {
  const void* here;
  LOCKGRAPH_HERE(here);
  held_entry& e = t->held[d];
  e.lock.store(&m, std::memory_order_relaxed);
  e.node.store(node, std::memory_order_relaxed);
  e.mode.store(mode, std::memory_order_relaxed);
  e.site_pc.store(here, std::memory_order_relaxed);
  e.site_ret.store(__builtin_return_address(0), std::memory_order_relaxed);
  e.chain = chain;
  t->depth.store(d + 1, std::memory_order_release);
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_THREAD_RECORD_HPP
