// lockgraph/detail/lock_meta.hpp: what every lockgraph primitive carries about itself (24 bytes):
// its graph node, its label (name or construction site) and its type. Part of hooks.hpp.
#ifndef LOCKGRAPH_DETAIL_LOCK_META_HPP
#define LOCKGRAPH_DETAIL_LOCK_META_HPP

#include <atomic>
#include <cstddef>
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

// What lock_meta::label holds (lock_meta::named).
enum : std::uint8_t {
  label_site = 0,      // label: construction file (a literal), line: construction line
  label_literal = 1,   // label: a name with static storage (a literal), line: its length
  label_interned = 2,  // label: a reference-counted interned name (base/labels.cpp), line: its length
  label_std_site = 3,  // label: a code address in the constructing code, line: offset of a return address
};

// True for a file of the C++ standard library (libstdc++ or libc++). A lock constructed there, by
// std::make_unique, std::vector, emplace_back..., is labelled with the user's code instead.
#if defined(__clang__)
// Clang does not fold a hand-written scan at the call site, but folds strstr of two literals.
constexpr bool in_std_header(const char* file) noexcept {
  if (__builtin_is_constant_evaluated()) return false;  // constant-initialised globals: user code
  return __builtin_strstr(file, "/include/c++/") != nullptr;
}
#else
// GCC folds this call with a literal argument (site::current() below) to a constant.
constexpr bool in_std_header(const char* file) noexcept {
  constexpr char pattern[] = "/include/c++/";
  for (const char* p = file; *p != '\0'; ++p) {
    std::size_t i = 0;
    while (pattern[i] != '\0' && p[i] == pattern[i]) ++i;
    if (pattern[i] == '\0') return true;
  }
  return false;
}
#endif

// Where a primitive was constructed: its label when it has no name. Used as a default argument, so
// __builtin_FILE/__builtin_LINE name the caller's construction site. `in_std` is decided at compile
// time when optimizing (the scan folds to a constant) and is always false without optimization.
struct site {
  const char* file;
  std::uint32_t line;
  bool in_std = false;
  static constexpr site current(const char* f = LOCKGRAPH_CALLER_FILE,
                                std::uint32_t l = LOCKGRAPH_CALLER_LINE) noexcept {
#if defined(__OPTIMIZE__) && (defined(__GNUC__) || defined(__clang__))
    return site{f, l, in_std_header(f)};
#else
    return site{f, l, false};
#endif
  }
};

// A code address inside the constructing code after inlining, and the return address of the function
// it was inlined into (kept as an offset from the first when it fits in 32 bits, else 0). With
// std::make_unique & co. inlined into the user's function (as at -O1 and up), the first address,
// symbolized with its inline frames, names the user's line; the second covers one out-of-line level.
struct std_site_pcs {
  const char* pc;
  std::uint32_t ret_offset;
};
LOCKGRAPH_ALWAYS_INLINE std_site_pcs capture_std_site() noexcept {
#if (defined(__x86_64__) || defined(__aarch64__)) && (defined(__GNUC__) || defined(__clang__))
  const char* pc;
#if defined(__x86_64__)
  __asm__("leaq 0(%%rip), %0" : "=r"(pc));
#else
  __asm__("adr %0, ." : "=r"(pc));
#endif
  const char* ret = static_cast<const char*>(__builtin_return_address(0));
  const std::ptrdiff_t off = ret - pc;
  const bool fits = off >= INT32_MIN && off <= INT32_MAX && ret != nullptr;
  return {pc, fits ? static_cast<std::uint32_t>(static_cast<std::int32_t>(off)) : 0u};
#else
  return {nullptr, 0};
#endif
}

// Interns `name` (one reference): the text of a label_interned label. Out of line (base/labels.cpp).
const char* intern_label(std::string_view name) noexcept;

constexpr std::size_t bounded_length(const char* s, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n && s[i] != '\0') ++i;
  return i;
}

// Per-primitive identity, embedded in every lockgraph type (24 bytes). Trivial to construct for
// unnamed locks: the label is the construction site, kept as two words and formatted only when a
// report needs it. The graph node is taken lazily the first time the lock is nested with another.
// Every constructor but the interning one is constexpr, so globals are constant-initialised.
struct lock_meta {
  // Graph node id (slot + generation), 0 until the lock first takes part in a lock-order edge.
  std::atomic<std::uint64_t> node{0};
  // See label_site ... label_std_site. Null only in a global used before its (dynamic) construction.
  const char* label;
  // The construction line, or the name's length, or the return address offset (see `named`).
  std::uint32_t line;
  lock_type type;
  std::uint8_t named;  // label_site, label_literal, label_interned or label_std_site

  constexpr lock_meta(site where, lock_type t) noexcept
      : label(where.file), line(where.line), type(t), named(label_site) {
    if (where.in_std) {  // constructed by the standard library: only when optimizing, never constant
      const std_site_pcs s = capture_std_site();
      if (s.pc != nullptr) {
        label = s.pc;
        line = s.ret_offset;
        named = label_std_site;
      }
    }
  }
  // A string literal (or any array of static storage): kept as it is, never copied, so this is a
  // constant expression and a named global is constant-initialised (with or without constinit).
  // Trailing NULs of a larger array are not part of the name; embedded ones are.
  template <std::size_t N>
  constexpr lock_meta(const char (&name)[N], lock_type t) noexcept
      : label(name), line(N > 0 ? static_cast<std::uint32_t>(N - 1) : 0), type(t), named(label_literal) {
    while (line > 0 && name[line - 1] == '\0') --line;
  }
  // A filled-in char buffer is not a literal: copied (up to its first NUL) like any other name.
  template <std::size_t N>
  lock_meta(char (&name)[N], lock_type t) noexcept : lock_meta(std::string_view(name, bounded_length(name, N)), t) {}
  // Any other name is copied (interned, shared by every lock of that name, freed with the last one).
  // In a constant expression (constinit, constexpr string_view) the name has static storage: kept.
#if defined(__GNUC__) || defined(__clang__)
  constexpr lock_meta(std::string_view name, lock_type t) noexcept
      : label(nullptr), line(static_cast<std::uint32_t>(name.size())), type(t), named(label_interned) {
    if (__builtin_is_constant_evaluated()) {
      label = name.data();
      named = label_literal;
    } else {
      label = intern_label(name);
    }
  }
#else
  lock_meta(std::string_view name, lock_type t) noexcept
      : label(intern_label(name)), line(static_cast<std::uint32_t>(name.size())), type(t), named(label_interned) {}
#endif
  lock_meta(const lock_meta&) = delete;
  lock_meta& operator=(const lock_meta&) = delete;
};

// Drops an interned name's reference when its lock is destroyed. Out of line (base/labels.cpp).
LOCKGRAPH_COLD void release_label(lock_meta& m) noexcept;

// For destructors: nothing to do unless the name was interned.
LOCKGRAPH_ALWAYS_INLINE void release_label_of(lock_meta& m) noexcept {
  if (LOCKGRAPH_PREDICT_FALSE(m.named == label_interned)) release_label(m);
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_LOCK_META_HPP
