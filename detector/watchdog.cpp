// watchdog.cpp: see watchdog.hpp.
#include "watchdog.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "runtime.hpp"
#include "wait_for_graph.hpp"

namespace lockgraph::detail {
namespace {

std::atomic<runtime*> g_watched{nullptr};

// Copies the label of what `w` waits on, valid only if `w` is still in the same wait afterwards: a
// primitive somebody waits on is alive, and labels themselves are never freed.
bool stable_label(const waiting_thread& w, label_ref* out) {
  *out = label_ref::of(*w.waits_on);
  return w.slot->extra.wait_seq.load(std::memory_order_acquire) == w.seq;
}

}  // namespace

bool long_wait_report(const waiting_thread& w, std::int64_t now, report* out, std::string* key) {
  label_ref waited;
  if (!stable_label(w, &waited)) return false;
  report& rep = *out;
  rep.kind = report_kind::long_wait;
  thread_state waiter;
  waiter.thread = describe(*w.slot);
  waiter.waits_for = waited.str();
  waiter.waits_shared = (w.mode & mode_shared) != 0;
  waiter.waited_ms = static_cast<std::uint64_t>((now - w.since_ns) / 1000000);
  rep.locks.push_back(waiter.waits_for);
  rep.thread = waiter.thread;
  rep.threads.push_back(waiter);
  std::string chain = thread_label(waiter.thread) + " blocked " + std::to_string(waiter.waited_ms) + " ms on " +
                      (w.kind == wait_kind::condition ? "condition variable " : "") + waiter.waits_for;

  // Follow held-by -> waits-for while the holders are themselves blocked (then their state is stable).
  waiting_thread cur = w;
  std::vector<thread_slot*> seen{w.slot};
  for (int hops = 0; hops < 16 && cur.kind != wait_kind::condition; ++hops) {
    const auto holders = holders_of(cur.waits_on, cur.mode, cur.slot);
    if (holders.empty()) break;
    thread_slot* h = holders.front();
    if (std::find(seen.begin(), seen.end(), h) != seen.end()) break;
    seen.push_back(h);
    thread_state hs;
    hs.thread = describe(*h);
    chain += ", held by " + thread_label(hs.thread);
    const std::uint64_t seq = h->extra.wait_seq.load(std::memory_order_acquire);
    waiting_thread next{h, seq, h->extra.waits_on.load(std::memory_order_relaxed),
                        h->extra.wait_type.load(std::memory_order_relaxed),
                        h->extra.wait_mode.load(std::memory_order_relaxed),
                        h->extra.wait_since_ns.load(std::memory_order_relaxed)};
    label_ref next_label;
    if ((seq & 1) == 0 || next.waits_on == nullptr || next.kind == wait_kind::none || !stable_label(next, &next_label)) {
      chain += " (running)";
      rep.threads.push_back(std::move(hs));
      break;
    }
    hs = describe_waiter(next, now);
    if (h->extra.wait_seq.load(std::memory_order_acquire) != seq) break;  // woke up while we looked
    chain += ", which waits for " + hs.waits_for;
    rep.locks.push_back(hs.waits_for);
    rep.threads.push_back(std::move(hs));
    cur = next;
  }
  rep.summary = "long wait: " + chain;
  // Once per wait: the key carries the thread and its wait sequence number.
  *key = "long_wait " + std::to_string(waiter.thread.id) + " " + std::to_string(w.seq);
  return true;
}

namespace {

void watch(runtime* r) {
  const auto threshold = std::chrono::milliseconds(r->opts.long_wait_ms);
  const auto period = std::clamp(threshold / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
  for (;;) {
    std::this_thread::sleep_for(period);
    const std::int64_t now = steady_now_ns();
    for (const waiting_thread& w : waiting_threads()) {
      if (now - w.since_ns < std::chrono::duration_cast<std::chrono::nanoseconds>(threshold).count()) continue;
      if (w.slot->extra.long_wait_reported.load(std::memory_order_relaxed) == w.seq) continue;
      w.slot->extra.long_wait_reported.store(w.seq, std::memory_order_relaxed);
      report rep;
      std::string key;
      if (long_wait_report(w, now, &rep, &key)) r->sink.raise(std::move(rep), key);
    }
  }
}

}  // namespace

void start_watchdog(runtime& r) {
  g_watched.store(&r, std::memory_order_release);
  std::thread(watch, &r).detach();
}

void restart_watchdog_after_fork() noexcept {
  if (runtime* r = g_watched.load(std::memory_order_acquire)) std::thread(watch, r).detach();
}

}  // namespace lockgraph::detail
