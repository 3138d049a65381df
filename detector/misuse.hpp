// misuse: reports about a single thread's use of a lock: self_deadlock, bad_unlock and unreleased_lock
// (at thread exit, at destruction of a held lock, at process exit).
//
// Each builder runs on the thread that found the problem, with its bypass raised and no internal lock
// held, and raises at most one report (the sink drops repeats of the same problem).
#ifndef LOCKGRAPH_DETECTOR_MISUSE_HPP
#define LOCKGRAPH_DETECTOR_MISUSE_HPP

#include <cstdint>
#include <string>
#include <vector>

#include "runtime.hpp"

namespace lockgraph::detail {

// The locks `t` holds, bottom first, labelled. Reads another thread's stack only when that thread is
// blocked or gone (the caller's responsibility); otherwise `t` must be the calling thread.
std::vector<held_lock> held_locks(thread_record* t);

void report_self_deadlock(runtime& r, thread_slot* self, const lock_meta& m, std::uint8_t mode);
void report_bad_unlock(runtime& r, thread_slot* self, const lock_meta& m, std::uint8_t shared);
void report_unreleased_at_thread_exit(runtime& r, thread_slot* self);
void report_destroyed_while_held(runtime& r, thread_slot* self, const lock_meta& m);
// At normal process exit: every lock any thread still holds.
void report_locks_held_at_exit(runtime& r);

// The unreleased_lock report for `holds`, held by `holder`, found `when` ("when it exited", ...), and
// its dedupe key. Pure.
report unreleased_report(const thread_ref& holder, std::vector<held_lock> holds, const std::string& when,
                         stack_trace stack, std::string* key);

// Locks left held by threads that exited. Such a lock stays locked for good; it leaves this list
// when it is destroyed. Thread-safe.
struct orphan {
  const lock_meta* lock;  // compared, never dereferenced (the label is in `held`)
  held_lock held;
  thread_ref holder;      // the exited thread
};
std::vector<orphan> orphans();
void forget_orphan(const lock_meta* m);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_MISUSE_HPP
