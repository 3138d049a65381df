// hooks.cpp: the out-of-line halves of the hooks in include/lockgraph/detail/hooks.hpp.
//
// Every function here runs on the thread that called the lockgraph primitive and, unless noted, touches
// only that thread's own record plus the thread-safe graph and sink. While one runs, the thread's
// `bypass` count is raised, so lockgraph primitives used underneath (a user's operator new, the report
// handler) pass straight through instead of recursing into the detector.
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "base/stack_trace.hpp"
#include "runtime/edge_recorder.hpp"
#include "runtime/runtime.hpp"
#include "threads/all_blocked.hpp"
#include "threads/misuse.hpp"
#include "threads/wait_for_graph.hpp"

namespace lockgraph::detail {
namespace {

// The record of every thread while checking is off, and of a thread after its exit cleanup ran (its
// thread_local destructors may still lock things). Never written: bypass != 0 sends every hook to a
// slow path that returns at once.
thread_record g_passthrough{{0}, /*bypass=*/1, /*chain_epoch=*/0, nullptr, {}, {}};

struct bypass_scope {
  explicit bypass_scope(thread_record* t) noexcept : t_(t) { ++t_->bypass; }
  ~bypass_scope() { --t_->bypass; }
  bypass_scope(const bypass_scope&) = delete;
  bypass_scope& operator=(const bypass_scope&) = delete;
  thread_record* t_;
};

// Unregisters the thread at exit, reporting the locks it still holds.
//
// Not the main thread's: exit() runs the calling thread's thread_local destructors *before* the atexit
// handlers and the static destructors, and those lock things too (a deadlock at shutdown is a deadlock
// like any other). The main thread keeps its slot, checked, until the process ends; the exit check
// (runtime.cpp, lockgraph_process_exit) then reports what it still holds. If the main thread calls
// pthread_exit() instead, its slot stays in use and its locks count as held by it to the end.
struct exit_guard {
  thread_slot* slot = nullptr;
  ~exit_guard() {
    if (slot == nullptr) return;
    if (is_main_thread()) {
      note_process_exiting();
      return;
    }
    thread_record* t = &slot->rec;
    if (t->depth.load(std::memory_order_relaxed) != 0) {
      bypass_scope b(t);
      problem p;
      if (unreleased_at_thread_exit(slot, &p)) rt().sink.raise(p);
    }
    tl_record = &g_passthrough;
    release_slot(slot);
    thread_left();  // the threads left may all be blocked now
  }
};
thread_local exit_guard t_exit_guard;

// Recomputes the chain hashes of entries [from, depth), giving every entry a graph node on the way.
void rechain(thread_record* t, std::uint32_t from, lock_order_graph& graph) {
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  std::uint64_t prev = from == 0 ? 0 : own_held_at(t, from - 1)->chain;
  for (std::uint32_t i = from; i < d; ++i) {
    held_entry* e = own_held_at(t, i);
    std::uint64_t node = e->node.load(std::memory_order_relaxed);
    const lock_meta* m = e->lock.load(std::memory_order_relaxed);
    if (node == 0 && m != &destroyed_lock) {
      // The lock is alive: this thread holds it.
      node = graph.node_of(*const_cast<lock_meta*>(m));
      e->node.store(node, std::memory_order_relaxed);
    }
    prev = chain_step(prev, i, node, e->mode.load(std::memory_order_relaxed));
    e->chain = prev;
  }
}

// Entries from i up are about to be popped or moved: the overflow ones among them leave deep_held.
LOCKGRAPH_NOINLINE void forget_deep_from_slow(thread_record* t, std::uint32_t from) noexcept {
  thread_extra& x = *t->extra;
  for (std::uint32_t j = from; j < x.deep_upto; ++j) {
    x.deep_held.erase(own_held_at(t, j)->lock.load(std::memory_order_relaxed));
  }
  x.deep_upto = from;
  // What is left belonged to entries another thread turned into tombstones (it destroyed their lock).
  if (from == kInlineHeld && !x.deep_held.empty()) x.deep_held.clear();
}
LOCKGRAPH_ALWAYS_INLINE void forget_deep_from(thread_record* t, std::uint32_t i) noexcept {
  const std::uint32_t from = i > kInlineHeld ? i : kInlineHeld;
  if (LOCKGRAPH_PREDICT_FALSE(t->extra->deep_upto > from)) forget_deep_from_slow(t, from);
}

// False if the thread certainly does not hold `m` in an overflow entry (index kInlineHeld .. d - 1);
// true if it may (the caller then walks them). Adds the entries pushed since the last call to
// deep_held first: each entry is added once and removed once, so a deep acquisition's self-deadlock
// check is O(1) amortised instead of a walk over the whole stack.
bool deep_may_hold(thread_record* t, const lock_meta& m, std::uint32_t d) noexcept {
  thread_extra& x = *t->extra;
  for (; x.deep_upto < d; ++x.deep_upto) {
    if (!x.deep_held.insert(own_held_at(t, x.deep_upto)->lock.load(std::memory_order_relaxed))) {
      x.deep_held.clear();  // out of memory: no set, walk them all
      x.deep_upto = kInlineHeld;
      return true;
    }
  }
  return x.deep_held.contains(&m);
}

// The thread's validated chains are from an older g_chain_epoch: forget them.
void forget_validated_chains(thread_record* t) noexcept {
  for (std::uint64_t& c : t->chain_cache) c = 0;
  thread_extra& x = *t->extra;
  x.validated_above_inline = 0;
  for (held_chunk* c = x.overflow.load(std::memory_order_relaxed); c != nullptr;
       c = c->next.load(std::memory_order_relaxed)) {
    for (std::uint64_t& v : c->validated_above) v = 0;
  }
}

// Past the inline stack (d >= kInlineHeld held), the chain value of acquiring `m` in `mode` on top of
// them if that chain was the one last validated there (see remember_validated()), else 0: a deep
// nesting repeats itself, so a known chain costs one compare whatever the depth. `*node` is the
// lock's node the chain was computed from (read once: forget() may reset it meanwhile).
LOCKGRAPH_ALWAYS_INLINE std::uint64_t deep_chain_if_validated(thread_record* t, std::uint32_t d, const lock_meta& m,
                                                              std::uint8_t mode, std::uint32_t epoch,
                                                              std::uint64_t* node) noexcept {
  if (d < kInlineHeld || t->chain_epoch != epoch) return 0;
  const std::uint64_t below = own_held_at(t, d - 1)->chain;
  *node = m.node.load(std::memory_order_relaxed);
  if (below == 0 || *node == 0) return 0;
  const std::uint64_t key = chain_mix(below, *node, mode);
  return own_validated_above(t, d - 1) == key ? key : 0;
}

// Remembers that the held chain plus the lock acquired at depth d (chain value `key`) is validated:
// in the thread's chain cache where the fast path probes it (d <= kInlineHeld), and past that on the
// held entry below, where before_lock_slow() finds it without hashing into a table that a deep
// nesting's thousand chains would overflow.
void remember_validated(thread_record* t, std::uint32_t d, std::uint64_t key) noexcept {
  if (d <= kInlineHeld) t->chain_cache[key & (kChainCacheSize - 1)] = key;
  if (d >= kInlineHeld) own_validated_above(t, d - 1) = key;
}

// Removes entry i from the held stack, keeping the order of the others.
// Another thread may turn one of this thread's entries into a tombstone meanwhile (release_any_thread
// below): each entry's lock is taken out of its old place with an exchange, so such a change lands
// either before the move (and moves with it) or fails (and that thread looks again: held_seq is odd).
void erase_entry(thread_record* t, std::uint32_t i, lock_order_graph* graph) {
  forget_deep_from(t, i);
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  if (i + 1 == d) {  // the top (every unlock nested past kInlineHeld): nothing moves
    t->depth.store(d - 1, std::memory_order_release);
    return;
  }
  std::atomic<std::uint32_t>& seq = t->extra->held_seq;
  seq.fetch_add(1, std::memory_order_acq_rel);  // odd: entries moving
  for (std::uint32_t j = i; j + 1 < d; ++j) {
    held_entry* dst = own_held_at(t, j);
    held_entry* src = own_held_at(t, j + 1);
    dst->lock.store(src->lock.exchange(&destroyed_lock, std::memory_order_acq_rel), std::memory_order_release);
    dst->node.store(src->node.load(std::memory_order_relaxed), std::memory_order_relaxed);
    dst->mode.store(src->mode.load(std::memory_order_relaxed), std::memory_order_relaxed);
    dst->site_pc.store(src->site_pc.load(std::memory_order_relaxed), std::memory_order_relaxed);
    dst->site_ret.store(src->site_ret.load(std::memory_order_relaxed), std::memory_order_relaxed);
    dst->chain = src->chain;
  }
  t->depth.store(d - 1, std::memory_order_release);
  seq.fetch_add(1, std::memory_order_release);  // even: settled
  if (graph != nullptr) {
    rechain(t, i, *graph);
  } else {
    for (std::uint32_t j = i; j + 1 < d; ++j) own_held_at(t, j)->chain = 0;  // recomputed on next miss
  }
}

// Index of the topmost entry for `m` whose shared bit equals `shared`, or -1.
long find_entry(thread_record* t, const lock_meta& m, std::uint8_t shared) {
  for (std::uint32_t i = t->depth.load(std::memory_order_relaxed); i-- > 0;) {
    const held_entry* e = own_held_at(t, i);
    if (e->lock.load(std::memory_order_relaxed) == &m &&
        (e->mode.load(std::memory_order_relaxed) & mode_shared) == shared) {
      return static_cast<long>(i);
    }
  }
  return -1;
}

// Drops the tombstones (entries of locks destroyed, or released by another thread, while this thread
// held them) from the thread's own held stack, so a thread whose locks are handed over again and again
// does not grow its stack. Returns the new depth.
std::uint32_t purge_tombstones(thread_record* t) {
  // One relaxed load when there are none (every slow path, and every acquisition nested past 48, asks).
  // Tombstones made after the exchange count again for the next purge.
  std::atomic<std::uint32_t>& made = t->extra->tombstones;
  if (made.load(std::memory_order_relaxed) == 0 || made.exchange(0, std::memory_order_acq_rel) == 0) {
    return t->depth.load(std::memory_order_relaxed);
  }
  for (std::uint32_t i = t->depth.load(std::memory_order_relaxed); i-- > 0;) {
    if (own_held_at(t, i)->lock.load(std::memory_order_acquire) == &destroyed_lock) erase_entry(t, i, nullptr);
  }
  return t->depth.load(std::memory_order_relaxed);
}

// Records where the thread is about to block, for deadlock and long-wait reports. Costs a stack walk,
// so only when the answer can matter: the thread holds locks (it may be part of a circular wait) or a
// long-wait watcher / dump signal may ask.
// `own` is how many held locks belong to the wait itself (a condition wait holds its mutex).
// Call before wait_seq becomes odd: the stack is tagged with that coming odd value.
void capture_wait_stack(thread_record* t, const runtime& r, std::uint32_t own) {
  const bool watched = r.opts.long_wait_ms > 0 || r.opts.dump_signal > 0;
  if (!watched && t->depth.load(std::memory_order_relaxed) <= own) return;
  stack_trace st = capture_stack(r.opts.stack_depth);
  std::lock_guard<std::mutex> g(t->extra->wait_stack_mu);
  t->extra->wait_stack = std::move(st);
  t->extra->wait_stack_seq = t->extra->wait_seq.load(std::memory_order_relaxed) + 1;
}

// A thread with its bypass raised (running a report handler, or user code the detector calls, such as
// operator new) is about to block on `m`: nothing is checked or recorded for it, but if it holds `m`
// itself it would wait forever, silently. Report that as the self_deadlock it is (the handler is not
// called again for it: the sink does not re-enter a running handler) and abort like any self_deadlock.
// Only the held stack as it was when the bypass was raised is known: the handler's own acquisitions
// are not recorded.
void self_lock_while_bypassed(thread_record* t, lock_meta& m, std::uint8_t mode) noexcept {
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  for (std::uint32_t i = 0; i < d; ++i) {
    const held_entry* e = held_at(t, i);
    if (e == nullptr) return;
    if (e->lock.load(std::memory_order_relaxed) != &m) continue;
    if ((e->mode.load(std::memory_order_relaxed) & mode & mode_shared) != 0) continue;  // readers
    runtime& r = rt();
    bypass_scope bypass(t);
    r.sink.raise(self_deadlock_problem(slot_of(t), m, mode, capture_stack(r.opts.stack_depth)));
    if (r.opts.abort_on_deadlock) die_after_report();
    return;  // block as std would
  }
}

// lock_order=FILE (locks named by class_key(), as the class graph and the edge log name them): `m` is
// about to be acquired (blocking) while the thread holds entries [0, d): each held lock against the
// declaration, not only the nearest (what this run recorded need not contain the declared path). Runs once per new chain (the chain cache skips the rest). Returns the
// violations; the caller adds the stack (captured in its own frame, which printing cuts off).
std::vector<problem> declared_violations(runtime& r, thread_record* t, std::uint32_t d, lock_meta& m,
                                         std::uint8_t mode) {
  std::vector<problem> out;
  const std::string taken = class_key(m);
  for (std::uint32_t i = 0; i < d; ++i) {
    const held_entry* e = own_held_at(t, i);
    const lock_meta* h = e->lock.load(std::memory_order_relaxed);
    if (h == &destroyed_lock || h == &m) continue;
    const std::string held = class_key(*h);
    const declared_order::result v = r.order.check(held, taken, r.opts.lock_order_strict);
    if (v.v != declared_order::verdict::contradicts && v.v != declared_order::verdict::undeclared) continue;
    problem& p = out.emplace_back();
    p.kind = report_kind::lock_order_inversion;
    p.declared = true;
    p.declaration = v.rules;
    p.locks = {held, taken};
    p.thread = describe(*slot_of(t));
    lock_edge& edge = p.edges.emplace_back();
    edge.from = held;
    edge.to = taken;
    edge.from_shared = (e->mode.load(std::memory_order_relaxed) & mode_shared) != 0;
    edge.to_shared = (mode & mode_shared) != 0;
    edge.thread = p.thread;
    p.held = held_locks(t);
  }
  return out;
}

// The locks the thread holds exclusive (a possible gate: class_graph.hpp), but entry `skip` (the edge's
// source) and the lock being taken: sorted graph nodes. Only the kMaxGates outermost ones: a gate is an
// outer lock, and a deep nesting must not cost O(depth) per edge (O(depth^2) in all).
held_set held_except(thread_record* t, std::uint32_t skip, std::uint64_t target) {
  constexpr std::size_t kMaxGates = 4;
  held_set out;
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  for (std::uint32_t j = 0; j < d && out.size() < kMaxGates; ++j) {
    if (j == skip) continue;
    const held_entry* e = own_held_at(t, j);
    if (e->lock.load(std::memory_order_relaxed) == &destroyed_lock) continue;
    if ((e->mode.load(std::memory_order_relaxed) & mode_shared) != 0) continue;  // readers serialise nothing
    const std::uint64_t n = e->node.load(std::memory_order_relaxed);
    if (n != 0 && n != target) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

thread_record* register_thread() noexcept {
  runtime& r = rt();
  thread_slot* s = r.opts.enabled ? acquire_slot() : nullptr;
  if (s == nullptr) {
    tl_record = &g_passthrough;
    return &g_passthrough;
  }
  const pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
  s->extra.os_tid.store(tid, std::memory_order_relaxed);
  s->extra.number.store(next_thread_number(tid == ::getpid()), std::memory_order_relaxed);
  tl_record = &s->rec;
  t_exit_guard.slot = s;
  return &s->rec;
}

void before_lock_slow(thread_record* t, lock_meta& m, std::uint8_t mode) noexcept {
  if (t->bypass != 0) return;
  const std::uint32_t d = purge_tombstones(t);  // one relaxed load unless another thread made some
  if (d == 0) return;
  // Read before validating: a rejected edge forgotten meanwhile bumps it, and the chain remembered
  // below then counts for the old epoch only.
  const std::uint32_t epoch = g_chain_epoch.load(std::memory_order_acquire);

  // Nesting past the inline stack: every acquisition comes here, so a known chain must cost what the
  // fast path's probe costs, whatever the depth.
  if (std::uint64_t node; deep_chain_if_validated(t, d, m, mode, epoch, &node) != 0) return;

  bypass_scope bypass(t);
  runtime& r = rt();
  if (t->chain_epoch != epoch) {
    forget_validated_chains(t);
    t->chain_epoch = epoch;
  }

  // A chain validated before (by this thread, past the inline depth the fast path probes, or by any
  // thread): nothing new to record, and no self-deadlock (it would have been reported then).
  const held_entry* top_entry = own_held_at(t, d - 1);
  std::uint64_t top = top_entry->chain;
  std::uint64_t node = m.node.load(std::memory_order_relaxed);
  if (top != 0 && node != 0) {
    const std::uint64_t key = chain_mix(top, node, mode);
    if (d <= kInlineHeld && t->chain_cache[key & (kChainCacheSize - 1)] == key) return;
    if (r.graph.chain_validated(key)) {
      remember_validated(t, d, key);
      return;
    }
  }

  // A thread blocking on a lock it holds waits forever (recursive locks never get here on re-entry).
  // Shared after shared is the one exception: readers do not block readers. Past the inline stack,
  // deep_held rules out the overflow entries in O(1) unless the lock may be among them.
  bool recursive_read = false;
  const std::uint32_t scan_to = d > kInlineHeld && !deep_may_hold(t, m, d) ? kInlineHeld : d;
  t->extra->self_check_walked += scan_to;
  for (std::uint32_t i = 0; i < scan_to; ++i) {
    const held_entry* e = own_held_at(t, i);
    if (e->lock.load(std::memory_order_relaxed) != &m) continue;
    if ((e->mode.load(std::memory_order_relaxed) & mode & mode_shared) != 0) {
      recursive_read = true;
      continue;
    }
    r.sink.raise(self_deadlock_problem(slot_of(t), m, mode, capture_stack(r.opts.stack_depth)));
    if (r.opts.abort_on_deadlock) die_after_report();
    return;  // block as std would
  }
  // Inside an ignore_scope: no edge, and no chain remembered (it was not validated).
  if (order_ignored()) return;

  node = r.graph.node_of(m);
  if (top == 0) {
    // Chains are computed bottom up and 0 propagates: recompute from the lowest entry without one.
    std::uint32_t from = d - 1;
    while (from > 0 && own_held_at(t, from - 1)->chain == 0) --from;
    rechain(t, from, r.graph);
    top = top_entry->chain;
  }
  stack_trace stack;
  bool captured = false;
  if (!recursive_read && !r.order.empty()) {
    std::vector<problem> violations = declared_violations(r, t, d, m, mode);
    if (!violations.empty()) {
      stack = capture_stack(r.opts.stack_depth);
      captured = true;
    }
    for (problem& p : violations) {
      p.stack = stack;
      p.edges.front().stack = stack;
      r.sink.raise(p);
    }
  }
  if (!recursive_read) {
    // Edges from the nearest held locks only, walking down from the top and stopping after the first
    // one held exclusive and taken blocking: that lock's own acquisition recorded (or found) the edges
    // from everything below it by the same rule, so the order to this lock follows by transitivity.
    // A shared or try-acquired entry passes no order on (readers do not block readers; a try_lock
    // added no edge into its lock), so the walk continues past it, and past destroyed or rejected
    // ones. One nesting of depth d thus records O(d) edges, not d^2/2. A destroyed middle lock cannot
    // hide a -> c: lock_order_graph::remove() splices p -> s for its edges p -> b -> s.
    for (std::uint32_t i = d; i-- > 0;) {
      const held_entry* e = own_held_at(t, i);
      if (e->lock.load(std::memory_order_relaxed) == &destroyed_lock) continue;
      const std::uint8_t held_mode = e->mode.load(std::memory_order_relaxed);
      const edge_key k{e->node.load(std::memory_order_relaxed), node, (held_mode & mode_shared) != 0,
                       (mode & mode_shared) != 0};
      if (k.from == node || k.from == 0) continue;
      bool transmits = (held_mode & (mode_shared | mode_try)) == 0;
      bool rejected = false;
      if (r.graph.known(k, &rejected)) {
        if (rejected) transmits = false;
        // Taken again with another held-stack sequence (that is why it is here): the locks held this
        // time may be fewer, which shrinks the edge's gate sets (class_graph.hpp).
        if (r.classes.may_gate()) {
          std::vector<problem> broken;
          r.classes.sighting(k, held_except(t, i, node), &broken);
          for (const problem& p : broken) r.sink.raise(p);
        }
      } else {
        if (!captured) {
          stack = capture_stack(r.opts.stack_depth);
          captured = true;
        }
        problem cycle;
        const thread_ref me = describe(*slot_of(t));
        if (!r.opts.edge_log.empty()) {
          // Every edge new to this process, whatever the graph makes of it (a closing edge is still an
          // order the program used; the suite merge decides). Reloaded: another thread may have
          // destroyed the held lock meanwhile (its entry is then a tombstone).
          const lock_meta* held = e->lock.load(std::memory_order_relaxed);
          if (held != &destroyed_lock) record_class_edge(*held, m, k.from_shared, k.to_shared, me, stack);
        }
        const edge_outcome o = r.graph.add(k, (held_mode & mode_try) != 0, me, stack, &cycle);
        if (o == edge_outcome::closes_cycle) {
          transmits = false;  // kept out of the order: it implies nothing about the locks below
          cycle.thread = me;
          cycle.held = held_locks(t);
          cycle.stack = stack;
          // Not reported (kept) when one gate lock was held at every sighting of every edge of it.
          if (r.classes.instance_cycle(k, held_except(t, i, node), cycle)) r.sink.raise(cycle);
        } else if (o == edge_outcome::capped) {
          break;
        } else if (o == edge_outcome::accepted) {
          // A new lock edge is the only way into the class graph: known edges never get here.
          problem by_class;
          std::vector<problem> broken;
          const lock_meta* from = e->lock.load(std::memory_order_relaxed);
          if (r.classes.add_edge(k, *from, m, held_except(t, i, node), me, stack, &by_class, &broken)) {
            by_class.thread = me;
            by_class.held = held_locks(t);
            by_class.stack = stack;
            r.sink.raise(by_class);
          }
          for (const problem& p : broken) r.sink.raise(p);
        }
      }
      if (transmits) {
        // The locks below this one reach the new lock through it: note the nearest live one, so the
        // order survives this lock's destruction (lock_order_graph::remove() splices it).
        for (std::uint32_t j = i; j-- > 0;) {
          const held_entry* below = own_held_at(t, j);
          if (below->lock.load(std::memory_order_relaxed) == &destroyed_lock) continue;
          const std::uint64_t u = below->node.load(std::memory_order_relaxed);
          if (u != 0 && u != node) r.graph.note_under(k, u);
          break;
        }
        break;
      }
    }
  }
  const std::uint64_t key = chain_mix(top, node, mode);
  remember_validated(t, d, key);
  r.graph.remember_chain(key, epoch);
}

std::uint32_t prepare_deep_push(thread_record* t, lock_meta& m, std::uint8_t mode, const void* site_pc,
                                const void* site_ret) noexcept {
  if (t->bypass != 0) return 0;
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  std::uint64_t node = 0;
  const std::uint64_t key =
      deep_chain_if_validated(t, d, m, mode, g_chain_epoch.load(std::memory_order_acquire), &node);
  if (key == 0) return 0;
  held_entry* e = own_held_at(t, d, /*grow=*/true);
  if (e == nullptr) return 0;
  // Past the depth other threads read up to: nobody looks at it until the caller publishes it.
  e->lock.store(&m, std::memory_order_relaxed);
  e->node.store(node, std::memory_order_relaxed);
  e->mode.store(mode, std::memory_order_relaxed);
  e->site_pc.store(site_pc, std::memory_order_relaxed);
  e->site_ret.store(site_ret, std::memory_order_relaxed);
  e->chain = key;
  return d + 1;
}

void after_lock_slow(thread_record* t, lock_meta& m, std::uint8_t mode, const void* site_pc,
                     const void* site_ret) noexcept {
  if (t->bypass != 0) return;
  const std::uint32_t d = purge_tombstones(t);
  held_entry* e = own_held_at(t, d, /*grow=*/true);
  if (e == nullptr) return;  // out of memory for the overflow chunk: this lock goes untracked
  const std::uint64_t node = m.node.load(std::memory_order_relaxed);
  e->lock.store(&m, std::memory_order_relaxed);
  e->node.store(node, std::memory_order_relaxed);
  e->mode.store(mode, std::memory_order_relaxed);
  e->site_pc.store(site_pc, std::memory_order_relaxed);
  e->site_ret.store(site_ret, std::memory_order_relaxed);
  e->chain = chain_step(d == 0 ? 0 : own_held_at(t, d - 1)->chain, d, node, mode);
  t->depth.store(d + 1, std::memory_order_release);
}

bool before_unlock_slow(thread_record* t, lock_meta& m, std::uint8_t shared) noexcept {
  if (t == nullptr) t = register_thread();
  if (t->bypass != 0) return true;
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  if (d > kInlineHeld) {  // the top is past the inline stack: pop it as before_unlock() pops inline
    const held_entry* e = own_held_at(t, d - 1);
    if (e->lock.load(std::memory_order_relaxed) == &m &&
        (e->mode.load(std::memory_order_relaxed) & mode_shared) == shared) {
      forget_deep_from(t, d - 1);
      t->depth.store(d - 1, std::memory_order_release);
      return true;
    }
  }
  const long i = find_entry(t, m, shared);
  if (i >= 0) {
    erase_entry(t, static_cast<std::uint32_t>(i), nullptr);
    return true;
  }
  bypass_scope bypass(t);
  runtime& r = rt();
  r.sink.raise(bad_unlock_problem(slot_of(t), m, shared, capture_stack(r.opts.stack_depth)));
  return false;
}

void lock_contended(lock_meta& m, std::uint8_t mode, void (*block)(void*), void* arg) {
  thread_record* t = tl_record;
  if (t == nullptr) t = register_thread();
  if (t->bypass != 0) {
    if (t->extra != nullptr) self_lock_while_bypassed(t, m, mode);
    block(arg);
    return;
  }
  thread_extra& x = *t->extra;
  {
    bypass_scope bypass(t);
    capture_wait_stack(t, rt(), 0);
  }
  // Publish the wait before looking at anyone else's: of two threads closing a cycle at the same
  // instant, at least one then sees the other waiting (the fence pairs with the other's fence).
  x.waits_on.store(&m, std::memory_order_relaxed);
  x.wait_mode.store(mode, std::memory_order_relaxed);
  x.wait_type.store(wait_kind::lock, std::memory_order_relaxed);
  x.wait_since_ns.store(steady_now_ns(), std::memory_order_relaxed);
  x.wait_seq.fetch_add(1, std::memory_order_seq_cst);  // odd: waiting
  std::atomic_thread_fence(std::memory_order_seq_cst);
  {
    bypass_scope bypass(t);
    runtime& r = rt();
    problem deadlock;
    // A duplicate means another thread of the cycle is reporting it and will end the process once its
    // files are written; this one must not abort first.
    if (find_circular_wait(slot_of(t), &deadlock) && r.sink.raise(deadlock) && r.opts.abort_on_deadlock) {
      die_after_report();
    }
    // Only an unlock by another thread can end this wait.
    count_blocked_wait(x, nullptr);
  }
  struct end_wait {
    thread_extra& x;
    ~end_wait() {
      uncount_blocked_wait(x);
      x.wait_type.store(wait_kind::none, std::memory_order_relaxed);
      x.waits_on.store(nullptr, std::memory_order_relaxed);
      x.wait_seq.fetch_add(1, std::memory_order_release);  // even: running
    }
  } done{x};
  block(arg);
}

void on_destroy(lock_meta& m, bool held) noexcept {
  runtime* r = rt_if_created();
  if (r == nullptr || !r->opts.enabled) return;
  thread_record* t = tl_record;
  if (t == nullptr) t = register_thread();
  if (t->bypass != 0 && t != &g_passthrough) return;
  if (held && t->extra != nullptr) {
    bypass_scope bypass(t);
    problem p;
    if (destroyed_while_held(slot_of(t), m, capture_stack(r->opts.stack_depth), process_exiting(), &p)) {
      r->sink.raise(p);
    }
    // Forget it in the destroying thread's own stack, or its later unlocks would look wrong.
    for (std::uint8_t shared : {std::uint8_t{0}, std::uint8_t{mode_shared}}) {
      for (long i; (i = find_entry(t, m, shared)) >= 0;) erase_entry(t, static_cast<std::uint32_t>(i), nullptr);
    }
    // Another holder's stack cannot be edited from here; its entry becomes a tombstone that nothing
    // dereferences, matches or reports (the program's later unlock of the dead lock is its own bug).
    for_each_live_thread([&](thread_slot& s) {
      if (&s.rec == t) return;
      const std::uint32_t d = s.rec.depth.load(std::memory_order_acquire);
      for (std::uint32_t i = 0; i < d; ++i) {
        held_entry* e = held_at(&s.rec, i);
        if (e == nullptr) break;
        const lock_meta* expected = &m;
        if (e->lock.compare_exchange_strong(expected, &destroyed_lock, std::memory_order_acq_rel)) {
          s.extra.tombstones.fetch_add(1, std::memory_order_release);
        }
      }
    });
  }
  if (held) forget_orphan(&m);
  const std::uint64_t node = m.node.load(std::memory_order_relaxed);
  if (node != 0) {
    r->graph.remove(node);
    r->classes.remove(node);
  }
}

namespace {

// Turns another live thread's hold of `m` (in the `shared` mode) into a tombstone. True if one was found.
bool drop_remote_hold(const thread_record* self, const lock_meta& m, std::uint8_t shared) {
  bool dropped = false;
  find_live_thread([&](thread_slot& s) {
    if (&s.rec == self) return false;
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const std::uint32_t seq = s.extra.held_seq.load(std::memory_order_acquire);
      if ((seq & 1) != 0) {
        ::sched_yield();  // the owner is moving its entries: a few stores
        continue;
      }
      const std::uint32_t d = s.rec.depth.load(std::memory_order_acquire);
      for (std::uint32_t i = d; i-- > 0;) {
        held_entry* e = held_at(&s.rec, i);
        if (e == nullptr) continue;
        if ((e->mode.load(std::memory_order_relaxed) & mode_shared) != shared) continue;
        const lock_meta* expected = &m;
        if (e->lock.compare_exchange_strong(expected, &destroyed_lock, std::memory_order_acq_rel)) {
          s.extra.tombstones.fetch_add(1, std::memory_order_release);
          dropped = true;
          return true;
        }
      }
      if (s.extra.held_seq.load(std::memory_order_acquire) == seq) return false;  // not held there
    }
    return false;
  });
  return dropped;
}

bool held_by_any_thread(const lock_meta& m) {
  return find_live_thread([&](thread_slot& s) {
           const std::uint32_t d = s.rec.depth.load(std::memory_order_acquire);
           for (std::uint32_t i = 0; i < d; ++i) {
             const held_entry* e = held_at(&s.rec, i);
             if (e == nullptr) break;
             if (e->lock.load(std::memory_order_acquire) == &m) return true;
           }
           return false;
         }) != nullptr;
}

}  // namespace

void release_any_thread(lock_meta& m, std::uint8_t shared) noexcept {
  thread_record* t = tl_record;
  if (t == nullptr) t = register_thread();
  if (t->bypass != 0) return;
  const long i = find_entry(t, m, shared);
  if (i >= 0) {
    erase_entry(t, static_cast<std::uint32_t>(i), nullptr);
    return;
  }
  drop_remote_hold(t, m, shared);  // or nobody holds it: handed over before, with a release by its taker
}

void annotation_destroyed(lock_meta& m) noexcept {
  runtime* r = rt_if_created();
  if (r == nullptr || !r->opts.enabled) return;
  const bool held = held_by_any_thread(m);
  if (held || m.node.load(std::memory_order_relaxed) != 0) on_destroy(m, held);
}

void forget_in_own_stack(lock_meta& m) noexcept {
  thread_record* t = tl_record;
  if (t == nullptr || t->extra == nullptr) return;
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  bool below = false;
  for (std::uint32_t i = 0; i < d; ++i) {
    held_entry* e = own_held_at(t, i);
    if (e->lock.load(std::memory_order_relaxed) == &m) {
      e->node.store(0, std::memory_order_relaxed);
      below = true;
    }
    if (below) e->chain = 0;  // recomputed (with the new node) on the next slow path
  }
}

void cv_begin_wait(lock_meta& cv, lock_meta& mu, bool timed) noexcept {
  thread_record* t = tl_record;
  if (t == nullptr || t->bypass != 0) return;
  thread_extra& x = *t->extra;
  {
    bypass_scope bypass(t);
    capture_wait_stack(t, rt(), 1);
  }
  const long i = find_entry(t, mu, 0);
  if (i >= 0) erase_entry(t, static_cast<std::uint32_t>(i), nullptr);
  x.wait_mutex.store(i >= 0 ? &mu : nullptr, std::memory_order_relaxed);
  x.waits_on.store(&cv, std::memory_order_relaxed);
  x.wait_mode.store(mode_exclusive, std::memory_order_relaxed);
  x.wait_type.store(wait_kind::condition, std::memory_order_relaxed);
  x.wait_since_ns.store(steady_now_ns(), std::memory_order_relaxed);
  x.wait_seq.fetch_add(1, std::memory_order_seq_cst);
  if (!timed) {
    bypass_scope bypass(t);
    count_blocked_wait(x, &notify_count_of(cv));  // only a notify can end it
  }
}

void cv_wait_settled(lock_meta& cv) noexcept {
  thread_record* t = tl_record;
  if (t == nullptr || t->bypass != 0) return;
  thread_extra& x = *t->extra;
  if (x.wait_type.load(std::memory_order_relaxed) != wait_kind::condition) return;
  bypass_scope bypass(t);
  count_blocked_wait(x, &notify_count_of(cv));
}

void cv_end_wait(lock_meta& /*cv*/, lock_meta& mu) noexcept {
  thread_record* t = tl_record;
  if (t == nullptr || t->bypass != 0) return;
  thread_extra& x = *t->extra;
  if (x.wait_type.load(std::memory_order_relaxed) != wait_kind::condition) return;
  const bool popped = x.wait_mutex.load(std::memory_order_relaxed) == &mu;
  uncount_blocked_wait(x);
  x.wait_type.store(wait_kind::none, std::memory_order_relaxed);
  x.waits_on.store(nullptr, std::memory_order_relaxed);
  x.wait_mutex.store(nullptr, std::memory_order_relaxed);
  x.wait_seq.fetch_add(1, std::memory_order_release);
  if (!popped) return;
  // The wait took the mutex back inside std::condition_variable, while this thread held whatever it
  // held: that is an acquisition like any other, with edges from those locks (recorded after the
  // fact: the native wait gives no earlier moment).
  before_lock(mu, mode_exclusive);
  after_lock(mu, mode_exclusive);
}

}  // namespace lockgraph::detail
