// misuse.cpp: see misuse.hpp.
#include "threads/misuse.hpp"

#include <algorithm>
#include <mutex>
#include <string>

#include "base/labels.hpp"
#include "threads/wait_for_graph.hpp"

namespace lockgraph::detail {
namespace {

std::string label_of(const lock_meta& m) { return label_ref::of(m).str(); }

std::mutex g_orphans_mu;
std::vector<orphan>* g_orphans = new std::vector<orphan>();  // never destroyed, like the runtime

problem about_self(report_kind kind, thread_slot* self, const lock_meta& m, stack_trace stack) {
  problem p;
  p.kind = kind;
  p.locks = {label_of(m)};
  p.thread = describe(*self);
  p.held = held_locks(&self->rec);
  p.stack = std::move(stack);
  return p;
}

}  // namespace

problem self_deadlock_problem(thread_slot* self, const lock_meta& m, std::uint8_t mode, stack_trace stack) {
  problem p = about_self(report_kind::self_deadlock, self, m, std::move(stack));
  p.shared = (mode & mode_shared) != 0;
  return p;
}

problem bad_unlock_problem(thread_slot* self, const lock_meta& m, std::uint8_t shared, stack_trace stack) {
  problem p = about_self(report_kind::bad_unlock, self, m, std::move(stack));
  p.shared = shared != 0;
  return p;
}

problem unreleased_problem(const thread_ref& holder, std::vector<held_lock> holds, std::string when,
                           stack_trace stack) {
  problem p;
  p.kind = report_kind::unreleased_lock;
  thread_state ts;
  ts.thread = holder;
  ts.holds = std::move(holds);
  p.thread = ts.thread;
  p.held = ts.holds;
  p.stack = std::move(stack);
  p.threads.push_back(std::move(ts));
  p.when = std::move(when);
  return p;
}

std::vector<orphan> orphans() {
  std::lock_guard<std::mutex> g(g_orphans_mu);
  return *g_orphans;
}

void forget_orphan(const lock_meta* m) {
  std::lock_guard<std::mutex> g(g_orphans_mu);
  std::erase_if(*g_orphans, [m](const orphan& o) { return o.lock == m; });
}

bool unreleased_at_thread_exit(thread_slot* self, problem* out) {
  const thread_ref me = describe(*self);
  std::vector<held_lock> holds = held_locks(&self->rec);
  if (holds.empty()) return false;  // only tombstones of locks destroyed elsewhere
  {
    std::lock_guard<std::mutex> g(g_orphans_mu);
    std::size_t next = 0;
    const std::uint32_t d = self->rec.depth.load(std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < d && next < holds.size(); ++i) {
      const lock_meta* m = held_at(&self->rec, i)->lock.load(std::memory_order_relaxed);
      if (m != &destroyed_lock) g_orphans->push_back({m, holds[next++], me});
    }
  }
  *out = unreleased_problem(me, std::move(holds), "when it exited", {});
  return true;
}

namespace {

std::vector<const lock_meta*> orphaned_locks() {
  std::lock_guard<std::mutex> g(g_orphans_mu);
  std::vector<const lock_meta*> out;
  out.reserve(g_orphans->size());
  for (const orphan& o : *g_orphans) out.push_back(o.lock);
  return out;
}

}  // namespace

bool destroyed_while_held(thread_slot* self, const lock_meta& m, stack_trace stack, bool exiting, problem* out) {
  // Left held by a thread that exited: reported then, as that thread's problem; not a new one.
  {
    std::lock_guard<std::mutex> g(g_orphans_mu);
    if (std::any_of(g_orphans->begin(), g_orphans->end(), [&](const orphan& o) { return o.lock == &m; })) {
      return false;
    }
  }
  // The holder: this thread, or another one found in the registry (its record outlives it).
  thread_slot* holder = find_live_thread([&](thread_slot& s) { return holds_lock(&s.rec, &m); });
  if (exiting && holder != nullptr && holder != self && !blocked_for_good(holder, self, orphaned_locks())) {
    return false;
  }
  held_lock h;
  h.lock = label_of(m);
  std::string by = holder == nullptr ? std::string("while locked")
                   : holder == self  ? std::string("when it was destroyed by the same thread")
                                     : "when thread " + thread_label(describe(*self)) + " destroyed it";
  *out = unreleased_problem(describe(holder != nullptr ? *holder : *self), {h}, std::move(by), std::move(stack));
  // The destroyer raised it: `thread`, `held` and `stack` are its own; `threads` names the holder.
  out->thread = describe(*self);
  out->held = held_locks(&self->rec);
  return true;
}

std::vector<problem> locks_held_now(const std::string& when) {
  std::vector<problem> out;
  for_each_live_thread([&](thread_slot& s) {
    if (s.rec.depth.load(std::memory_order_acquire) == 0) return;
    std::vector<held_lock> holds = held_locks(&s.rec);
    if (!holds.empty()) out.push_back(unreleased_problem(describe(s), std::move(holds), when, {}));
  });
  return out;
}

std::vector<problem> locks_held_at_exit(thread_slot* ending) {
  const std::vector<const lock_meta*> orphaned = orphaned_locks();
  std::vector<problem> out;
  for_each_live_thread([&](thread_slot& s) {
    if (s.rec.depth.load(std::memory_order_acquire) == 0) return;
    const bool own = &s == ending;
    if (!own && !blocked_for_good(&s, ending, orphaned)) return;
    std::vector<held_lock> holds = held_locks(&s.rec);
    if (holds.empty()) return;
    out.push_back(unreleased_problem(describe(s), std::move(holds),
                                     own ? "at process exit" : "at process exit (its thread is blocked for good)", {}));
  });
  return out;
}

}  // namespace lockgraph::detail
