// runtime.cpp: the process life cycle: creation of the process-wide state (options, watchdog, dump
// signal), fork and process exit. The public functions are in api.cpp, the hooks in hooks.cpp.
#include "runtime/runtime.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/labels.hpp"
#include "base/read_file.hpp"
#include "base/stack_trace.hpp"
#include "lockgraph/options.hpp"
#include "runtime/dump_signal.hpp"
#include "runtime/edge_recorder.hpp"
#include "threads/all_blocked.hpp"
#include "threads/misuse.hpp"
#include "threads/watchdog.hpp"

namespace lockgraph::detail {
namespace {

std::atomic<runtime*> g_runtime{nullptr};
std::atomic<bool> g_exiting{false};

// fork() in a multithreaded program: the child has one thread. The detector's own locks are held across
// the fork (so no other thread is inside them at that instant), and in the child every other thread's
// slot is dropped: their held locks and waits died with them.
void before_fork() noexcept {
  runtime* r = g_runtime.load(std::memory_order_acquire);
  if (r == nullptr) return;
  r->graph.lock_for_fork();
  r->classes.lock_for_fork();
  r->sink.lock_for_fork();
  lock_labels_for_fork();  // after the graph's lock: a graph node may drop a name's last reference
  lock_edge_recorder_for_fork();
}

void after_fork_in_parent() noexcept {
  runtime* r = g_runtime.load(std::memory_order_acquire);
  if (r == nullptr) return;
  unlock_edge_recorder_after_fork();
  unlock_labels_after_fork();
  r->sink.unlock_after_fork();
  r->classes.unlock_after_fork();
  r->graph.unlock_after_fork();
}

// The child is a process of its own: its reports, report count (so its exitcode), notices and dump
// signal are its own; what the parent found stays the parent's. The lock-order graph is inherited (the
// child's locks are the parent's, in the same order), so an inversion the parent reported is not
// reported again by the child.
void after_fork_in_child() noexcept {
  after_fork_in_parent();
  runtime* r = g_runtime.load(std::memory_order_acquire);
  thread_record* t = tl_record;
  thread_slot* self = t != nullptr && t->extra != nullptr ? slot_of(t) : nullptr;
  if (self != nullptr) self->extra.os_tid.store(static_cast<pid_t>(::syscall(SYS_gettid)), std::memory_order_relaxed);
  forget_internal_threads_after_fork();
  all_blocked_after_fork();
  drop_other_threads_after_fork(self);
  if (r != nullptr) r->sink.reset_after_fork();
  restart_watchdog_after_fork();
  if (r != nullptr) restart_signal_dumper_after_fork(*r);
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

// lock_order=FILE: read and parse it once; an unreadable or malformed file is one line and exit 2,
// like a bad option (a declaration that silently checks nothing would make zero reports meaningless).
void load_declared_order(runtime& r) noexcept {
  const std::string& path = r.opts.lock_order;
  if (path.empty()) return;
  std::string text;
  if (const int err = read_whole_file(path, &text); err != 0) {
    std::fprintf(stderr, "lockgraph: lock_order=%s: cannot read it (%s); expected a lock order file ('A -> B' lines)\n",
                 path.c_str(), std::strerror(err));
    std::fflush(stderr);
    std::_Exit(2);
  }
  if (const std::string error = r.order.parse(text, path); !error.empty()) {
    std::fprintf(stderr, "lockgraph: lock_order: %s\n", error.c_str());
    std::fflush(stderr);
    std::_Exit(2);
  }
}

// The program's built-in rules, then suppressions=FILE's. A bad rule or unreadable file: one line on
// stderr, exit status 2, as for a bad option.
void load_suppressions(runtime& r) noexcept {
  suppressions rules;
  std::string error;
  if (const char* built_in = lockgraph_default_suppressions(); built_in != nullptr) {
    error = rules.add(built_in, "lockgraph_default_suppressions()");
  }
  if (error.empty() && !r.opts.suppressions.empty()) error = rules.add_file(r.opts.suppressions);
  if (!error.empty()) {
    std::fprintf(stderr, "lockgraph: %s\n", error.c_str());
    std::fflush(stderr);
    std::_Exit(2);
  }
  r.sink.set_suppressions(std::move(rules));
}

runtime* create_runtime() noexcept {
  auto* r = new runtime();  // never destroyed: locks may be used by static destructors
  // The program's built-in defaults first; LOCKGRAPH_OPTIONS overrides them key by key.
  apply_options(*r, lockgraph_default_options(), "lockgraph_default_options()");
  apply_options(*r, std::getenv("LOCKGRAPH_OPTIONS"), "LOCKGRAPH_OPTIONS");
  if (!r->opts.strip_path_prefix.empty()) set_strip_path_prefix(r->opts.strip_path_prefix);
  load_suppressions(*r);
  r->graph.set_max_edges(r->opts.max_edges);
  r->sink.set_before_abort(&write_edge_log);
  load_declared_order(*r);
  r->classes.set_report_gated(r->opts.gate_locks_report);
  r->classes.set_classes(r->opts.classes);
  ::pthread_atfork(&before_fork, &after_fork_in_parent, &after_fork_in_child);
  return r;
}

}  // namespace

runtime& rt() noexcept {
  static runtime* const r = [] {
    runtime* created = create_runtime();
    g_runtime.store(created, std::memory_order_release);
    // all_threads_blocked ends the process like a deadlock (or, with abort_on_deadlock=0, keeps blocking).
    configure_all_blocked(created->sink, created->opts.abort_on_deadlock ? &die_after_report : nullptr);
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
  write_edge_log();
  std::fflush(nullptr);
  std::abort();
}

bool process_exiting() noexcept { return g_exiting.load(std::memory_order_acquire); }
void note_process_exiting() noexcept { g_exiting.store(true, std::memory_order_release); }
bool is_main_thread() noexcept { return ::syscall(SYS_gettid) == ::getpid(); }

namespace {

// exit() runs the calling thread's thread_local destructors first, then the atexit list and the static
// destructors. A thread_local of the main thread whose destructor notes that the process is exiting,
// made at load time (so whether or not the main thread ever uses a lock), tells on_destroy() that
// exit's static destructors are running (see destroyed_while_held()).
struct exit_marker {
  bool armed = false;
  ~exit_marker() {
    if (armed) note_process_exiting();
  }
};
thread_local exit_marker t_exit_marker;

__attribute__((constructor)) void arm_exit_marker() {
  if (is_main_thread()) t_exit_marker.armed = true;  // a library loaded by another thread: not main's
}

// Runs after the C++ static destructors of the executable (it is a .fini_array entry, and those run
// after the atexit list): every report of the program's life is in by then. Reports locks still held,
// says which reports repeated and which suppressions matched, and applies exitcode=N.
__attribute__((destructor)) void lockgraph_process_exit() {
  runtime* r = rt_if_created();
  if (r == nullptr || !r->opts.enabled) return;
  note_process_exiting();
  if (r->opts.check_at_exit) {
    // The thread ending the process: the main thread keeps its slot to the end (hooks.cpp, exit_guard).
    thread_record* t = tl_record;
    thread_slot* ending = t != nullptr && t->extra != nullptr ? slot_of(t) : nullptr;
    if (ending != nullptr) ++t->bypass;  // the sink's handler runs here: its locks are not checked
    for (const problem& p : locks_held_at_exit(ending)) r->sink.raise(p);
    if (ending != nullptr) --t->bypass;
  }
  // Cycles a gate lock serialises were kept, not reported: one line says so (and how to see them).
  if (r->opts.print_reports) {
    const std::string gated = r->classes.gated_summary();
    if (!gated.empty()) r->sink.print(gated + "\n");
  }
  r->sink.finish();
  write_edge_log();
  if (r->opts.exitcode >= 0 && r->sink.count() > 0) {
    std::fflush(nullptr);
    ::_exit(r->opts.exitcode);
  }
}

}  // namespace
}  // namespace lockgraph::detail
