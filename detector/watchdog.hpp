// watchdog: the long_wait reporter. With long_wait_ms=N (N > 0) one background thread, started at the
// runtime's creation and only then, reports every thread blocked in a lockgraph lock or condition
// variable for longer than N ms: once per wait, with the chain of threads holding what it waits for.
#ifndef LOCKGRAPH_DETECTOR_WATCHDOG_HPP
#define LOCKGRAPH_DETECTOR_WATCHDOG_HPP

namespace lockgraph::detail {

struct runtime;

void start_watchdog(runtime& r);
// In a fork() child the watchdog thread is gone: start a new one if the parent had one.
void restart_watchdog_after_fork() noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_WATCHDOG_HPP
