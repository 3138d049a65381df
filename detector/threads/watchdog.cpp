// watchdog.cpp: see watchdog.hpp.
#include "threads/watchdog.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/labels.hpp"
#include "threads/misuse.hpp"
#include "threads/wait_for_graph.hpp"

namespace lockgraph::detail {
namespace {

struct watch_config {
  unsigned long_wait_ms;
  report_sink* sink;
};
std::atomic<watch_config*> g_watched{nullptr};

// Copies the label of what `w` waits on, valid only if `w` is still in the same wait afterwards: a
// primitive somebody waits on is alive, and labels themselves are never freed.
bool stable_label(const waiting_thread& w, label_ref* out) {
  *out = label_ref::of(*w.waits_on);
  return w.slot->extra.wait_seq.load(std::memory_order_acquire) == w.seq;
}

}  // namespace

bool idle_wait(const waiting_thread& w) noexcept {
  if (w.kind != wait_kind::condition) return false;
  const std::uint32_t depth = w.slot->rec.depth.load(std::memory_order_acquire);
  return depth == 0 && w.slot->extra.wait_seq.load(std::memory_order_acquire) == w.seq;
}

bool long_wait_problem(const waiting_thread& w, std::int64_t now, problem* out) {
  label_ref waited;
  if (!stable_label(w, &waited)) return false;
  problem& p = *out;
  p.kind = report_kind::long_wait;
  p.condition = w.kind == wait_kind::condition;
  p.wait_seq = w.seq;
  // Its held locks (with where each was taken) and where it blocked; valid only if it is still in the
  // same wait afterwards (a blocked thread's held stack does not change).
  thread_state waiter = describe_waiter(w, now);
  if (w.slot->extra.wait_seq.load(std::memory_order_acquire) != w.seq) return false;
  p.thread = waiter.thread;
  p.threads.push_back(std::move(waiter));

  // Follow held-by -> waits-for while the holders are themselves blocked (then their state is stable).
  // A holder that is running (or stopped waiting while we looked) ends the chain with an empty
  // waits_for and the locks it holds (a racy snapshot: it runs); a lock left held by a thread that
  // exited ends it with that thread, marked exited.
  waiting_thread cur = w;
  std::vector<thread_slot*> seen{w.slot};
  for (int hops = 0; hops < 16 && cur.kind != wait_kind::condition; ++hops) {
    const auto holders = holders_of(cur.waits_on, cur.mode, cur.slot);
    if (holders.empty()) {
      for (const orphan& o : orphans()) {
        if (o.lock != cur.waits_on) continue;
        thread_state gone;
        gone.thread = o.holder;
        gone.holds = {o.held};
        gone.exited = true;
        p.threads.push_back(std::move(gone));
        break;
      }
      break;
    }
    thread_slot* h = holders.front();
    if (std::find(seen.begin(), seen.end(), h) != seen.end()) break;
    seen.push_back(h);
    thread_state running;
    running.thread = describe(*h);
    waiting_thread next;
    label_ref next_label;
    if (!read_wait(h, &next) || !stable_label(next, &next_label)) {
      running.holds = held_locks(&h->rec);
      p.threads.push_back(std::move(running));
      break;
    }
    thread_state hs = describe_waiter(next, now);
    if (h->extra.wait_seq.load(std::memory_order_acquire) != next.seq) {  // woke up while we looked
      running.holds = held_locks(&h->rec);
      p.threads.push_back(std::move(running));
      break;
    }
    p.threads.push_back(std::move(hs));
    cur = next;
  }
  return true;
}

namespace {

void watch(void* arg) {
  const watch_config* c = static_cast<const watch_config*>(arg);
  const auto threshold = std::chrono::milliseconds(c->long_wait_ms);
  const auto period = std::clamp(threshold / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
  for (;;) {
    std::this_thread::sleep_for(period);
    const std::int64_t now = steady_now_ns();
    for (const waiting_thread& w : waiting_threads()) {
      if (now - w.since_ns < std::chrono::duration_cast<std::chrono::nanoseconds>(threshold).count()) continue;
      if (idle_wait(w)) continue;  // an idle thread (a pool worker without work) is not a hang
      if (w.slot->extra.long_wait_reported.load(std::memory_order_relaxed) == w.seq) continue;
      w.slot->extra.long_wait_reported.store(w.seq, std::memory_order_relaxed);
      problem p;
      if (long_wait_problem(w, now, &p)) c->sink->raise(p);
    }
  }
}

}  // namespace

void start_watchdog(unsigned long_wait_ms, report_sink& sink) {
  auto* c = new watch_config{long_wait_ms, &sink};  // never destroyed: the thread runs until exit
  g_watched.store(c, std::memory_order_release);
  start_internal_thread(&watch, c);  // no thread: no long_wait reports (never a false one)
}

void restart_watchdog_after_fork() noexcept {
  if (watch_config* c = g_watched.load(std::memory_order_acquire)) start_internal_thread(&watch, c);
}

}  // namespace lockgraph::detail
