// lockgraph/detail/held_stack.hpp: one entry of a thread's stack of held locks, and where it
// was acquired. Part of hooks.hpp.
#ifndef LOCKGRAPH_DETAIL_HELD_STACK_HPP
#define LOCKGRAPH_DETAIL_HELD_STACK_HPP

#include <atomic>
#include <cstdint>

#include "lockgraph/detail/lock_meta.hpp"

namespace lockgraph::detail {

// One entry of a thread's held-lock stack. `lock` and `mode` are atomics because the blocking path of
// *other* threads reads them to build the wait-for graph; only the owning thread writes them.
struct held_entry {
  std::atomic<const lock_meta*> lock;
  std::atomic<std::uint64_t> node;  // lock's graph node at push time, or 0
  std::uint64_t chain;              // hash of the held sequence up to here; 0 = not computed (owner only)
  std::atomic<std::uint8_t> mode;
  // Where it was acquired: a code address inside the acquiring code and the return address of the
  // function it was inlined into; symbolized (with inline frames) only when a report needs them.
  std::atomic<const void*> site_pc;
  std::atomic<const void*> site_ret;
};

// A code address inside the caller after inlining: with lock() inlined into the user's function it
// points into that function; otherwise __builtin_return_address(0) of lock() does. Both are taken.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LOCKGRAPH_HERE(out) __asm__("leaq 0(%%rip), %0" : "=r"(out))
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define LOCKGRAPH_HERE(out) __asm__("adr %0, ." : "=r"(out))
#else
#define LOCKGRAPH_HERE(out) ((out) = nullptr)
#endif

inline constexpr std::uint32_t kInlineHeld = 48;      // deeper nesting spills to detector-owned chunks

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_HELD_STACK_HPP
