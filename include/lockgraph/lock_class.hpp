// lockgraph/lock_class.hpp: which class a lock belongs to, and how a wrapper says so.
//
// Every lock belongs to a class (Linux lockdep's idea): lockgraph keeps the lock-order graph of the lock
// objects and, beside it, the graph of their classes, where thread 1 taking a1 then b1 and thread 2
// taking b2 then a2 (the same fields of the same type) is one cycle a => b => a. A lock's class is
//  - its name, when it has one (`lockgraph::mutex mu("cache.mu")`): every lock of that name;
//  - else the explicit `lock_class` it was constructed with: every lock constructed with that object;
//  - else the place that constructed it, "file:line" (the user's line when the standard library
//    constructed it). Several locks constructed at one line within one object (the member locks an
//    owner's constructor initialises, which all carry the constructor's line) are told apart by their
//    order: the first is "file:line", the next "file:line[1]", "file:line[2]"... while the same member
//    of every object of the type is the same class.
//
// `site` is that place. A wrapper of a lockgraph lock takes one as a defaulted constructor parameter and
// passes it on, so its locks are labelled with *its* caller's line rather than the wrapper's:
//
//   class Mutex {
//    public:
//     explicit Mutex(lockgraph::site where = lockgraph::site::current()) : mu_(where) {}
//     explicit Mutex(const lockgraph::lock_class& c) : mu_(c) {}
//     ...
//    private:
//     lockgraph::mutex mu_;
//   };
//
// Both types are usable with LOCKGRAPH_DISABLED=1 (they then carry nothing anyone reads).
#ifndef LOCKGRAPH_LOCK_CLASS_HPP
#define LOCKGRAPH_LOCK_CLASS_HPP

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lockgraph/detail/config.hpp"

namespace lockgraph {
namespace detail {

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

// The address of this instruction in the caller (always inlined, at -O0 too): two locks built at one
// line by different code (two members of one object) get different addresses; the same member of
// every object of a type, built by the same code, the same one.
LOCKGRAPH_ALWAYS_INLINE const void* code_address() noexcept {
#if !LOCKGRAPH_DISABLED && (defined(__x86_64__) || defined(__aarch64__)) && (defined(__GNUC__) || defined(__clang__))
  const void* pc;
#if defined(__x86_64__)
  __asm__ volatile("leaq 0(%%rip), %0" : "=r"(pc));  // volatile: two sites are never merged into one
#else
  __asm__ volatile("adr %0, ." : "=r"(pc));
#endif
  return pc;
#else
  return nullptr;
#endif
}

}  // namespace detail

// Where a lock was constructed. Used as a default argument (`site where = site::current()`), so it
// names the caller's file and line. `in_std` is decided at compile time when optimizing (the scan
// folds to a constant) and is always false without optimization; `code` is the caller's code address
// (null in a constant expression: constant-initialised globals), which tells apart locks built at one
// line by different code (see the top of this file).
struct site {
  const char* file;
  std::uint32_t line;
  bool in_std = false;
  const void* code = nullptr;
  LOCKGRAPH_ALWAYS_INLINE static constexpr site current(const char* f = LOCKGRAPH_CALLER_FILE,
                                                        std::uint32_t l = LOCKGRAPH_CALLER_LINE) noexcept {
    const void* code = nullptr;
    if (!__builtin_is_constant_evaluated()) code = detail::code_address();
#if defined(__OPTIMIZE__) && (defined(__GNUC__) || defined(__clang__))
    return site{f, l, detail::in_std_header(f), code};
#else
    return site{f, l, false, code};
#endif
  }
};

// An explicit lock class, shared by every lock constructed with it (lockdep's lock_class_key):
//
//   constexpr lockgraph::lock_class account_class("account.mu");  // constexpr: a constinit lock may use it
//   struct account { lockgraph::mutex mu{account_class}; ... };
//
// The locks are labelled and classed with its name. It must outlive every lock constructed with it and
// the reports that name it: give it static storage duration (a global or a function-local static).
// The name is not copied: a literal, or characters that live as long as the class.
class lock_class {
 public:
  constexpr explicit lock_class(std::string_view name) noexcept : name_(name) {}
  lock_class(const lock_class&) = delete;
  lock_class& operator=(const lock_class&) = delete;

  constexpr std::string_view name() const noexcept { return name_; }

 private:
  std::string_view name_;
};

}  // namespace lockgraph

#endif  // LOCKGRAPH_LOCK_CLASS_HPP
