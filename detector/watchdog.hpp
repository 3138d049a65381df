// watchdog: the long_wait reporter. With long_wait_ms=N (N > 0) one background thread, started at the
// runtime's creation and only then, reports every thread blocked in a lockgraph lock or condition
// variable for longer than N ms: once per wait, with the chain of threads holding what it waits for.
#ifndef LOCKGRAPH_DETECTOR_WATCHDOG_HPP
#define LOCKGRAPH_DETECTOR_WATCHDOG_HPP

#include <cstdint>
#include <string>

#include "lockgraph/report.hpp"

namespace lockgraph::detail {

struct runtime;
struct waiting_thread;

// The long_wait report for blocked thread `w` at time `now` (steady ns), with the chain of holders, and
// its dedupe key (once per wait). False if `w` stopped waiting meanwhile.
bool long_wait_report(const waiting_thread& w, std::int64_t now, report* out, std::string* key);

void start_watchdog(runtime& r);
// In a fork() child the watchdog thread is gone: start a new one if the parent had one.
void restart_watchdog_after_fork() noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_WATCHDOG_HPP
