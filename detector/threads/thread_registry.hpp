// thread_registry: every thread that ever used a lockgraph primitive, its held stack and what it waits on.
//
// Each thread owns one thread_slot: the hot thread_record (include/lockgraph/detail/hooks.hpp) plus
// the thread_extra below. Slots are never freed: a finished thread's slot is reused by a later thread,
// so any thread may walk the registry and read another thread's held stack and wait state at any time
// without a lock and without use-after-free. Those reads are racy snapshots; the wait-for graph
// (wait_for_graph.cpp) confirms what it finds with a second pass before it reports anything.
//
// Layer: threads/ (see docs/DESIGN.md). Includes only the public detail headers and base/.
#ifndef LOCKGRAPH_DETECTOR_THREAD_REGISTRY_HPP
#define LOCKGRAPH_DETECTOR_THREAD_REGISTRY_HPP

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "lockgraph/detail/hooks.hpp"
#include "lockgraph/report.hpp"
#include "threads/lock_set.hpp"

namespace lockgraph::detail {

// Held entries past kInlineHeld live in chunks that are appended on demand and kept for the slot's
// lifetime, so a reader following `next` never sees freed memory.
struct held_chunk {
  static constexpr std::uint32_t kSize = 64;
  held_entry entries[kSize];
  std::atomic<held_chunk*> next{nullptr};
  // Owner only: for each entry, the chain value last validated on top of it (0: none), so a deep
  // nesting repeated in the same order finds each step known in O(1) (hooks.cpp, before_lock_slow).
  std::uint64_t validated_above[kSize] = {};
};

enum class wait_kind : std::uint8_t { none, lock, condition };

struct thread_extra {
  // ---- identity (written by the owner; name guarded by name_mu) ----
  // Atomic: a snapshot (wait_for_dot(), a report) may describe a slot while its new owner registers.
  std::atomic<std::uint64_t> number{0};  // lockgraph's thread number: 0 = main thread, then 1, 2, ...
  std::atomic<pid_t> os_tid{0};
  mutable std::mutex name_mu;
  std::string name;  // set_thread_name(); empty = use the kernel's thread name
  // The kernel's name (/proc/self/task/<tid>/comm), re-read at most every 100 ms: new edges describe
  // their thread, and reading /proc each time would cost microseconds per edge.
  mutable std::string kernel_name;
  mutable std::int64_t kernel_name_read_ns = 0;

  // ---- wait state: written by the owner, read by any thread ----
  // wait_seq is odd while the thread is blocked in a lockgraph primitive and changes on every wait, so
  // a reader that sees the same odd value twice knows the thread was blocked in one wait throughout.
  std::atomic<std::uint64_t> wait_seq{0};
  std::atomic<const lock_meta*> waits_on{nullptr};   // the lock, or the condition variable
  std::atomic<const lock_meta*> wait_mutex{nullptr}; // for a condition wait: its mutex
  std::atomic<std::uint8_t> wait_mode{0};
  std::atomic<wait_kind> wait_type{wait_kind::none};
  std::atomic<std::int64_t> wait_since_ns{0};        // steady clock
  std::atomic<std::uint64_t> long_wait_reported{0};  // the wait_seq last reported as a long wait
  // Where the thread blocked, captured when someone may ask (it holds locks, or a watcher is on).
  mutable std::mutex wait_stack_mu;
  stack_trace wait_stack;
  std::uint64_t wait_stack_seq = 0;  // the wait_seq of the wait it belongs to
  // all_threads_blocked (all_blocked.cpp): set (within one wait) when only another thread can end the
  // wait: a lock wait, or a condition wait with no time-out; for a condition wait, the condition
  // variable's notify count and its value when the wait began.
  std::atomic<bool> wait_counted{false};
  std::atomic<const std::atomic<std::uint64_t>*> wait_notifies{nullptr};
  std::atomic<std::uint64_t> wait_notifies_seen{0};

  // ---- held stack overflow (entries >= kInlineHeld) ----
  std::atomic<held_chunk*> overflow{nullptr};
  // The owner's cursor into the chunk list (the chunk holding overflow index `cursor_base`), so deep
  // nesting, which pushes and pops next to it, finds its entries in O(1). Owner thread only.
  held_chunk* cursor = nullptr;
  std::uint32_t cursor_base = 0;
  // Odd while the owner moves entries of its held stack (erase_entry in hooks.cpp): a thread releasing
  // a lock this thread holds (an annotated lock handed over) rescans when it changed.
  std::atomic<std::uint32_t> held_seq{0};
  // Entries other threads turned into tombstones since the owner last purged them (an upper bound):
  // the owner's slow paths scan for tombstones only when it is not 0, so deep nesting stays O(1).
  std::atomic<std::uint32_t> tombstones{0};
  // held_chunk::validated_above of inline entry kInlineHeld - 1, the first top past the fast path.
  std::uint64_t validated_above_inline = 0;
  // The locks of overflow entries [kInlineHeld, deep_upto), filled only when a deep acquisition misses
  // its chain (for its self-deadlock check) and emptied as those entries are popped. Owner only.
  lock_set deep_held;
  std::uint32_t deep_upto = kInlineHeld;
  std::uint64_t self_check_walked = 0;  // held entries walked by self-deadlock checks (tests read it)

  std::atomic<bool> in_use{false};
};

struct thread_slot {
  thread_record rec;
  thread_extra extra;
  std::atomic<thread_slot*> next{nullptr};  // registry list; immutable once published
};

inline thread_slot* slot_of(thread_record* r) noexcept {
  return reinterpret_cast<thread_slot*>(reinterpret_cast<char*>(r) - offsetof(thread_slot, rec));
}

// The tombstone that replaces a lock in another thread's held stack when that lock is destroyed while
// held there: never dereferenced for anything but this placeholder, never matched, never reported.
extern lock_meta destroyed_lock;

// Entry i of a thread's held stack (inline or in an overflow chunk). With `grow`, missing chunks are
// appended (owner thread only); without, returns nullptr past the last chunk.
held_entry* held_at(thread_record* t, std::uint32_t i, bool grow = false) noexcept;

// held_at() for the thread that owns `t`: O(1) next to its last access (deep nesting pushes and pops
// one entry at a time), where held_at() walks the chunk list from the start. Inline for that case;
// moving the cursor to another chunk goes out of line.
held_entry* own_held_at_moving(thread_record* t, std::uint32_t i, bool grow) noexcept;
LOCKGRAPH_ALWAYS_INLINE held_entry* own_held_at(thread_record* t, std::uint32_t i, bool grow = false) noexcept {
  if (i < kInlineHeld) return &t->held[i];
  const thread_extra& x = *t->extra;
  const std::uint32_t k = i - kInlineHeld - x.cursor_base;  // wraps below the cursor's chunk
  if (LOCKGRAPH_PREDICT_TRUE(x.cursor != nullptr && k < held_chunk::kSize)) return &x.cursor->entries[k];
  return own_held_at_moving(t, i, grow);
}

// The owner's held_chunk::validated_above of its entry i (kInlineHeld - 1 <= i < depth).
LOCKGRAPH_ALWAYS_INLINE std::uint64_t& own_validated_above(thread_record* t, std::uint32_t i) noexcept {
  thread_extra& x = *t->extra;
  if (i < kInlineHeld) return x.validated_above_inline;
  own_held_at(t, i);  // moves the cursor to i's chunk
  return x.cursor->validated_above[i - kInlineHeld - x.cursor_base];
}

// Takes a free slot (or appends a new one) for the calling thread. Thread-safe, lock-free.
thread_slot* acquire_slot() noexcept;
// Returns the calling thread's slot to the free list. Owner only.
void release_slot(thread_slot* s) noexcept;
// First slot of the registry (follow ->next). Slots not in_use are free.
thread_slot* first_slot() noexcept;
// Slots in use right now (threads registered and not yet exited).
std::size_t live_thread_count() noexcept;

// lockgraph's own threads (watchdog, signal dumper, all-blocked checker) note themselves here, so that
// counting the process's threads can leave them out. Forgotten in a fork() child (they are gone).
void note_internal_thread() noexcept;
// Starts fn(arg) on a detached thread of lockgraph's own (noted with note_internal_thread() before fn
// runs) and returns once fn runs, or after a second at most; false if no thread could be started.
// Why wait: a program may fork() right after its first lock, which is when lockgraph starts its
// threads. A thread still starting up is inside its runtime's start-up code, which allocates (glibc
// reads the thread's attributes; a sanitizer sets up its thread state), and AddressSanitizer's
// allocator (clang 14) is not locked around fork(): a child forked at that moment inherits it locked,
// and every thread the child starts then hangs before it runs (the forked child's dump signal did so).
// Once fn runs, the thread sleeps in fn's wait until it has something to do.
bool start_internal_thread(void (*fn)(void*), void* arg) noexcept;
bool is_internal_thread(pid_t tid) noexcept;
void forget_internal_threads_after_fork() noexcept;

// lockgraph's number for a newly registered thread: 0 for the main thread, then 1, 2, ...
std::uint64_t next_thread_number(bool is_main) noexcept;

// The thread's number and name as reports show them: the name given to set_thread_name(), else the
// kernel's thread name when it differs from the process name, else "main" for the main thread.
// Thread-safe.
thread_ref describe(const thread_slot& s);

// Calls f(thread_slot&) for every slot in use by a live thread, newest first. Lock-free; a thread that
// registers meanwhile may be missed, one that exits meanwhile may still be visited (its slot is never
// freed, so that is safe; what it reads is a racy snapshot).
template <class F>
void for_each_live_thread(F&& f) {
  for (thread_slot* s = first_slot(); s != nullptr; s = s->next.load(std::memory_order_acquire)) {
    if (s->extra.in_use.load(std::memory_order_acquire)) f(*s);
  }
}

// The first live thread for which pred(thread_slot&) is true, or nullptr.
template <class P>
thread_slot* find_live_thread(P&& pred) {
  for (thread_slot* s = first_slot(); s != nullptr; s = s->next.load(std::memory_order_acquire)) {
    if (s->extra.in_use.load(std::memory_order_acquire) && pred(*s)) return s;
  }
  return nullptr;
}

// A thread's wait state as read at one moment: what it is blocked on, how, since when, and in which
// wait (`seq`, odd while blocked).
struct waiting_thread {
  thread_slot* slot = nullptr;
  std::uint64_t seq = 0;
  const lock_meta* waits_on = nullptr;
  wait_kind kind = wait_kind::none;
  std::uint8_t mode = 0;
  std::int64_t since_ns = 0;
};

// Reads s's wait state into *out. True if s is blocked in a lockgraph primitive (odd seq, something
// waited on). Any thread; a racy snapshot: re-read s->extra.wait_seq to know it is still that wait.
bool read_wait(thread_slot* s, waiting_thread* out) noexcept;

// The locks `t` holds, bottom first, labelled, with where each was acquired. Reads another thread's
// stack only when that thread is blocked or gone (the caller's responsibility); otherwise `t` must be
// the calling thread.
std::vector<held_lock> held_locks(thread_record* t);

// True if `t` holds `m` (any mode). Racy snapshot for another thread.
bool holds_lock(thread_record* t, const lock_meta* m) noexcept;

std::int64_t steady_now_ns() noexcept;

// After fork(): every slot but the caller's belongs to a thread that no longer exists.
void drop_other_threads_after_fork(thread_slot* self) noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_THREAD_REGISTRY_HPP
