// all_blocked.cpp: see all_blocked.hpp.
#include "threads/all_blocked.hpp"

#include <dirent.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "base/labels.hpp"
#include "threads/misuse.hpp"
#include "threads/wait_for_graph.hpp"

namespace lockgraph::detail {

notify_shard g_notify_shards[kNotifyShards];

namespace {

std::atomic<std::size_t> g_blocked{0};  // threads in a counted wait
std::atomic<report_sink*> g_sink{nullptr};
std::atomic<void (*)()> g_die{nullptr};

// The checker thread's wake-up. Never destroyed; constructed anew in place in a fork() child (another
// thread may have held the mutex at the fork).
std::mutex* g_mu = new std::mutex();
std::condition_variable* g_cv = new std::condition_variable();
bool g_poked = false;  // guarded by *g_mu
std::atomic<bool> g_started{false};

bool may_all_be_blocked() noexcept {
  const std::size_t blocked = g_blocked.load(std::memory_order_seq_cst);
  return blocked > 0 && blocked >= live_thread_count();
}

void check_loop(void*) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(*g_mu);
      g_cv->wait(lk, [] { return g_poked; });
      g_poked = false;
    }
    auto backoff = std::chrono::milliseconds(1);
    while (may_all_be_blocked()) {
      problem p;
      if (find_all_blocked(&p)) {
        report_sink* sink = g_sink.load(std::memory_order_acquire);
        void (*die)() = g_die.load(std::memory_order_acquire);
        if (sink != nullptr && sink->raise(p) && die != nullptr) die();
        break;  // reported (and kept blocking) or a duplicate: wait for the next change
      }
      // Not (yet) confirmed: a thread that just exited may linger in /proc, a woken thread may not have
      // run yet, a thread outside lockgraph may still exit. Look again, less and less often.
      std::unique_lock<std::mutex> lk(*g_mu);
      g_cv->wait_for(lk, backoff, [] { return g_poked; });
      g_poked = false;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
    }
  }
}

void poke() noexcept {
  if (g_sink.load(std::memory_order_acquire) == nullptr) return;
  bool expected = false;
  if (!g_started.load(std::memory_order_acquire) && g_started.compare_exchange_strong(expected, true)) {
    if (!start_internal_thread(&check_loop, nullptr)) return;  // no thread, no check (never a false alarm)
  }
  {
    std::lock_guard<std::mutex> g(*g_mu);
    g_poked = true;
  }
  g_cv->notify_one();
}

struct sleeper {
  waiting_thread w;
  const std::atomic<std::uint64_t>* notifies;
  std::uint64_t seen;
};

#if defined(__SANITIZE_THREAD__)
#define LOCKGRAPH_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LOCKGRAPH_UNDER_TSAN 1
#endif
#endif

// ThreadSanitizer's runtime starts a background thread of its own (before main, every signal blocked
// but the unblockable ones): in a TSan build only, such a task is not counted as the program's.
bool sanitizer_thread(pid_t tid) {
#if defined(LOCKGRAPH_UNDER_TSAN)
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/status", static_cast<int>(tid));
  std::FILE* f = std::fopen(path, "re");
  if (f == nullptr) return false;
  char line[256];
  bool all_blocked = false;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "SigBlk:", 7) == 0) {
      all_blocked = std::strstr(line, "fffffffe7ffbfeff") != nullptr;
      break;
    }
  }
  std::fclose(f);
  return all_blocked;
#else
  (void)tid;
  return false;
#endif
}

// Every task of the process is one of `threads` (by kernel tid) or lockgraph's own.
bool every_task_is_one_of(const std::vector<sleeper>& threads) {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return false;
  std::size_t matched = 0;
  bool ok = true;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const auto tid = static_cast<pid_t>(std::atol(e->d_name));
    if (is_internal_thread(tid)) continue;
    if (std::none_of(threads.begin(), threads.end(), [&](const sleeper& z) { return z.w.slot->extra.os_tid == tid; }) &&
        sanitizer_thread(tid)) {
      continue;
    }
    const bool known = std::any_of(threads.begin(), threads.end(),
                                   [&](const sleeper& z) { return z.w.slot->extra.os_tid == tid; });
    if (!known) {
      ok = false;
      break;
    }
    ++matched;
  }
  ::closedir(dir);
  return ok && matched == threads.size();
}

bool same_wait(const sleeper& z) {
  const thread_extra& x = z.w.slot->extra;
  return x.wait_seq.load(std::memory_order_acquire) == z.w.seq && x.wait_counted.load(std::memory_order_acquire) &&
         (z.notifies == nullptr || z.notifies->load(std::memory_order_acquire) == z.seen);
}

}  // namespace

void configure_all_blocked(report_sink& sink, void (*die)()) noexcept {
  g_die.store(die, std::memory_order_release);
  g_sink.store(&sink, std::memory_order_release);
}

void count_blocked_wait(thread_extra& x, const std::atomic<std::uint64_t>* notifies) noexcept {
  if (notifies != nullptr) x.wait_notifies_seen.store(notifies->load(std::memory_order_acquire), std::memory_order_relaxed);
  x.wait_notifies.store(notifies, std::memory_order_relaxed);
  x.wait_counted.store(true, std::memory_order_release);
  g_blocked.fetch_add(1, std::memory_order_seq_cst);
  if (may_all_be_blocked()) poke();
}

void uncount_blocked_wait(thread_extra& x) noexcept {
  if (!x.wait_counted.load(std::memory_order_relaxed)) return;
  x.wait_counted.store(false, std::memory_order_relaxed);
  g_blocked.fetch_sub(1, std::memory_order_seq_cst);
}

void thread_left() noexcept {
  if (may_all_be_blocked()) poke();
}

bool find_all_blocked(problem* out) {
  std::vector<sleeper> v;
  bool all = true;
  for_each_live_thread([&](thread_slot& s) {
    if (!all) return;
    sleeper z{};
    if (!read_wait(&s, &z.w) || !s.extra.wait_counted.load(std::memory_order_acquire)) {
      all = false;  // running (or blocked elsewhere): it may wake the others
      return;
    }
    z.notifies = s.extra.wait_notifies.load(std::memory_order_acquire);
    z.seen = s.extra.wait_notifies_seen.load(std::memory_order_acquire);
    v.push_back(z);
  });
  if (!all || v.empty()) return false;
  // Nothing any of them waits for can come: no notify since a condition wait began, every awaited
  // lock held by one of them (blocked, so it cannot release it) or left held by an exited thread.
  const std::vector<orphan> gone = orphans();
  std::vector<orphan> exited_holders;
  for (const sleeper& z : v) {
    if (z.w.kind == wait_kind::condition) {
      if (z.notifies == nullptr || z.notifies->load(std::memory_order_acquire) != z.seen) return false;
      continue;
    }
    const auto holders = holders_of(z.w.waits_on, z.w.mode, z.w.slot);
    if (holders.empty()) {
      const auto o = std::find_if(gone.begin(), gone.end(), [&](const orphan& g) { return g.lock == z.w.waits_on; });
      if (o == gone.end()) return false;  // free: it may be taking it right now
      exited_holders.push_back(*o);
      continue;
    }
    for (thread_slot* h : holders) {
      if (std::none_of(v.begin(), v.end(), [&](const sleeper& y) { return y.w.slot == h; })) return false;
    }
  }
  if (!every_task_is_one_of(v)) return false;
  // Second pass: each of them stayed in the same wait throughout, and no notify came meanwhile.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (const sleeper& z : v) {
    if (!same_wait(z)) return false;
  }

  // Confirmed: every thread is blocked for good, so its state and labels stay valid.
  const std::int64_t now = steady_now_ns();
  out->kind = report_kind::all_threads_blocked;
  std::sort(v.begin(), v.end(),
            [](const sleeper& a, const sleeper& b) { return a.w.slot->extra.number < b.w.slot->extra.number; });
  for (const sleeper& z : v) {
    out->threads.push_back(describe_waiter(z.w, now));
    out->waits.push_back({z.w.seq, z.w.kind == wait_kind::condition});
  }
  for (const orphan& o : exited_holders) {
    const bool listed = std::any_of(out->threads.begin(), out->threads.end(), [&](const thread_state& t) {
      return t.exited && t.thread.id == o.holder.id && !t.holds.empty() && t.holds.front().lock == o.held.lock;
    });
    if (listed) continue;
    thread_state ts;
    ts.thread = o.holder;
    ts.holds = {o.held};
    ts.exited = true;
    out->threads.push_back(std::move(ts));
  }
  const thread_state& first = out->threads.front();
  out->thread = first.thread;
  out->held = first.holds;
  out->stack = first.stack;
  return true;
}

void all_blocked_after_fork() noexcept {
  // Only the forking thread runs, and it is not waiting; the checker thread is gone.
  g_blocked.store(0, std::memory_order_relaxed);
  // In place: the child has one thread, nobody else can touch them; a new allocation would leave the
  // old ones unreferenced (a leak to LeakSanitizer).
  new (g_mu) std::mutex();
  new (g_cv) std::condition_variable();
  g_poked = false;
  g_started.store(false, std::memory_order_relaxed);
}

}  // namespace lockgraph::detail
