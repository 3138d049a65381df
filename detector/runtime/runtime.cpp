// runtime.cpp: the process life cycle: creation of the process-wide state (options, watchdog, dump
// signal), fork and process exit. The public functions are in api.cpp, the hooks in hooks.cpp.
#include "runtime/runtime.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/stack_trace.hpp"
#include "lockgraph/options.hpp"
#include "runtime/dump_signal.hpp"
#include "threads/misuse.hpp"
#include "threads/watchdog.hpp"

namespace lockgraph::detail {
namespace {

std::atomic<runtime*> g_runtime{nullptr};

// fork() in a multithreaded program: the child has one thread. The detector's own locks are held across
// the fork (so no other thread is inside them at that instant), and in the child every other thread's
// slot is dropped: their held locks and waits died with them.
void before_fork() noexcept {
  runtime* r = g_runtime.load(std::memory_order_acquire);
  if (r == nullptr) return;
  r->graph.lock_for_fork();
  r->sink.lock_for_fork();
}

void after_fork_in_parent() noexcept {
  runtime* r = g_runtime.load(std::memory_order_acquire);
  if (r == nullptr) return;
  r->sink.unlock_after_fork();
  r->graph.unlock_after_fork();
}

void after_fork_in_child() noexcept {
  after_fork_in_parent();
  thread_record* t = tl_record;
  drop_other_threads_after_fork(t != nullptr && t->extra != nullptr ? slot_of(t) : nullptr);
  restart_watchdog_after_fork();
}

// A bad option string: one line on stderr, exit status 2 (as the sanitizers do).
void apply_options(runtime& r, const char* text, std::string_view source) noexcept {
  if (text == nullptr) return;
  const std::string error = parse_options(text, r.opts, source);
  if (error.empty()) return;
  std::fprintf(stderr, "lockgraph: %s\n", error.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

runtime* create_runtime() noexcept {
  auto* r = new runtime();  // never destroyed: locks may be used by static destructors
  // The program's built-in defaults first; LOCKGRAPH_OPTIONS overrides them key by key.
  apply_options(*r, lockgraph_default_options(), "lockgraph_default_options()");
  apply_options(*r, std::getenv("LOCKGRAPH_OPTIONS"), "LOCKGRAPH_OPTIONS");
  if (!r->opts.strip_path_prefix.empty()) set_strip_path_prefix(r->opts.strip_path_prefix);
  r->graph.set_max_edges(r->opts.max_edges);
  ::pthread_atfork(&before_fork, &after_fork_in_parent, &after_fork_in_child);
  return r;
}

}  // namespace

runtime& rt() noexcept {
  static runtime* const r = [] {
    runtime* created = create_runtime();
    g_runtime.store(created, std::memory_order_release);
    if (created->opts.enabled && created->opts.long_wait_ms > 0) {
      start_watchdog(created->opts.long_wait_ms, created->sink);
    }
    if (created->opts.enabled && created->opts.dump_signal > 0) start_signal_dumper(*created);
    return created;
  }();
  return *r;
}

runtime* rt_if_created() noexcept { return g_runtime.load(std::memory_order_acquire); }

thread_slot* current_slot() noexcept {
  thread_record* t = tl_record;
  if (t == nullptr) t = register_thread();
  return t->extra != nullptr ? slot_of(t) : nullptr;
}

[[noreturn]] void die_after_report() noexcept {
  std::fflush(nullptr);
  std::abort();
}

namespace {

// Runs after the C++ static destructors of the executable (it is a .fini_array entry, and those run
// after the atexit list): every report of the program's life is in by then. Reports locks still held
// and applies exitcode=N.
__attribute__((destructor)) void lockgraph_process_exit() {
  runtime* r = rt_if_created();
  if (r == nullptr || !r->opts.enabled) return;
  if (r->opts.check_at_exit) {
    for (const problem& p : locks_held_now("at process exit")) r->sink.raise(p);
  }
  if (r->opts.exitcode >= 0 && r->sink.count() > 0) {
    std::fflush(nullptr);
    ::_exit(r->opts.exitcode);
  }
}

}  // namespace
}  // namespace lockgraph::detail
