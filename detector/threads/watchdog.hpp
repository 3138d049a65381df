// watchdog: the long_wait reporter. With long_wait_ms=N (N > 0) one background thread, started at the
// runtime's creation and only then, reports every thread blocked in a lockgraph lock or condition
// variable for longer than N ms: once per wait, with the chain of threads holding what it waits for.
#ifndef LOCKGRAPH_DETECTOR_THREADS_WATCHDOG_HPP
#define LOCKGRAPH_DETECTOR_THREADS_WATCHDOG_HPP

#include <cstdint>

#include "report/problem.hpp"
#include "report/report_sink.hpp"
#include "threads/thread_registry.hpp"

namespace lockgraph::detail {

// The long_wait problem of blocked thread `w` at time `now` (steady ns), with the chain of holders.
// False if `w` stopped waiting meanwhile.
bool long_wait_problem(const waiting_thread& w, std::int64_t now, problem* out);

// Starts the watchdog thread; it raises into `sink` (never destroyed, like the runtime that owns it).
void start_watchdog(unsigned long_wait_ms, report_sink& sink);
// In a fork() child the watchdog thread is gone: start a new one if the parent had one.
void restart_watchdog_after_fork() noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_THREADS_WATCHDOG_HPP
