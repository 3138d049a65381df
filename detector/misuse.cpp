// misuse.cpp: see misuse.hpp.
#include "misuse.hpp"

#include <algorithm>
#include <mutex>
#include <string>

#include "stack_trace.hpp"

namespace lockgraph::detail {
namespace {

std::string label_of(const lock_meta& m) { return label_ref::of(m).str(); }

std::string thread_phrase(const thread_ref& t) { return "thread " + thread_label(t); }

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// The site a report is about: its innermost frame outside lockgraph, for dedupe keys ("once per
// distinct problem": the same misuse from the same place is one problem).
std::string site_key(const stack_trace& st) { return innermost_site(st); }

}  // namespace

std::vector<held_lock> held_locks(thread_record* t) {
  std::vector<held_lock> out;
  const std::uint32_t d = t->depth.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < d; ++i) {
    const held_entry* e = held_at(t, i);
    if (e == nullptr) break;
    const lock_meta* m = e->lock.load(std::memory_order_relaxed);
    if (m == &destroyed_lock) continue;  // reported when it was destroyed
    const std::uint8_t mode = e->mode.load(std::memory_order_relaxed);
    held_lock h;
    h.lock = label_of(*m);
    h.shared = (mode & mode_shared) != 0;
    h.try_acquired = (mode & mode_try) != 0;
    // The in-line address is exact, not a return address: +1 undoes the symbolizer's -1.
    if (const void* pc = e->site_pc.load(std::memory_order_relaxed)) {
      h.stack.frames.push_back(reinterpret_cast<std::uintptr_t>(pc) + 1);
    }
    if (const void* ret = e->site_ret.load(std::memory_order_relaxed)) {
      h.stack.frames.push_back(reinterpret_cast<std::uintptr_t>(ret));
    }
    out.push_back(std::move(h));
  }
  return out;
}

void report_self_deadlock(runtime& r, thread_slot* self, const lock_meta& m, std::uint8_t mode) {
  report rep;
  rep.kind = report_kind::self_deadlock;
  rep.locks = {label_of(m)};
  rep.thread = describe(*self);
  rep.held = held_locks(&self->rec);
  rep.stack = capture_stack(r.opts.stack_depth);
  const bool held_shared = std::any_of(rep.held.begin(), rep.held.end(),
                                       [&](const held_lock& h) { return h.lock == rep.locks[0] && h.shared; });
  rep.summary = "self-deadlock: " + thread_phrase(rep.thread) + " blocks on " + rep.locks[0] +
                ((mode & mode_shared) ? " (shared)" : " (exclusive)") + " which it already holds" +
                (held_shared ? " (shared)" : " (exclusive)");
  r.sink.raise(rep, "self_deadlock " + rep.locks[0] + " " + site_key(rep.stack));
}

void report_bad_unlock(runtime& r, thread_slot* self, const lock_meta& m, std::uint8_t shared) {
  report rep;
  rep.kind = report_kind::bad_unlock;
  rep.locks = {label_of(m)};
  rep.thread = describe(*self);
  rep.held = held_locks(&self->rec);
  rep.stack = capture_stack(r.opts.stack_depth);
  rep.summary = "bad unlock: " + thread_phrase(rep.thread) + (shared ? " calls unlock_shared() on " : " unlocks ") +
                rep.locks[0] + (shared ? ", which it does not hold shared" : ", which it does not hold") +
                "; the lock was left as it was";
  r.sink.raise(rep, "bad_unlock " + rep.locks[0] + (shared ? " s " : " x ") + site_key(rep.stack));
}

report unreleased_report(const thread_ref& holder, std::vector<held_lock> holds, const std::string& when,
                         stack_trace stack, std::string* key) {
  report rep;
  rep.kind = report_kind::unreleased_lock;
  thread_state ts;
  ts.thread = holder;
  for (const auto& h : holds) rep.locks.push_back(h.lock);
  ts.holds = std::move(holds);
  rep.thread = ts.thread;
  rep.held = ts.holds;
  rep.stack = std::move(stack);
  rep.threads.push_back(std::move(ts));
  rep.summary = "unreleased lock: " + join(rep.locks) + " still held by " + thread_phrase(rep.thread) + " " + when;
  std::vector<std::string> sorted = rep.locks;
  std::sort(sorted.begin(), sorted.end());
  *key = "unreleased " + when + " " + join(sorted);
  return rep;
}

namespace {

std::mutex g_orphans_mu;
std::vector<orphan>* g_orphans = new std::vector<orphan>();  // never destroyed, like the runtime

void raise_unreleased(runtime& r, const thread_ref& holder, std::vector<held_lock> holds, const std::string& when,
                      stack_trace stack) {
  std::string key;
  report rep = unreleased_report(holder, std::move(holds), when, std::move(stack), &key);
  r.sink.raise(std::move(rep), key);
}

}  // namespace

std::vector<orphan> orphans() {
  std::lock_guard<std::mutex> g(g_orphans_mu);
  return *g_orphans;
}

void forget_orphan(const lock_meta* m) {
  std::lock_guard<std::mutex> g(g_orphans_mu);
  std::erase_if(*g_orphans, [m](const orphan& o) { return o.lock == m; });
}

void report_unreleased_at_thread_exit(runtime& r, thread_slot* self) {
  const thread_ref me = describe(*self);
  std::vector<held_lock> holds = held_locks(&self->rec);
  if (holds.empty()) return;  // only tombstones of locks destroyed elsewhere
  {
    std::lock_guard<std::mutex> g(g_orphans_mu);
    std::size_t next = 0;
    const std::uint32_t d = self->rec.depth.load(std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < d && next < holds.size(); ++i) {
      const lock_meta* m = held_at(&self->rec, i)->lock.load(std::memory_order_relaxed);
      if (m != &destroyed_lock) g_orphans->push_back({m, holds[next++], me});
    }
  }
  raise_unreleased(r, me, std::move(holds), "when it exited", {});
}

void report_destroyed_while_held(runtime& r, thread_slot* self, const lock_meta& m) {
  // Left held by a thread that exited: reported then, as that thread's problem; not a new one.
  {
    std::lock_guard<std::mutex> g(g_orphans_mu);
    if (std::any_of(g_orphans->begin(), g_orphans->end(), [&](const orphan& o) { return o.lock == &m; })) return;
  }
  // The holder: this thread, or another one found in the registry (its record outlives it).
  thread_slot* holder = nullptr;
  for (thread_slot* s = first_slot(); s != nullptr && holder == nullptr; s = s->next.load(std::memory_order_acquire)) {
    if (!s->extra.in_use.load(std::memory_order_acquire)) continue;
    const std::uint32_t d = s->rec.depth.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < d; ++i) {
      const held_entry* e = held_at(&s->rec, i);
      if (e == nullptr) break;
      if (e->lock.load(std::memory_order_relaxed) == &m) {
        holder = s;
        break;
      }
    }
  }
  held_lock h;
  h.lock = label_of(m);
  const std::string by = holder == nullptr ? std::string("while locked")
                         : holder == self  ? std::string("when it was destroyed by the same thread")
                                           : "when " + thread_phrase(describe(*self)) + " destroyed it";
  std::string key;
  report rep = unreleased_report(describe(holder != nullptr ? *holder : *self), {h}, by,
                                 capture_stack(r.opts.stack_depth), &key);
  // The destroyer raised it: `thread`, `held` and `stack` are its own; `threads` names the holder.
  rep.thread = describe(*self);
  rep.held = held_locks(&self->rec);
  r.sink.raise(std::move(rep), key);
}

void report_locks_held_at_exit(runtime& r) {
  for (thread_slot* s = first_slot(); s != nullptr; s = s->next.load(std::memory_order_acquire)) {
    if (!s->extra.in_use.load(std::memory_order_acquire)) continue;
    if (s->rec.depth.load(std::memory_order_acquire) == 0) continue;
    std::vector<held_lock> holds = held_locks(&s->rec);
    if (!holds.empty()) raise_unreleased(r, describe(*s), std::move(holds), "at process exit", {});
  }
}

}  // namespace lockgraph::detail
