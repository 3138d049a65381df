// misuse: problems of a single thread's use of a lock: self_deadlock, bad_unlock and unreleased_lock
// (at thread exit, at destruction of a held lock, at process exit, at check_quiescent()).
//
// Each function only describes (fills a `problem`); the caller raises it. They run on the thread that
// found the problem, with its bypass raised and no internal lock held.
#ifndef LOCKGRAPH_DETECTOR_THREADS_MISUSE_HPP
#define LOCKGRAPH_DETECTOR_THREADS_MISUSE_HPP

#include <cstdint>
#include <string>
#include <vector>

#include "report/problem.hpp"
#include "threads/thread_registry.hpp"

namespace lockgraph::detail {

// `self` is about to block on `m`, which it already holds; `stack` is where.
problem self_deadlock_problem(thread_slot* self, const lock_meta& m, std::uint8_t mode, stack_trace stack);
// `self` unlocks `m` (shared: unlock_shared()), which it does not hold so.
problem bad_unlock_problem(thread_slot* self, const lock_meta& m, std::uint8_t shared, stack_trace stack);

// The unreleased_lock problem of `holder` holding `holds`, found `when` ("when it exited", ...).
problem unreleased_problem(const thread_ref& holder, std::vector<held_lock> holds, std::string when,
                           stack_trace stack);

// `self` is exiting: false if it holds nothing; else fills *out and remembers its locks as orphans.
bool unreleased_at_thread_exit(thread_slot* self, problem* out);
// `self` destroys `m`, which some thread holds: false if m is an orphan (reported when its holder
// exited); else fills *out. While the process is exiting (`exiting`), destroying a lock that another
// live thread holds is no problem either unless that thread is blocked for good: exit's static
// destructors cut off running threads, which leak nothing by it.
bool destroyed_while_held(thread_slot* self, const lock_meta& m, stack_trace stack, bool exiting, problem* out);
// Every live thread holding locks now, as unreleased_lock problems found `when`.
std::vector<problem> locks_held_now(const std::string& when);
// The exit check: what is really leaked when the process ends, as unreleased_lock problems: the locks of
// `ending` (the thread ending the process, may be null) and of threads blocked for good
// (blocked_for_good()). A live thread that is running (say, inside a critical section when main
// returns) is not reported: whether it is caught there is a matter of timing. Locks left by exited
// threads were reported when they exited.
std::vector<problem> locks_held_at_exit(thread_slot* ending);

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

#endif  // LOCKGRAPH_DETECTOR_THREADS_MISUSE_HPP
