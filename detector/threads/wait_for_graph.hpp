// wait_for_graph: who waits for which lock held by whom, right now.
//
// The graph is implicit: each thread's slot publishes what it waits on (thread_extra's wait state) and
// what it holds (its held stack). Only the contended path (a failed try-acquire) and snapshots read it.
//
// check_circular_wait() is called by a thread that has just published its wait, before it blocks. It
// follows waits-for -> held-by -> waits-for ... from that thread; a walk that returns to it is a circular
// wait. The reads are racy, so a found cycle is confirmed by a second pass: every thread on it must
// still be in the very same wait (same odd wait_seq) and still hold the lock the previous one wants. A
// thread blocked throughout cannot release anything, so a confirmed cycle is a real deadlock; an
// unconfirmed one is dropped (its last thread to block will find it). Of two threads closing a cycle at
// the same instant, at least one sees the other (both publish, fence, then read), so detection does not
// depend on timing or polling.
#ifndef LOCKGRAPH_DETECTOR_WAIT_FOR_GRAPH_HPP
#define LOCKGRAPH_DETECTOR_WAIT_FOR_GRAPH_HPP

#include <cstdint>
#include <vector>

#include "report/problem.hpp"
#include "threads/thread_registry.hpp"

namespace lockgraph::detail {

// Looks for a circular wait through `self`, whose wait is published. True if one is found and
// confirmed: *out then describes the deadlock (the caller raises it; a duplicate means another thread
// of the cycle raised it first). Caller: `self`'s own thread.
bool find_circular_wait(thread_slot* self, problem* out);

// Threads blocked in a lockgraph primitive right now (racy snapshot).
std::vector<waiting_thread> waiting_threads();

// The threads holding `m` in a mode that blocks a waiter in `mode` (readers do not block readers),
// excluding `except`. Racy snapshot.
std::vector<thread_slot*> holders_of(const lock_meta* m, std::uint8_t mode, const thread_slot* except);

// True if `s` is blocked in a lock wait that can never end: the lock it waits for was left held by an
// exited thread (it is in `orphaned`), or is held by `ending` (the thread ending the process), or by a
// thread blocked for good itself (a circular wait counts). A condition wait can always be notified, a
// running holder can always release: false for those, and for a thread that is not blocked. The racy
// reads are confirmed: every wait on the way must be the same (same odd wait_seq) after the walk.
bool blocked_for_good(thread_slot* s, const thread_slot* ending, const std::vector<const lock_meta*>& orphaned);

// The thread_state of a blocked thread (its wait and its held locks), labelled.
thread_state describe_waiter(const waiting_thread& w, std::int64_t now_ns);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_WAIT_FOR_GRAPH_HPP
