// runtime: the detector's process-wide state, created on first use and never destroyed, so that locks
// used by static constructors and destructors (and by threads still running at exit) keep working.
//
// Layer: runtime/, the top of detector/. It owns the state and wires the parts below it (graph/,
// threads/, report/, base/) together; nothing below includes anything from here.
#ifndef LOCKGRAPH_DETECTOR_RUNTIME_HPP
#define LOCKGRAPH_DETECTOR_RUNTIME_HPP

#include "base/options.hpp"
#include "graph/declared_order.hpp"
#include "graph/class_graph.hpp"
#include "graph/lock_order_graph.hpp"
#include "report/report_sink.hpp"
#include "threads/thread_registry.hpp"

namespace lockgraph::detail {

struct runtime {
  options opts;  // immutable after construction
  lock_order_graph graph;
  declared_order order;  // lock_order=FILE; immutable after construction
  class_graph classes;  // lock classes and gate sets; fed from the slow path only
  report_sink sink{opts};
};

// The runtime; the first call parses LOCKGRAPH_OPTIONS (a bad value prints one line and exits with
// status 2). Thread-safe.
runtime& rt() noexcept;

// The runtime if it exists already, else nullptr (for paths that must not create it).
runtime* rt_if_created() noexcept;

// The calling thread's slot, registering the thread if needed; nullptr when checking is off.
// Defined in runtime.cpp.
thread_slot* current_slot() noexcept;

// Flushes stdio and aborts: the end of a deadlock report.
[[noreturn]] void die_after_report() noexcept;

// True once the process has begun to exit: the main thread's thread_local destructors ran (exit(), or
// return from main; also pthread_exit() of the main thread, which lockgraph cannot tell apart).
// Defined in runtime.cpp.
bool process_exiting() noexcept;
void note_process_exiting() noexcept;

// lockgraph::ignore_scope: true while the calling thread is inside one (control.cpp). Thread-local.
bool order_ignored() noexcept;

// lockgraph::forget(): drops the node of `m` from the graph and from the calling thread's own held
// entries (they get the new node on their next slow path). hooks.cpp.
void forget_in_own_stack(lock_meta& m) noexcept;

// The calling thread is the process's main thread (its tid is the pid; in a forked child, the thread
// that called fork()).
bool is_main_thread() noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_RUNTIME_HPP
