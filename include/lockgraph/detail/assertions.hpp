// lockgraph/detail/assertions.hpp: the run-time half of assert_held() / assert_shared_held() /
// assert_not_held() (the annotations are on the members in lock_base.hpp).
//
// The common case, asserting the lock the thread took last, is answered inline from the thread's held
// stack; anything else goes to check_assertion_slow() in detector/assertions.cpp, which searches the
// whole stack and raises an assertion_failed report when the assertion is false.
#ifndef LOCKGRAPH_DETAIL_ASSERTIONS_HPP
#define LOCKGRAPH_DETAIL_ASSERTIONS_HPP

#include <cstdint>

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

// What is asserted about the calling thread and a lock.
enum : std::uint8_t {
  assert_exclusive = 0,  // holds it exclusive (a recursive lock at any depth)
  assert_shared = 1,     // holds it, shared or exclusive
  assert_not = 2,        // does not hold it in any mode
};

// Checks the assertion against the whole held stack; reports assertion_failed when it is false.
LOCKGRAPH_COLD void check_assertion_slow(const lock_meta& m, std::uint8_t what, site where) noexcept;

LOCKGRAPH_ALWAYS_INLINE void check_assertion(const lock_meta& m, std::uint8_t what, site where) noexcept {
  const thread_record* t = tl_record;
  if (t != nullptr && what != assert_not) {
    const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
    if (LOCKGRAPH_PREDICT_TRUE(d - 1 < kInlineHeld)) {  // d == 0 wraps and falls through
      const held_entry& e = t->held[d - 1];
      if (LOCKGRAPH_PREDICT_TRUE(e.lock.load(std::memory_order_relaxed) == &m &&
                                 (what == assert_shared ||
                                  (e.mode.load(std::memory_order_relaxed) & mode_shared) == 0))) {
        return;
      }
    }
  }
  check_assertion_slow(m, what, where);
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_ASSERTIONS_HPP
