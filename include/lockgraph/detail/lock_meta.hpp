// lockgraph/detail/lock_meta.hpp: what every lockgraph primitive carries about itself (24 bytes):
// its graph node, its label (name or construction site) and its type. Part of hooks.hpp.
#ifndef LOCKGRAPH_DETAIL_LOCK_META_HPP
#define LOCKGRAPH_DETAIL_LOCK_META_HPP

#include <atomic>
#include <cstdint>
#include <string_view>

#include "lockgraph/detail/config.hpp"

namespace lockgraph::detail {

// How a held lock was taken. Bit flags, stored in one byte per held entry.
enum : std::uint8_t {
  mode_exclusive = 0,
  mode_shared = 1,  // lock_shared(): a reader
  mode_try = 2,     // try_lock*/timed: no lock-order edge leads into it
};

enum class lock_type : std::uint8_t {
  mutex,
  timed_mutex,
  recursive_mutex,
  recursive_timed_mutex,
  shared_mutex,
  shared_timed_mutex,
  condition_variable,
};

// Where a primitive was constructed: its label when it has no name. Used as a default argument, so
// __builtin_FILE/__builtin_LINE name the caller's construction site.
struct site {
  const char* file;
  std::uint32_t line;
  static constexpr site current(const char* f = LOCKGRAPH_CALLER_FILE,
                                std::uint32_t l = LOCKGRAPH_CALLER_LINE) noexcept {
    return site{f, l};
  }
};

// Per-primitive identity, embedded in every lockgraph type (24 bytes). Trivial to construct for
// unnamed locks: the label is the construction site, kept as two words and formatted only when a
// report needs it. The graph node is taken lazily the first time the lock is nested with another.
struct lock_meta {
  // Graph node id (slot + generation), 0 until the lock first takes part in a lock-order edge.
  std::atomic<std::uint64_t> node{0};
  // Unnamed: the construction file (a string literal). Named: the interned name.
  const char* label;
  // Unnamed: the construction line. Named: 0.
  std::uint32_t line;
  lock_type type;
  std::uint8_t named;

  constexpr lock_meta(site where, lock_type t) noexcept
      : label(where.file), line(where.line), type(t), named(0) {}
  lock_meta(std::string_view name, lock_type t) noexcept;  // interns `name`
  lock_meta(const lock_meta&) = delete;
  lock_meta& operator=(const lock_meta&) = delete;
};

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_LOCK_META_HPP
