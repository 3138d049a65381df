// lockgraph/mutex.hpp: drop-in instrumented replacements for std::mutex, std::timed_mutex,
// std::recursive_mutex and std::recursive_timed_mutex.
//
// Each type has the member functions of its std:: twin with the same semantics, and works with
// std::lock_guard, std::unique_lock, std::scoped_lock and std::lock. In addition:
//  - `explicit T("name")` / `explicit T(std::string_view name)` names the lock in reports and DOT. A
//    literal is kept as it is (constexpr: a named global is constant-initialised, and may be constinit),
//    any other name is copied and shared by the locks of that name until the last one is destroyed.
//    An unnamed lock is labelled with the file:line where it was constructed (the user's line when
//    the standard library constructed it, in optimised builds); `explicit T(lockgraph::site)` lets a
//    wrapper pass its own caller's site on, and `explicit T(const lockgraph::lock_class&)` puts the
//    lock in an explicit class (see lock_class.hpp).
//  - lock() records the lock-order edge held -> this lock for every lock the thread holds, before it may
//    block, and checks it for a cycle (lock_order_inversion, reported once per distinct cycle);
//  - lock() of a non-recursive lock the thread already holds reports self_deadlock and aborts;
//  - a contended lock() that would close a circular wait reports deadlock and aborts;
//  - unlock() by a thread that does not hold the lock reports bad_unlock and leaves the lock as it was;
//  - destroying a held lock reports unreleased_lock;
//  - assert_held() / assert_shared_held() / assert_not_held() check what the calling thread holds and
//    report assertion_failed when the assertion is false.
// Every type is a capability for Clang's Thread Safety Analysis (see thread_annotations.hpp and
// guards.hpp), and has native_handle_type/native_handle() where its std:: twin has them.
// try_lock() and the timed functions never wait forever, so they add no edge *into* the lock they take
// (std::lock and std::scoped_lock are therefore never reported); the lock still counts as held.
//
// Cost: an uncontended lock()/unlock() pair adds a few thread-local loads and stores to the std::
// operation; see README.md for measured ratios. Construction and destruction of a lock that never
// nests with another do not allocate or take any global lock (a lock named with a non-literal string
// interns its name: one stripe lock at construction and at destruction).
//
// Built with LOCKGRAPH_DISABLED=1 (CMake option LOCKGRAPH_DISABLE), each type is its std:: twin plus
// the naming constructors (same signatures), and no detector code exists.
#ifndef LOCKGRAPH_MUTEX_HPP
#define LOCKGRAPH_MUTEX_HPP

#include <mutex>
#include <cstddef>
#include <string_view>

#include "lockgraph/detail/config.hpp"
#include "lockgraph/lock_class.hpp"

#include "lockgraph/thread_annotations.hpp"
#if !LOCKGRAPH_DISABLED
#include "lockgraph/detail/lock_base.hpp"
#else
#include "lockgraph/detail/plain_lock.hpp"
#endif

namespace lockgraph {

#if !LOCKGRAPH_DISABLED

// Drop-in for std::mutex.
class LOCKGRAPH_CAPABILITY("mutex") mutex : public detail::basic_lock<std::mutex, detail::lock_type::mutex> {
 public:
  static constexpr bool is_recursive_mutex = false;
  static constexpr bool is_timed_mutex = false;
  // Labelled with the construction site (file:line). constexpr, like std::mutex: a global is
  // constant-initialised and usable from any static constructor.
  constexpr mutex(detail::site where = detail::site::current()) noexcept : basic_lock(where) {}
  template <std::size_t N>
  constexpr explicit mutex(const char (&name)[N]) noexcept : basic_lock(name) {}
  template <std::size_t N>
  explicit mutex(char (&name)[N]) noexcept : basic_lock(name) {}
  constexpr explicit mutex(std::string_view name) noexcept : basic_lock(name) {}
  // In the explicit class `c` (see lock_class.hpp), and labelled with its name.
  constexpr explicit mutex(const lock_class& c) noexcept : basic_lock(c) {}
};

// Drop-in for std::timed_mutex.
class LOCKGRAPH_CAPABILITY("mutex") timed_mutex : public detail::basic_lock<std::timed_mutex, detail::lock_type::timed_mutex> {
 public:
  static constexpr bool is_recursive_mutex = false;
  static constexpr bool is_timed_mutex = true;
  constexpr timed_mutex(detail::site where = detail::site::current()) noexcept : basic_lock(where) {}
  template <std::size_t N>
  constexpr explicit timed_mutex(const char (&name)[N]) noexcept : basic_lock(name) {}
  template <std::size_t N>
  explicit timed_mutex(char (&name)[N]) noexcept : basic_lock(name) {}
  constexpr explicit timed_mutex(std::string_view name) noexcept : basic_lock(name) {}
  // In the explicit class `c` (see lock_class.hpp), and labelled with its name.
  constexpr explicit timed_mutex(const lock_class& c) noexcept : basic_lock(c) {}
};

// Drop-in for std::recursive_mutex. Re-entry by the owner adds nothing to the lock-order graph.
class LOCKGRAPH_CAPABILITY("mutex") recursive_mutex
    : public detail::basic_recursive_lock<std::recursive_mutex, detail::lock_type::recursive_mutex> {
 public:
  static constexpr bool is_recursive_mutex = true;
  static constexpr bool is_timed_mutex = false;
  constexpr recursive_mutex(detail::site where = detail::site::current()) noexcept : basic_recursive_lock(where) {}
  template <std::size_t N>
  constexpr explicit recursive_mutex(const char (&name)[N]) noexcept : basic_recursive_lock(name) {}
  template <std::size_t N>
  explicit recursive_mutex(char (&name)[N]) noexcept : basic_recursive_lock(name) {}
  constexpr explicit recursive_mutex(std::string_view name) noexcept : basic_recursive_lock(name) {}
  // In the explicit class `c` (see lock_class.hpp), and labelled with its name.
  constexpr explicit recursive_mutex(const lock_class& c) noexcept : basic_recursive_lock(c) {}
};

// Drop-in for std::recursive_timed_mutex.
class LOCKGRAPH_CAPABILITY("mutex") recursive_timed_mutex
    : public detail::basic_recursive_lock<std::recursive_timed_mutex, detail::lock_type::recursive_timed_mutex> {
 public:
  static constexpr bool is_recursive_mutex = true;
  static constexpr bool is_timed_mutex = true;
  constexpr recursive_timed_mutex(detail::site where = detail::site::current()) noexcept : basic_recursive_lock(where) {}
  template <std::size_t N>
  constexpr explicit recursive_timed_mutex(const char (&name)[N]) noexcept : basic_recursive_lock(name) {}
  template <std::size_t N>
  explicit recursive_timed_mutex(char (&name)[N]) noexcept : basic_recursive_lock(name) {}
  constexpr explicit recursive_timed_mutex(std::string_view name) noexcept : basic_recursive_lock(name) {}
  // In the explicit class `c` (see lock_class.hpp), and labelled with its name.
  constexpr explicit recursive_timed_mutex(const lock_class& c) noexcept : basic_recursive_lock(c) {}
};

#else  // LOCKGRAPH_DISABLED: the std:: types, plus the naming constructor, annotations and assert_*.

#define LOCKGRAPH_PLAIN_WRAPPER(name_, base_, recursive_, timed_)       \
  class LOCKGRAPH_CAPABILITY("mutex") name_ : public detail::plain_lock<base_> { \
   public:                                                              \
    static constexpr bool is_recursive_mutex = recursive_;              \
    static constexpr bool is_timed_mutex = timed_;                      \
    name_() = default;                                                  \
    template <std::size_t N>                                            \
    constexpr explicit name_(const char (&)[N]) noexcept {}             \
    template <std::size_t N>                                            \
    explicit name_(char (&)[N]) noexcept {}                             \
    template <int = 0> /* constexpr where the std:: twin's constructor is */ \
    constexpr explicit name_(std::string_view) noexcept {}              \
    template <int = 0>                                                  \
    constexpr explicit name_(site) noexcept {}                          \
    template <int = 0>                                                  \
    constexpr explicit name_(const lock_class&) noexcept {}             \
  }
LOCKGRAPH_PLAIN_WRAPPER(mutex, std::mutex, false, false);
LOCKGRAPH_PLAIN_WRAPPER(timed_mutex, std::timed_mutex, false, true);
LOCKGRAPH_PLAIN_WRAPPER(recursive_mutex, std::recursive_mutex, true, false);
LOCKGRAPH_PLAIN_WRAPPER(recursive_timed_mutex, std::recursive_timed_mutex, true, true);
#undef LOCKGRAPH_PLAIN_WRAPPER

#endif

}  // namespace lockgraph

#endif  // LOCKGRAPH_MUTEX_HPP
