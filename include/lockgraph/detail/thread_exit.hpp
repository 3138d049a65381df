// lockgraph/detail/thread_exit.hpp: the detector's side of lockgraph::notify_all_at_thread_exit().
#ifndef LOCKGRAPH_DETAIL_THREAD_EXIT_HPP
#define LOCKGRAPH_DETAIL_THREAD_EXIT_HPP

#include "lockgraph/detail/config.hpp"
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wthread-safety"
#pragma clang diagnostic ignored "-Wthread-safety-beta"
#endif
#include "lockgraph/detail/hooks.hpp"
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

namespace lockgraph::detail {

// The calling thread holds `m` exclusive and hands its release to thread exit: the lock stays on the
// thread's held stack (it is held: lock-order edges from it still count) until the thread exits, then
// leaves it before the unreleased-lock check (detector/thread_exit.cpp).
LOCKGRAPH_COLD void release_at_thread_exit(lock_meta& m) noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_THREAD_EXIT_HPP
