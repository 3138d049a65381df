// lockgraph/detail/hooks.hpp: the only door from the public types into the detector.
//
// Every lockgraph primitive calls three kinds of hooks: before it may block (records lock-order edges),
// after it acquired (pushes onto the thread's held stack) and before it releases (pops). The inline
// parts below touch only thread-local state; anything rare goes to the out-of-line *_slow functions in
// detector/hooks.cpp. The tiers follow compiler-rt's deadlock detector and Linux lockdep:
//   1. the thread holds nothing                      -> no edge possible, push and go;
//   2. the held sequence plus this lock was validated -> one probe of a thread-local chain cache;
//   3. otherwise                                      -> slow path: graph update, cycle check, report.
// Nothing here allocates, takes a lock or writes a shared cache line.
#ifndef LOCKGRAPH_DETAIL_HOOKS_HPP
#define LOCKGRAPH_DETAIL_HOOKS_HPP

#include <atomic>
#include <cstdint>
#include <string_view>

#include "lockgraph/detail/config.hpp"

namespace lockgraph::detail {

// How a held lock was taken. Bit flags, stored in one byte per held entry.
enum : std::uint8_t {
  mode_exclusive = 0,
  mode_shared = 1,  // lock_shared(): a reader
  mode_try = 2,     // try_lock*/timed: no lock-order edge leads into it
};

enum class lock_type : std::uint8_t {
  mutex,
  timed_mutex,
  recursive_mutex,
  recursive_timed_mutex,
  shared_mutex,
  shared_timed_mutex,
  condition_variable,
};

// Where a primitive was constructed: its label when it has no name. Used as a default argument, so
// __builtin_FILE/__builtin_LINE name the caller's construction site.
struct site {
  const char* file;
  std::uint32_t line;
  static constexpr site current(const char* f = LOCKGRAPH_CALLER_FILE,
                                std::uint32_t l = LOCKGRAPH_CALLER_LINE) noexcept {
    return site{f, l};
  }
};

// Per-primitive identity, embedded in every lockgraph type (24 bytes). Trivial to construct for
// unnamed locks: the label is the construction site, kept as two words and formatted only when a
// report needs it. The graph node is taken lazily the first time the lock is nested with another.
struct lock_meta {
  // Graph node id (slot + generation), 0 until the lock first takes part in a lock-order edge.
  std::atomic<std::uint64_t> node{0};
  // Unnamed: the construction file (a string literal). Named: the interned name.
  const char* label;
  // Unnamed: the construction line. Named: 0.
  std::uint32_t line;
  lock_type type;
  std::uint8_t named;

  constexpr lock_meta(site where, lock_type t) noexcept
      : label(where.file), line(where.line), type(t), named(0) {}
  lock_meta(std::string_view name, lock_type t) noexcept;  // interns `name`
  lock_meta(const lock_meta&) = delete;
  lock_meta& operator=(const lock_meta&) = delete;
};

// One entry of a thread's held-lock stack. `lock` and `mode` are atomics because the blocking path of
// *other* threads reads them to build the wait-for graph; only the owning thread writes them.
struct held_entry {
  std::atomic<const lock_meta*> lock;
  std::atomic<std::uint64_t> node;  // lock's graph node at push time, or 0
  std::uint64_t chain;              // hash of the held sequence up to here; 0 = not computed (owner only)
  std::atomic<std::uint8_t> mode;
  // Where it was acquired: a code address inside the acquiring code and the return address of the
  // function it was inlined into; symbolized (with inline frames) only when a report needs them.
  std::atomic<const void*> site_pc;
  std::atomic<const void*> site_ret;
};

// A code address inside the caller after inlining: with lock() inlined into the user's function it
// points into that function; otherwise __builtin_return_address(0) of lock() does. Both are taken.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LOCKGRAPH_HERE(out) __asm__("leaq 0(%%rip), %0" : "=r"(out))
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define LOCKGRAPH_HERE(out) __asm__("adr %0, ." : "=r"(out))
#else
#define LOCKGRAPH_HERE(out) ((out) = nullptr)
#endif

inline constexpr std::uint32_t kInlineHeld = 48;      // deeper nesting spills to detector-owned chunks
inline constexpr std::uint32_t kChainCacheSize = 512;  // validated chains per thread (direct-mapped)

struct thread_extra;  // detector-private: wait state, overflow chunks, name, id

// The hot, thread-local part of a thread's state. Records are never freed (a finished thread's record
// is reused by a later one), so other threads may read `depth` and `held` at any time without a lock.
struct thread_record {
  std::atomic<std::uint32_t> depth{0};  // held entries in use (inline and overflow)
  std::uint32_t bypass = 0;             // != 0: pass everything through (checking off, re-entry, exit)
  thread_extra* extra = nullptr;
  held_entry held[kInlineHeld];
  std::uint64_t chain_cache[kChainCacheSize];
};

// This thread's record; null until its first lockgraph acquisition. Constant-initialised and trivially
// destructible, so reading it is one TLS load with no init guard.
inline thread_local thread_record* tl_record = nullptr;

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

// ---- out-of-line entry points (detector/hooks.cpp) ------------------------------------------------
LOCKGRAPH_COLD thread_record* register_thread() noexcept;
LOCKGRAPH_COLD void before_lock_slow(thread_record* t, lock_meta& m, std::uint8_t mode) noexcept;
LOCKGRAPH_COLD void after_lock_slow(thread_record* t, lock_meta& m, std::uint8_t mode, const void* site_pc,
                                    const void* site_ret) noexcept;
// Returns false when the calling thread does not hold `m` in that mode (a bad_unlock was reported):
// the caller must then leave the underlying lock alone.
LOCKGRAPH_COLD bool before_unlock_slow(thread_record* t, lock_meta& m, std::uint8_t mode) noexcept;
// The try-acquire failed: publish "this thread waits for m", check the wait-for graph for a circular
// wait, then call block(arg), which performs the blocking acquisition. May report and abort.
LOCKGRAPH_NOINLINE void lock_contended(lock_meta& m, std::uint8_t mode, void (*block)(void*), void* arg);
// The lock is being destroyed; `held` says whether some thread still holds it.
LOCKGRAPH_COLD void on_destroy(lock_meta& m, bool held) noexcept;
// Condition variables: the mutex stops counting as held during the wait and counts again after.
LOCKGRAPH_NOINLINE void cv_begin_wait(lock_meta& cv, lock_meta& mu) noexcept;
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
      if (LOCKGRAPH_PREDICT_TRUE(t->chain_cache[key & (kChainCacheSize - 1)] == key)) return;
    }
  }
  before_lock_slow(t, m, mode);
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
  if (LOCKGRAPH_PREDICT_FALSE(t->bypass != 0)) {  // checking off, or the detector's own locking
    native.lock();
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
    if (LOCKGRAPH_PREDICT_FALSE(t->chain_cache[chain & (kChainCacheSize - 1)] != chain)) return false;
  }
  if (LOCKGRAPH_PREDICT_FALSE(!native.try_lock())) {
    lock_contended(m, mode_exclusive, &block_exclusive<Native>, &native);
  }
  push_held(t, d, m, node, mode_exclusive, chain);
  return true;
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_HOOKS_HPP
