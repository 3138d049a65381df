// lockgraph/detail/hooks.hpp: the only door from the public types into the detector.
//
// Every lockgraph primitive calls three kinds of hooks: before it may block (records lock-order edges),
// after it acquired (pushes onto the thread's held stack) and before it releases (pops). The inline
// parts below touch only thread-local state; anything rare goes to the out-of-line *_slow functions in
// detector/runtime/hooks.cpp. The tiers follow compiler-rt's deadlock detector and Linux lockdep:
//   1. the thread holds nothing                      -> no edge possible, push and go;
//   2. the held sequence plus this lock was validated -> one probe of a thread-local chain cache;
//   3. otherwise                                      -> slow path: graph update, cycle check, report.
// Nothing here allocates, takes a lock or writes a shared cache line.
#ifndef LOCKGRAPH_DETAIL_HOOKS_HPP
#define LOCKGRAPH_DETAIL_HOOKS_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>

// The door's parts, one concept each; include this header, not them.
#include "lockgraph/detail/chain_cache.hpp"    // chain hash, kChainCacheSize
#include "lockgraph/detail/config.hpp"
#include "lockgraph/detail/held_stack.hpp"     // held_entry, kInlineHeld, LOCKGRAPH_HERE
#include "lockgraph/detail/lock_meta.hpp"      // lock_meta, lock_type, site, modes
#include "lockgraph/detail/thread_record.hpp"  // thread_record, tl_record, push_held()

namespace lockgraph::detail {

// ---- out-of-line entry points (detector/runtime/hooks.cpp) ----------------------------------------
LOCKGRAPH_COLD thread_record* register_thread() noexcept;
LOCKGRAPH_COLD void before_lock_slow(thread_record* t, lock_meta& m, std::uint8_t mode) noexcept;
LOCKGRAPH_COLD void after_lock_slow(thread_record* t, lock_meta& m, std::uint8_t mode, const void* site_pc,
                                    const void* site_ret) noexcept;
// lock_slow()'s first step when the thread holds kInlineHeld locks or more: if the held chain plus `m`
// is known (validated on top of the held entry below), writes m's held entry above the top, not yet
// published, and returns the depth to publish once m is acquired. Else returns 0 having done nothing.
LOCKGRAPH_COLD std::uint32_t prepare_deep_push(thread_record* t, lock_meta& m, std::uint8_t mode, const void* site_pc,
                                               const void* site_ret) noexcept;
// Returns false when the calling thread does not hold `m` in that mode (a bad_unlock was reported):
// the caller must then leave the underlying lock alone.
LOCKGRAPH_COLD bool before_unlock_slow(thread_record* t, lock_meta& m, std::uint8_t mode) noexcept;
// The try-acquire failed: publish "this thread waits for m", check the wait-for graph for a circular
// wait, then call block(arg), which performs the blocking acquisition. May report and abort. With the
// thread's bypass raised (a report handler, a user's operator new under the detector) nothing is
// published or recorded, but a wait for a lock the thread holds itself is still a self_deadlock.
LOCKGRAPH_NOINLINE void lock_contended(lock_meta& m, std::uint8_t mode, void (*block)(void*), void* arg);
// The lock is being destroyed; `held` says whether some thread still holds it.
LOCKGRAPH_COLD void on_destroy(lock_meta& m, bool held) noexcept;
// Custom locks (lockgraph/annotate.hpp). A release that may come from a thread other than the taker:
// the caller's own hold if it has one, else another live thread's hold (in that mode) is dropped from
// that thread's stack; neither case is an error (the lock was handed over). Never reports.
LOCKGRAPH_COLD void release_any_thread(lock_meta& m, std::uint8_t shared) noexcept;
// An annotated lock is being destroyed: finds out whether some thread holds it, then on_destroy().
LOCKGRAPH_COLD void annotation_destroyed(lock_meta& m) noexcept;
// Condition variables: the mutex stops counting as held during the wait and counts again after.
// A wait that is not `timed` can only be ended by a notify: it counts for all_threads_blocked.
LOCKGRAPH_NOINLINE void cv_begin_wait(lock_meta& cv, lock_meta& mu, bool timed) noexcept;
// condition_variable_any (which calls cv_begin_wait as timed): the user's lock is released, and the
// thread is about to sleep in a wait with no time-out on `cv`.
LOCKGRAPH_NOINLINE void cv_wait_settled(lock_meta& cv) noexcept;

// Notifies of condition variables, counted in 64 shards by the condition variable's address: a waiter
// whose shard moved since its wait began may be awake, so all_threads_blocked does not count it as
// asleep (an unrelated notify in the same shard only makes that check miss, never alarm). Shards, not a
// counter in each condition variable: the checker may read one after its condition variable is gone.
struct alignas(64) notify_shard {
  std::atomic<std::uint64_t> count{0};
};
inline constexpr std::size_t kNotifyShards = 64;
extern notify_shard g_notify_shards[kNotifyShards];
LOCKGRAPH_ALWAYS_INLINE std::atomic<std::uint64_t>& notify_count_of(const lock_meta& cv) noexcept {
  return g_notify_shards[(reinterpret_cast<std::uintptr_t>(&cv) >> 6) % kNotifyShards].count;
}
LOCKGRAPH_ALWAYS_INLINE void count_notify(const lock_meta& cv) noexcept {
  notify_count_of(cv).fetch_add(1, std::memory_order_relaxed);
}
LOCKGRAPH_NOINLINE void cv_end_wait(lock_meta& cv, lock_meta& mu) noexcept;

// ---- inline fast paths -----------------------------------------------------------------------------

// Before a blocking acquisition of `m`: make sure the lock-order edges from the held locks to `m`
// are in the graph (and checked) before the thread can block.
LOCKGRAPH_ALWAYS_INLINE void before_lock(lock_meta& m, std::uint8_t mode) noexcept {
  thread_record* t = tl_record;
  if (t == nullptr) return;  // this thread never acquired anything: it holds nothing
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  if (LOCKGRAPH_PREDICT_TRUE((d == 0) | (t->bypass != 0))) return;
  if (LOCKGRAPH_PREDICT_TRUE(d <= kInlineHeld)) {
    const std::uint64_t prev = t->held[d - 1].chain;
    const std::uint64_t node = m.node.load(std::memory_order_relaxed);
    if (LOCKGRAPH_PREDICT_TRUE((prev != 0) & (node != 0))) {
      const std::uint64_t key = chain_mix(prev, node, mode);
      if (LOCKGRAPH_PREDICT_TRUE(chain_cached(t, key))) return;
    }
  }
  before_lock_slow(t, m, mode);
}

// before_lock() for lock_slow(), whose lock_fast() already probed the chain cache for this acquisition
// (or found no chain to probe): one probe per acquisition, so straight to the slow path.
LOCKGRAPH_ALWAYS_INLINE void before_lock_after_miss(lock_meta& m, std::uint8_t mode) noexcept {
  thread_record* t = tl_record;
  if (t == nullptr) return;  // this thread never acquired anything: it holds nothing
  if (LOCKGRAPH_PREDICT_FALSE((t->depth.load(std::memory_order_relaxed) == 0) | (t->bypass != 0))) return;
  before_lock_slow(t, m, mode);
}

// After `m` was acquired (blocking or not): push it on the held stack.
LOCKGRAPH_ALWAYS_INLINE void after_lock(lock_meta& m, std::uint8_t mode) noexcept {
  thread_record* t = tl_record;
  if (LOCKGRAPH_PREDICT_FALSE(t == nullptr)) t = register_thread();
  if (LOCKGRAPH_PREDICT_FALSE(t->bypass != 0)) return;  // checking off, or inside the detector
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  if (LOCKGRAPH_PREDICT_FALSE(d >= kInlineHeld)) {
    const void* here;
    LOCKGRAPH_HERE(here);
    after_lock_slow(t, m, mode, here, __builtin_return_address(0));
    return;
  }
  const std::uint64_t node = m.node.load(std::memory_order_relaxed);
  push_held(t, d, m, node, mode, chain_step(d == 0 ? 0 : t->held[d - 1].chain, d, node, mode));
}

// Before releasing `m`: pop it. Returns false if the caller must not release (bad_unlock reported).
LOCKGRAPH_ALWAYS_INLINE bool before_unlock(lock_meta& m, std::uint8_t shared) noexcept {
  thread_record* t = tl_record;
  if (LOCKGRAPH_PREDICT_TRUE(t != nullptr)) {
    if (LOCKGRAPH_PREDICT_FALSE(t->bypass != 0)) return true;
    const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
    // d - 1 wraps for d == 0 and so takes the slow path.
    if (LOCKGRAPH_PREDICT_TRUE(d - 1 < kInlineHeld)) {
      const held_entry& e = t->held[d - 1];
      if (LOCKGRAPH_PREDICT_TRUE(e.lock.load(std::memory_order_relaxed) == &m &&
                                 (e.mode.load(std::memory_order_relaxed) & mode_shared) == shared)) {
        t->depth.store(d - 1, std::memory_order_release);
        return true;
      }
    }
  }
  return before_unlock_slow(t, m, shared);
}

// Trampolines so the out-of-line blocking path can call the underlying lock without templates.
template <class Native>
void block_exclusive(void* p) {
  static_cast<Native*>(p)->lock();
}
template <class Native>
void block_shared(void* p) {
  static_cast<Native*>(p)->lock_shared();
}

// before_lock + exclusive acquisition + after_lock in one pass for the common cases: the thread record,
// depth, node and chain value are loaded or computed once, and the chain value probed in the cache is
// the one pushed. Returns false, having done nothing, when the full sequence is needed (the thread's
// first acquisition, nesting past kInlineHeld, a chain not yet computed or not in the cache).
template <class Native>
LOCKGRAPH_ALWAYS_INLINE bool lock_fast(lock_meta& m, Native& native) {
  thread_record* t = tl_record;
  if (LOCKGRAPH_PREDICT_FALSE(t == nullptr)) return false;
  if (LOCKGRAPH_PREDICT_FALSE(t->bypass != 0)) {  // checking off, inside the detector or a report handler
    // Unchecked, but a failed try goes out of line: a thread about to wait for a lock it holds itself
    // (a report handler locking a lock its thread holds) is reported there instead of hanging silently.
    if (!native.try_lock()) lock_contended(m, mode_exclusive, &block_exclusive<Native>, &native);
    return true;
  }
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  if (LOCKGRAPH_PREDICT_FALSE(d >= kInlineHeld)) return false;
  const std::uint64_t node = m.node.load(std::memory_order_relaxed);
  std::uint64_t chain;
  if (d == 0) {
    chain = chain_step(0, 0, node, mode_exclusive);
  } else {
    const std::uint64_t prev = t->held[d - 1].chain;
    if (LOCKGRAPH_PREDICT_FALSE((prev == 0) | (node == 0))) return false;
    chain = chain_mix(prev, node, mode_exclusive);
    if (LOCKGRAPH_PREDICT_FALSE(!chain_cached(t, chain))) return false;
  }
  if (LOCKGRAPH_PREDICT_FALSE(!native.try_lock())) {
    lock_contended(m, mode_exclusive, &block_exclusive<Native>, &native);
  }
  push_held(t, d, m, node, mode_exclusive, chain);
  return true;
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_HOOKS_HPP
