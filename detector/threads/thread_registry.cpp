// thread_registry.cpp: lock-free registry of thread slots (see thread_registry.hpp).
#include "threads/thread_registry.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <new>
#include <thread>

#include "base/labels.hpp"

namespace lockgraph::detail {
namespace {

std::atomic<thread_slot*> g_head{nullptr};
std::atomic<std::uint64_t> g_next_number{1};
std::atomic<std::size_t> g_live{0};
constexpr std::size_t kInternalThreads = 8;
std::atomic<pid_t> g_internal[kInternalThreads];

}  // namespace

lock_meta destroyed_lock{site{"<destroyed lock>", 0}, lock_type::mutex};

held_entry* held_at(thread_record* t, std::uint32_t i, bool grow) noexcept {
  if (i < kInlineHeld) return &t->held[i];
  i -= kInlineHeld;
  std::atomic<held_chunk*>* link = &t->extra->overflow;
  for (;;) {
    held_chunk* c = link->load(std::memory_order_acquire);
    if (c == nullptr) {
      if (!grow) return nullptr;
      c = new (std::nothrow) held_chunk();
      if (c == nullptr) return nullptr;
      link->store(c, std::memory_order_release);
    }
    if (i < held_chunk::kSize) return &c->entries[i];
    i -= held_chunk::kSize;
    link = &c->next;
  }
}

held_entry* own_held_at_moving(thread_record* t, std::uint32_t i, bool grow) noexcept {
  if (i < kInlineHeld) return &t->held[i];
  i -= kInlineHeld;
  thread_extra& x = *t->extra;
  std::atomic<held_chunk*>* link = &x.overflow;
  std::uint32_t base = 0;
  if (x.cursor != nullptr && i >= x.cursor_base) {
    if (i - x.cursor_base < held_chunk::kSize) return &x.cursor->entries[i - x.cursor_base];
    link = &x.cursor->next;
    base = x.cursor_base + held_chunk::kSize;
  }
  for (;;) {
    held_chunk* c = link->load(std::memory_order_acquire);
    if (c == nullptr) {
      if (!grow) return nullptr;
      c = new (std::nothrow) held_chunk();
      if (c == nullptr) return nullptr;
      link->store(c, std::memory_order_release);
    }
    if (i - base < held_chunk::kSize) {
      x.cursor = c;
      x.cursor_base = base;
      return &c->entries[i - base];
    }
    base += held_chunk::kSize;
    link = &c->next;
  }
}

thread_slot* acquire_slot() noexcept {
  // Reuse a free slot first: memory stays proportional to the peak number of live threads.
  for (thread_slot* s = g_head.load(std::memory_order_acquire); s != nullptr;
       s = s->next.load(std::memory_order_acquire)) {
    bool expected = false;
    if (!s->extra.in_use.load(std::memory_order_relaxed) &&
        s->extra.in_use.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
      g_live.fetch_add(1, std::memory_order_seq_cst);
      return s;
    }
  }
  auto* s = new (std::nothrow) thread_slot();
  if (s == nullptr) return nullptr;
  s->rec.extra = &s->extra;
  s->extra.in_use.store(true, std::memory_order_relaxed);
  g_live.fetch_add(1, std::memory_order_seq_cst);
  thread_slot* head = g_head.load(std::memory_order_relaxed);
  do {
    s->next.store(head, std::memory_order_relaxed);
  } while (!g_head.compare_exchange_weak(head, s, std::memory_order_acq_rel, std::memory_order_relaxed));
  return s;
}

void release_slot(thread_slot* s) noexcept {
  {
    std::lock_guard<std::mutex> g(s->extra.name_mu);
    s->extra.name.clear();
    s->extra.kernel_name.clear();
    s->extra.kernel_name_read_ns = 0;
  }
  s->rec.depth.store(0, std::memory_order_release);
  s->rec.bypass = 0;
  s->extra.deep_held.clear();
  s->extra.deep_upto = kInlineHeld;
  s->extra.waits_on.store(nullptr, std::memory_order_relaxed);
  s->extra.wait_type.store(wait_kind::none, std::memory_order_relaxed);
  s->extra.wait_counted.store(false, std::memory_order_relaxed);
  s->extra.in_use.store(false, std::memory_order_release);
  g_live.fetch_sub(1, std::memory_order_seq_cst);
}

std::size_t live_thread_count() noexcept { return g_live.load(std::memory_order_seq_cst); }

void note_internal_thread() noexcept {
  const auto tid = static_cast<pid_t>(::syscall(SYS_gettid));
  for (auto& slot : g_internal) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, tid, std::memory_order_acq_rel)) return;
  }
}

bool start_internal_thread(void (*fn)(void*), void* arg) noexcept {
  // Shared: the caller may stop waiting (after its second) before the thread gets to say it runs.
  struct gate {
    std::mutex mu;
    std::condition_variable cv;
    bool running = false;
  };
  std::shared_ptr<gate> g;
  try {
    g = std::make_shared<gate>();
    std::thread([g, fn, arg]() mutable {
      note_internal_thread();
      {
        std::lock_guard<std::mutex> lk(g->mu);
        g->running = true;
      }
      g->cv.notify_all();
      g.reset();
      fn(arg);
    }).detach();
  } catch (...) {  // std::bad_alloc, std::system_error: no thread
    return false;
  }
  std::unique_lock<std::mutex> lk(g->mu);
  g->cv.wait_for(lk, std::chrono::seconds(1), [&] { return g->running; });
  return true;
}

bool is_internal_thread(pid_t tid) noexcept {
  for (const auto& slot : g_internal) {
    if (slot.load(std::memory_order_acquire) == tid) return true;
  }
  return false;
}

void forget_internal_threads_after_fork() noexcept {
  for (auto& slot : g_internal) slot.store(0, std::memory_order_relaxed);
}

thread_slot* first_slot() noexcept { return g_head.load(std::memory_order_acquire); }

bool read_wait(thread_slot* s, waiting_thread* out) noexcept {
  out->slot = s;
  out->seq = s->extra.wait_seq.load(std::memory_order_acquire);
  out->waits_on = s->extra.waits_on.load(std::memory_order_relaxed);
  out->kind = s->extra.wait_type.load(std::memory_order_relaxed);
  out->mode = s->extra.wait_mode.load(std::memory_order_relaxed);
  out->since_ns = s->extra.wait_since_ns.load(std::memory_order_relaxed);
  return (out->seq & 1) != 0 && out->waits_on != nullptr && out->kind != wait_kind::none;
}

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
    h.lock = label_ref::of(*m).str();
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

bool holds_lock(thread_record* t, const lock_meta* m) noexcept {
  const std::uint32_t d = t->depth.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < d; ++i) {
    const held_entry* e = held_at(t, i);
    if (e == nullptr) return false;
    if (e->lock.load(std::memory_order_relaxed) == m) return true;
  }
  return false;
}

std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::uint64_t next_thread_number(bool is_main) noexcept {
  return is_main ? 0 : g_next_number.fetch_add(1, std::memory_order_relaxed);
}

namespace {

// /proc/self/task/<tid>/comm, without the trailing newline; empty if unreadable.
std::string kernel_thread_name(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/comm", static_cast<int>(tid));
  std::FILE* f = std::fopen(path, "re");
  if (f == nullptr) return {};
  char buf[64] = {};
  const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  if (!ok) return {};
  std::string name(buf);
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
  return name;
}

}  // namespace

thread_ref describe(const thread_slot& s) {
  thread_ref r;
  r.id = s.extra.number.load(std::memory_order_relaxed);
  const pid_t tid = s.extra.os_tid.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> g(s.extra.name_mu);
  r.name = s.extra.name;
  if (r.name.empty() && tid != 0) {
    const std::int64_t now = steady_now_ns();
    if (s.extra.kernel_name_read_ns == 0 || now - s.extra.kernel_name_read_ns > 100'000'000) {
      // A thread inherits the process name; only a name someone set tells the reader anything.
      // Never destroyed: a static made at its first use is destroyed before the user's statics made
      // earlier, whose destructors may still raise reports that describe threads.
      static const std::string* const process_name =
          new std::string(kernel_thread_name(static_cast<pid_t>(::getpid())));
      std::string kernel = kernel_thread_name(tid);
      s.extra.kernel_name = kernel != *process_name ? std::move(kernel) : std::string();
      s.extra.kernel_name_read_ns = now;
    }
    r.name = s.extra.kernel_name;
  }
  if (r.name.empty() && r.id == 0) r.name = "main";
  return r;
}

void drop_other_threads_after_fork(thread_slot* self) noexcept {
  for (thread_slot* s = first_slot(); s != nullptr; s = s->next.load(std::memory_order_acquire)) {
    if (s == self) continue;
    // The mutex may have been held by a thread that is gone; the child owns it now.
    new (&s->extra.name_mu) std::mutex();
    new (&s->extra.wait_stack_mu) std::mutex();
    if (s->extra.in_use.load(std::memory_order_relaxed)) release_slot(s);
  }
}

}  // namespace lockgraph::detail
