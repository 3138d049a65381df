// wait_for_graph.cpp: see wait_for_graph.hpp.
#include "threads/wait_for_graph.hpp"

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "base/labels.hpp"

namespace lockgraph::detail {
namespace {

bool holds(thread_slot* s, const lock_meta* m, std::uint8_t waiter_mode) {
  const std::uint32_t d = s->rec.depth.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < d; ++i) {
    const held_entry* e = held_at(&s->rec, i);
    if (e == nullptr) return false;
    if (e->lock.load(std::memory_order_relaxed) != m) continue;
    const bool both_shared = (e->mode.load(std::memory_order_relaxed) & waiter_mode & mode_shared) != 0;
    if (!both_shared) return true;
  }
  return false;
}

// One step of a circular wait: `waiter` (in wait `seq`) wants `lock`, which `holder` holds.
struct hop {
  thread_slot* waiter;
  std::uint64_t seq;
  const lock_meta* lock;
  std::uint8_t mode;
  std::int64_t since_ns;
  thread_slot* holder;
};

// A lock wait only: a condition wait is released by a notify, not by an unlock.
bool read_wait(thread_slot* s, hop* h) {
  waiting_thread w;
  if (!read_wait(s, &w) || w.kind != wait_kind::lock) return false;
  *h = hop{s, w.seq, w.waits_on, w.mode, w.since_ns, nullptr};
  return true;
}

// Depth-first search over waits-for/held-by from `self`; fills `cycle` on success.
bool find_cycle(thread_slot* self, std::vector<hop>* cycle) {
  struct frame {
    hop h;
    std::vector<thread_slot*> holders;
    std::size_t next = 0;
  };
  std::vector<frame> stack;
  std::unordered_set<thread_slot*> visited{self};
  frame root;
  if (!read_wait(self, &root.h)) return false;
  root.holders = holders_of(root.h.lock, root.h.mode, self);
  stack.push_back(std::move(root));
  while (!stack.empty()) {
    frame& f = stack.back();
    if (f.next == f.holders.size()) {
      stack.pop_back();
      continue;
    }
    thread_slot* holder = f.holders[f.next++];
    f.h.holder = holder;
    if (holder == self) {
      for (const frame& g : stack) cycle->push_back(g.h);
      return true;
    }
    if (!visited.insert(holder).second) continue;
    frame next;
    if (!read_wait(holder, &next.h)) continue;
    next.holders = holders_of(next.h.lock, next.h.mode, holder);
    stack.push_back(std::move(next));
  }
  return false;
}

// Second pass: everyone still in the same wait, every holder still holding.
bool confirm(const std::vector<hop>& cycle) {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (const hop& h : cycle) {
    hop now;
    if (!read_wait(h.waiter, &now) || now.seq != h.seq || now.lock != h.lock) return false;
    if (!holds(h.holder, h.lock, h.mode)) return false;
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (const hop& h : cycle) {
    if (h.waiter->extra.wait_seq.load(std::memory_order_acquire) != h.seq) return false;
  }
  return true;
}

// blocked_for_good()'s walk over waits-for -> held-by, with a verdict per thread visited.
struct forever_walk {
  const thread_slot* ending;
  const std::vector<const lock_meta*>& orphaned;
  enum verdict : std::uint8_t { open, forever, can_end };
  std::unordered_map<const thread_slot*, verdict> seen;
  std::vector<waiting_thread> waits;  // every wait relied on, to confirm

  bool blocked_forever(thread_slot* s) {
    if (s == ending) return true;  // it ends the process: it releases nothing any more
    const auto [it, fresh] = seen.try_emplace(s, open);
    if (!fresh) return it->second != can_end;  // `open`: back on the walk, a circular wait
    bool result = false;
    waiting_thread w;
    if (read_wait(s, &w) && w.kind == wait_kind::lock) {
      waits.push_back(w);
      if (std::find(orphaned.begin(), orphaned.end(), w.waits_on) != orphaned.end()) {
        result = true;
      } else {
        // Shared holders: the wait ends only when all of them release, so one that never does is enough.
        for (thread_slot* h : holders_of(w.waits_on, w.mode, s)) {
          if (blocked_forever(h)) {
            result = true;
            break;
          }
        }
      }
    }
    seen[s] = result ? forever : can_end;
    return result;
  }
};

}  // namespace

bool blocked_for_good(thread_slot* s, const thread_slot* ending, const std::vector<const lock_meta*>& orphaned) {
  forever_walk walk{ending, orphaned, {}, {}};
  if (s == ending || !walk.blocked_forever(s)) return false;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (const waiting_thread& w : walk.waits) {
    if (w.slot->extra.wait_seq.load(std::memory_order_acquire) != w.seq) return false;
  }
  return true;
}

std::vector<thread_slot*> holders_of(const lock_meta* m, std::uint8_t mode, const thread_slot* except) {
  std::vector<thread_slot*> out;
  for_each_live_thread([&](thread_slot& s) {
    if (&s != except && holds(&s, m, mode)) out.push_back(&s);
  });
  return out;
}

std::vector<waiting_thread> waiting_threads() {
  std::vector<waiting_thread> out;
  for_each_live_thread([&](thread_slot& s) {
    waiting_thread w;
    if (read_wait(&s, &w)) out.push_back(w);
  });
  return out;
}

thread_state describe_waiter(const waiting_thread& w, std::int64_t now_ns) {
  thread_state ts;
  ts.thread = describe(*w.slot);
  ts.waits_for = label_ref::of(*w.waits_on).str();
  ts.waits_shared = (w.mode & mode_shared) != 0;
  ts.waited_ms = now_ns > w.since_ns ? static_cast<std::uint64_t>((now_ns - w.since_ns) / 1000000) : 0;
  ts.holds = held_locks(&w.slot->rec);
  std::lock_guard<std::mutex> g(w.slot->extra.wait_stack_mu);
  if (w.slot->extra.wait_stack_seq == w.seq) ts.stack = w.slot->extra.wait_stack;
  return ts;
}

bool find_circular_wait(thread_slot* self, problem* out) {
  std::vector<hop> cycle;
  if (!find_cycle(self, &cycle) || !confirm(cycle)) return false;

  // Confirmed: every thread on the cycle is blocked for good, so its locks and labels stay valid.
  const std::int64_t now = steady_now_ns();
  out->kind = report_kind::deadlock;
  for (const hop& h : cycle) {
    out->threads.push_back(describe_waiter({h.waiter, h.seq, h.lock, wait_kind::lock, h.mode, h.since_ns}, now));
  }
  out->thread = out->threads.front().thread;
  out->held = out->threads.front().holds;
  out->stack = out->threads.front().stack;
  return true;
}

}  // namespace lockgraph::detail
