// all_blocked: Go's "all goroutines are asleep - deadlock!" for threads. When every thread of the
// process (/proc/self/task, less lockgraph's own) is blocked in a lockgraph wait that only another
// thread can end, nothing can ever wake them: all_threads_blocked is reported at once, with every
// thread's wait and holdings, and the process ends like a deadlock.
//
// Which waits count ("blocked"): a lock wait (lock_contended: untimed by construction) and a condition
// wait with no time-out. Timed waits end by themselves and never count. A thread that is running, or
// blocked anywhere else (join(), read(), a std:: primitive), or that never used lockgraph, is not
// blocked in this sense, so the check stays silent (never a false alarm; a miss instead).
//
// Cost: a waiting thread adds itself to one process-wide count when its wait begins and removes itself
// when it ends (the contended path and condition waits only; never the lock fast path). Only when that
// count reaches the number of registered threads is a checker thread (started then, the first time)
// woken to confirm; it polls with backoff (1 ms up to 1 s) while the counts stay equal, since a
// thread that just exited can linger in /proc for a moment and a thread outside lockgraph gives no
// sign when it exits.
//
// Confirmation (race-free, like the wait-for graph's): first pass, every registered thread is in a
// counted wait (odd wait_seq); a condition waiter's condition variable has not been notified since its
// wait began (else it may be awake already); a lock waiter's lock is held by one of them or left held by
// an exited thread (else it may be acquiring it now); every task of /proc/self/task is one of them or
// lockgraph's own. Then a fence and a second pass: every wait_seq and notify count unchanged. A thread
// blocked throughout the interval can notify, release or create nothing, so the state is final.
#ifndef LOCKGRAPH_DETECTOR_THREADS_ALL_BLOCKED_HPP
#define LOCKGRAPH_DETECTOR_THREADS_ALL_BLOCKED_HPP

#include <atomic>
#include <cstdint>

#include "report/problem.hpp"
#include "report/report_sink.hpp"
#include "threads/thread_registry.hpp"

namespace lockgraph::detail {

// Where a confirmed all_threads_blocked goes; `die` (may be null: keep blocking) ends the process after
// the report. Set once by the runtime, before any wait can be counted.
void configure_all_blocked(report_sink& sink, void (*die)()) noexcept;

// The calling thread's published wait (odd wait_seq) can only be ended by another thread: counts it.
// `notifies`: the condition variable's notify count, nullptr for a lock wait. Owner only.
void count_blocked_wait(thread_extra& x, const std::atomic<std::uint64_t>* notifies) noexcept;
// The wait ends (before wait_seq turns even). Owner only; no-op for a wait that was not counted.
void uncount_blocked_wait(thread_extra& x) noexcept;
// A registered thread exited: the others may all be blocked now.
void thread_left() noexcept;

// The all_threads_blocked problem, if every thread of the process is blocked for good right now.
bool find_all_blocked(problem* out);

// fork() child: the checker thread is gone and only the calling thread runs.
void all_blocked_after_fork() noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_THREADS_ALL_BLOCKED_HPP
