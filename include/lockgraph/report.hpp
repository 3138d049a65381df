// lockgraph/report.hpp: what lockgraph found, as plain values.
//
// Every problem lockgraph detects becomes one `report`, raised once per bug per process: a problem
// whose fingerprint was raised before only adds to that report's `occurrences`, and a problem that a
// suppression rule matches (suppressions=FILE, lockgraph_default_suppressions()) raises nothing.
// A raised report goes to every sink: the stderr text (unless print_reports=0), the in-memory list
// returned by reports(), the handler installed with set_report_handler(), and, with report_dir=DIR,
// one JSON file and one DOT file in DIR. to_text(), to_json() and to_dot() are the formatters those
// sinks use; they read no detector state, write nothing, and may be called on any report value.
#ifndef LOCKGRAPH_REPORT_HPP
#define LOCKGRAPH_REPORT_HPP

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lockgraph/detail/config.hpp"

namespace lockgraph {

enum class report_kind {
  lock_order_inversion,  // the lock-order graph has a cycle: a potential deadlock, nothing hung (yet)
  deadlock,              // threads are blocked in a circular wait right now
  self_deadlock,         // a thread blocks on a non-recursive lock it already holds
  unreleased_lock,       // a lock is still held where it must not be (thread exit, destruction, ...)
  bad_unlock,            // unlock of a lock the calling thread does not hold
  long_wait,             // a thread has been blocked longer than the configured threshold
  assertion_failed,      // assert_held() / assert_shared_held() / assert_not_held() was false
  all_threads_blocked,   // every thread of the process waits in lockgraph with no time-out: none can wake
};

// The report_kind's name as spelled in the enum ("lock_order_inversion", ...): the JSON "kind".
constexpr const char* to_string(report_kind k) noexcept {
  switch (k) {
    case report_kind::lock_order_inversion: return "lock_order_inversion";
    case report_kind::deadlock: return "deadlock";
    case report_kind::self_deadlock: return "self_deadlock";
    case report_kind::unreleased_lock: return "unreleased_lock";
    case report_kind::bad_unlock: return "bad_unlock";
    case report_kind::long_wait: return "long_wait";
    case report_kind::assertion_failed: return "assertion_failed";
    case report_kind::all_threads_blocked: return "all_threads_blocked";
  }
  return "unknown";
}

// A call stack captured as raw return addresses (innermost first). Capturing is cheap; turning the
// addresses into function names and file:line happens only in to_string(), i.e. when printed.
struct stack_trace {
  std::vector<std::uintptr_t> frames;

  bool empty() const noexcept { return frames.empty(); }
  // One frame per line, "    #0 0x55d0c1 in transfer(account&, account&, int) bank.cpp:23",
  // each line prefixed with `indent`. Empty string for an empty trace.
  std::string to_string(std::string_view indent = "    ") const;
};

// A thread as lockgraph knows it: `id` is lockgraph's own number (0 = the main thread, then 1, 2, ...
// in the order threads first touched a lockgraph primitive); `name` is the name given with
// lockgraph::set_thread_name() or pthread_setname_np(), empty if none.
struct thread_ref {
  std::uint64_t id = 0;
  std::string name;
};

// One lock a thread holds (or held), with how it was taken.
struct held_lock {
  std::string lock;           // the lock's label
  bool shared = false;        // taken with lock_shared()/try_lock_shared*()
  bool try_acquired = false;  // taken with try_lock*() or a timed lock: no lock-order edge leads into it
  stack_trace stack;          // where it was acquired, when known (may be empty)
};

// An edge of the lock-order graph, as first seen: `to` was acquired while `from` was held.
struct lock_edge {
  std::string from;
  std::string to;
  bool from_shared = false;  // `from` was held in shared mode
  bool to_shared = false;    // `to` was acquired in shared mode
  thread_ref thread;         // the thread that first made this acquisition
  stack_trace stack;         // where `to` was acquired that first time
};

// A thread's part in a deadlock, long wait or unreleased-lock report.
struct thread_state {
  thread_ref thread;
  std::string waits_for;       // label of the lock or condition variable it is blocked on; empty if none
  bool waits_shared = false;   // blocked in lock_shared()
  std::uint64_t waited_ms = 0; // how long it has been blocked
  std::vector<held_lock> holds;
  stack_trace stack;           // where it blocked (when known)
  bool exited = false;         // the thread has exited; `holds` are locks it left held (JSON "exited")
};

// One detected problem. Which fields are filled depends on `kind`:
//  - lock_order_inversion: `locks` is the cycle in lock order (not repeating the first at the end) and
//    `edges[i]` is the first sighting of locks[i] -> locks[(i+1) % n]. `thread`, `held` and `stack` are
//    the thread whose acquisition closed the cycle.
//  - deadlock: `threads[i]` waits for `locks[i]`, which is held by threads[(i+1) % n].
//  - self_deadlock: `locks` = {the lock}; `thread`/`held`/`stack` = the thread about to block on it.
//  - unreleased_lock: `locks` = the locks still held; `threads` = {their holder} (with `holds`).
//  - bad_unlock: `locks` = {the lock}; `thread`/`held`/`stack` = the unlocking thread.
//  - long_wait: `threads[0]` is the waiter, `locks` = {what it waits on}, then the chain of holders.
//  - all_threads_blocked: `threads` = every thread of the process with its wait (waits_for) and holdings,
//    then any exited thread that left an awaited lock held (`exited`); `locks` = what each blocked
//    thread waits on, in the order of `threads`.
//  - assertion_failed: `locks` = {the lock asserted on}; `thread`/`held`/`stack` = the asserting thread,
//    what it held and where it asserted; `summary` names the assertion and its file:line.
struct report {
  report_kind kind = report_kind::lock_order_inversion;
  std::vector<std::string> locks;
  std::vector<lock_edge> edges;
  std::vector<thread_state> threads;
  thread_ref thread;              // the thread that raised the report
  std::vector<held_lock> held;    // what that thread held at the time
  stack_trace stack;              // where that thread was
  std::string summary;            // one line: "lock-order inversion: a => b => a"
  std::uint64_t sequence = 0;     // 1, 2, ... in the order reports were raised in this process
  std::vector<std::string> files; // files written for this report (JSON, DOT), when report_dir is set
  // A lock_order_inversion against the declared lock order (option lock_order=FILE): `locks` is
  // {held, taken} (no cycle: the file supplies the other direction), `edges` = {that acquisition}, and
  // `declaration` the rules it contradicts ("order.txt:3: b -> a"); `declaration` is empty for an order
  // the file does not allow under lock_order_strict=1. JSON "declared" and "declaration".
  bool declared = false;
  std::vector<std::string> declaration;
  // The bug's stable name, 16 hex digits: the same for the same bug across runs, machines, addresses,
  // thread ids and numbers of lock instances (made of the kind, the locks' class keys and the functions
  // and source files of the acquisition sites; see README "One report per bug").
  std::string fingerprint;
  // How many distinct problems with this fingerprint were raised in this process (50 account pairs
  // hitting one transfer() bug: 50). A repeat updates this count instead of raising another report.
  std::uint64_t occurrences = 1;
};

// Called for every report raised, on the thread that raised it, after the report was printed and its
// files written, outside lockgraph's internal locks: once per fingerprint (a repeat only adds to the
// raised report's occurrences) and never for a suppressed report. The contract:
//  - The thread may hold lockgraph locks when the handler runs (an inversion is raised just before the
//    acquisition that closes it). A deadlock or self_deadlock report aborts the process when the
//    handler returns (abort_on_deadlock=1): the handler is the last chance to flush or record.
//  - lockgraph primitives used inside the handler are not checked (no edges, no reports of their own),
//    with one exception: blocking on a lock the handler's thread already holds is reported as a
//    self_deadlock (and aborts like any) instead of hanging silently. A report raised while the
//    handler runs is not handed to the handler again on that thread.
//  - The handler must not throw. An exception leaving it is caught, the first one is said in one line
//    ("lockgraph: the report handler threw (...)") and the program goes on; the report stays raised
//    and the handler stays installed.
using report_handler = std::function<void(const report&)>;

#if !LOCKGRAPH_DISABLED
// Every report raised so far in this process, oldest first, with its occurrences so far; suppressed
// reports are not in it. Thread-safe.
std::vector<report> reports();
// Installs `handler` (an empty function removes it) and returns the previous one. Thread-safe.
report_handler set_report_handler(report_handler handler);

// Formatters: functions of the report value alone (no detector state; they write nothing). to_text()
// and to_dot() symbolize the stacks they show, which reads the binary's debug info; to_json() writes
// raw addresses and does no I/O at all.
std::string to_text(const report& r);  // the multi-line stderr text
std::string to_json(const report& r);  // one JSON object; "kind" and "locks" as promised
std::string to_dot(const report& r);   // a Graphviz digraph of this report's part of the graph
#else
inline std::vector<report> reports() { return {}; }
inline report_handler set_report_handler(report_handler) { return {}; }
inline std::string to_text(const report&) { return {}; }
inline std::string to_json(const report&) { return {}; }
inline std::string to_dot(const report&) { return {}; }
inline std::string stack_trace::to_string(std::string_view) const { return {}; }
#endif

}  // namespace lockgraph

#endif  // LOCKGRAPH_REPORT_HPP
