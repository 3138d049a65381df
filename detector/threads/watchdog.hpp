// watchdog: the long_wait reporter. With long_wait_ms=N (N > 0) one background thread, started at the
// runtime's creation and only then, reports every thread blocked in a lockgraph lock or condition
// variable for longer than N ms, unless the wait is idle (see idle_wait()): once per wait, with the chain
// of threads holding what it waits for.
#ifndef LOCKGRAPH_DETECTOR_THREADS_WATCHDOG_HPP
#define LOCKGRAPH_DETECTOR_THREADS_WATCHDOG_HPP

#include <cstdint>

#include "report/problem.hpp"
#include "report/report_sink.hpp"
#include "threads/thread_registry.hpp"

namespace lockgraph::detail {

// What a hang is (README "What is a hang"): a thread blocked on a lock, or in a condition wait while it
// holds lockgraph locks, is reported once it has waited long_wait_ms. A condition wait with no lockgraph
// lock held is idle (a pool worker without work): never a long_wait of the watchdog or the dump signal.
// True if `w` is such an idle wait (and still the same wait).
bool idle_wait(const waiting_thread& w) noexcept;

// The long_wait problem of blocked thread `w` at time `now` (steady ns): the waiter with its held locks
// and wait stack, then the chain of holders (blocked ones with their waits, a running one with its
// held locks, or the exited thread that left the lock held, marked `exited`).
// False if `w` stopped waiting meanwhile.
bool long_wait_problem(const waiting_thread& w, std::int64_t now, problem* out);

// Starts the watchdog thread; it raises into `sink` (never destroyed, like the runtime that owns it).
void start_watchdog(unsigned long_wait_ms, report_sink& sink);
// In a fork() child the watchdog thread is gone: start a new one if the parent had one.
void restart_watchdog_after_fork() noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_THREADS_WATCHDOG_HPP
