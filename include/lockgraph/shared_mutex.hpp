// lockgraph/shared_mutex.hpp: drop-in instrumented replacements for std::shared_mutex and
// std::shared_timed_mutex.
//
// Same member functions and semantics as the std:: twins; work with std::shared_lock, std::unique_lock,
// std::lock_guard, std::scoped_lock and std::lock. Exclusive acquisitions follow the rules of
// lockgraph::mutex (see mutex.hpp). Shared (reader) acquisitions follow Linux lockdep's rule for
// recursive read locks: two readers never block each other, so a cycle whose every path through some
// lock enters and leaves it in shared mode is not a deadlock and is not reported, while any cycle with a
// writer on the way is. Taking the lock shared while holding it exclusive, or exclusive while holding it
// shared, is self_deadlock; taking it shared again while holding it shared is allowed (as glibc does).
#ifndef LOCKGRAPH_SHARED_MUTEX_HPP
#define LOCKGRAPH_SHARED_MUTEX_HPP

#include <chrono>
#include <shared_mutex>
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

namespace detail {

template <class Native, lock_type Type>
class LOCKGRAPH_CAPABILITY("mutex") basic_shared_lock : public basic_lock<Native, Type> {
  using base = basic_lock<Native, Type>;

 public:
  // Blocks until the calling thread holds the lock shared. Records edges like lock(), in shared mode.
  void lock_shared() LOCKGRAPH_ACQUIRE_SHARED() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    before_lock(this->meta_, mode_shared);
    if (LOCKGRAPH_PREDICT_FALSE(!this->native_.try_lock_shared())) {
      lock_contended(this->meta_, mode_shared, &block_shared<Native>, &this->native_);
    }
    after_lock(this->meta_, mode_shared);
  }
  bool try_lock_shared() noexcept LOCKGRAPH_TRY_ACQUIRE_SHARED(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    if (!this->native_.try_lock_shared()) return false;
    after_lock(this->meta_, mode_shared | mode_try);
    return true;
  }
  void unlock_shared() noexcept LOCKGRAPH_RELEASE_SHARED() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    if (LOCKGRAPH_PREDICT_TRUE(before_unlock(this->meta_, mode_shared))) this->native_.unlock_shared();
  }
  template <class Rep, class Period, class N = Native>
  LOCKGRAPH_TRY_ACQUIRE_SHARED(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
  auto try_lock_shared_for(const std::chrono::duration<Rep, Period>& rel)
      -> decltype(std::declval<N&>().try_lock_shared_for(rel)) {
    if (!this->native_.try_lock_shared_for(rel)) return false;
    after_lock(this->meta_, mode_shared | mode_try);
    return true;
  }
  template <class Clock, class Duration, class N = Native>
  LOCKGRAPH_TRY_ACQUIRE_SHARED(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
  auto try_lock_shared_until(const std::chrono::time_point<Clock, Duration>& abs)
      -> decltype(std::declval<N&>().try_lock_shared_until(abs)) {
    if (!this->native_.try_lock_shared_until(abs)) return false;
    after_lock(this->meta_, mode_shared | mode_try);
    return true;
  }

 protected:
  using base::base;
};

}  // namespace detail

// Drop-in for std::shared_mutex.
class LOCKGRAPH_CAPABILITY("mutex") shared_mutex : public detail::basic_shared_lock<std::shared_mutex, detail::lock_type::shared_mutex> {
 public:
  static constexpr bool is_recursive_mutex = false;
  static constexpr bool is_timed_mutex = false;
  constexpr shared_mutex(detail::site where = detail::site::current()) noexcept : basic_shared_lock(where) {}
  template <std::size_t N>
  constexpr explicit shared_mutex(const char (&name)[N]) noexcept : basic_shared_lock(name) {}
  template <std::size_t N>
  explicit shared_mutex(char (&name)[N]) noexcept : basic_shared_lock(name) {}
  constexpr explicit shared_mutex(std::string_view name) noexcept : basic_shared_lock(name) {}
  constexpr explicit shared_mutex(const lock_class& c) noexcept : basic_shared_lock(c) {}
};

// Drop-in for std::shared_timed_mutex.
class LOCKGRAPH_CAPABILITY("mutex") shared_timed_mutex
    : public detail::basic_shared_lock<std::shared_timed_mutex, detail::lock_type::shared_timed_mutex> {
 public:
  static constexpr bool is_recursive_mutex = false;
  static constexpr bool is_timed_mutex = true;
  constexpr shared_timed_mutex(detail::site where = detail::site::current()) noexcept
      : basic_shared_lock(where) {}
  template <std::size_t N>
  constexpr explicit shared_timed_mutex(const char (&name)[N]) noexcept : basic_shared_lock(name) {}
  template <std::size_t N>
  explicit shared_timed_mutex(char (&name)[N]) noexcept : basic_shared_lock(name) {}
  constexpr explicit shared_timed_mutex(std::string_view name) noexcept : basic_shared_lock(name) {}
  constexpr explicit shared_timed_mutex(const lock_class& c) noexcept : basic_shared_lock(c) {}
};

#else  // LOCKGRAPH_DISABLED

class LOCKGRAPH_CAPABILITY("mutex") shared_mutex : public detail::plain_shared_lock<std::shared_mutex> {
 public:
  static constexpr bool is_recursive_mutex = false;
  static constexpr bool is_timed_mutex = false;
  shared_mutex() = default;
  template <std::size_t N>
  constexpr explicit shared_mutex(const char (&)[N]) noexcept {}
  template <std::size_t N>
  explicit shared_mutex(char (&)[N]) noexcept {}
  template <int = 0>  // constexpr where the std:: twin's constructor is
  constexpr explicit shared_mutex(std::string_view) noexcept {}
  template <int = 0>
  constexpr explicit shared_mutex(site) noexcept {}
  template <int = 0>
  constexpr explicit shared_mutex(const lock_class&) noexcept {}
};
class LOCKGRAPH_CAPABILITY("mutex") shared_timed_mutex : public detail::plain_shared_lock<std::shared_timed_mutex> {
 public:
  static constexpr bool is_recursive_mutex = false;
  static constexpr bool is_timed_mutex = true;
  shared_timed_mutex() = default;
  template <std::size_t N>
  constexpr explicit shared_timed_mutex(const char (&)[N]) noexcept {}
  template <std::size_t N>
  explicit shared_timed_mutex(char (&)[N]) noexcept {}
  template <int = 0>  // constexpr where the std:: twin's constructor is
  constexpr explicit shared_timed_mutex(std::string_view) noexcept {}
  template <int = 0>
  constexpr explicit shared_timed_mutex(site) noexcept {}
  template <int = 0>
  constexpr explicit shared_timed_mutex(const lock_class&) noexcept {}
};

#endif

}  // namespace lockgraph

#endif  // LOCKGRAPH_SHARED_MUTEX_HPP
