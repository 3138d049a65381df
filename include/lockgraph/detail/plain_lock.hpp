// lockgraph/detail/plain_lock.hpp: the lockgraph types when lockgraph is compiled out
// (LOCKGRAPH_DISABLED=1): the std:: lock plus the naming constructor, the assert_* members (which then
// check nothing) and the Thread Safety Analysis annotations, so annotated code builds the same way in both
// modes. Every member forwards to the std:: one.
#ifndef LOCKGRAPH_DETAIL_PLAIN_LOCK_HPP
#define LOCKGRAPH_DETAIL_PLAIN_LOCK_HPP

#include <chrono>
#include <string_view>
#include <utility>

#include "lockgraph/thread_annotations.hpp"

namespace lockgraph::detail {

template <class Std>
class LOCKGRAPH_CAPABILITY("mutex") plain_lock : public Std {
 public:
  void lock() LOCKGRAPH_ACQUIRE() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS { Std::lock(); }
  bool try_lock() LOCKGRAPH_TRY_ACQUIRE(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS { return Std::try_lock(); }
  void unlock() LOCKGRAPH_RELEASE() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS { Std::unlock(); }
  template <class Rep, class Period, class S = Std>
  LOCKGRAPH_TRY_ACQUIRE(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
  auto try_lock_for(const std::chrono::duration<Rep, Period>& rel)
      -> decltype(std::declval<S&>().try_lock_for(rel)) {
    return Std::try_lock_for(rel);
  }
  template <class Clock, class Duration, class S = Std>
  LOCKGRAPH_TRY_ACQUIRE(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
  auto try_lock_until(const std::chrono::time_point<Clock, Duration>& abs)
      -> decltype(std::declval<S&>().try_lock_until(abs)) {
    return Std::try_lock_until(abs);
  }
  void assert_held() const noexcept LOCKGRAPH_ASSERT_CAPABILITY(this) {}
  void assert_shared_held() const noexcept LOCKGRAPH_ASSERT_SHARED_CAPABILITY(this) {}
  void assert_not_held() const noexcept {}

 protected:
  plain_lock() = default;
};

template <class Std>
class LOCKGRAPH_CAPABILITY("mutex") plain_shared_lock : public plain_lock<Std> {
 public:
  void lock_shared() LOCKGRAPH_ACQUIRE_SHARED() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS { Std::lock_shared(); }
  bool try_lock_shared() LOCKGRAPH_TRY_ACQUIRE_SHARED(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    return Std::try_lock_shared();
  }
  void unlock_shared() LOCKGRAPH_RELEASE_SHARED() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS { Std::unlock_shared(); }
  template <class Rep, class Period, class S = Std>
  LOCKGRAPH_TRY_ACQUIRE_SHARED(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
  auto try_lock_shared_for(const std::chrono::duration<Rep, Period>& rel)
      -> decltype(std::declval<S&>().try_lock_shared_for(rel)) {
    return Std::try_lock_shared_for(rel);
  }
  template <class Clock, class Duration, class S = Std>
  LOCKGRAPH_TRY_ACQUIRE_SHARED(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
  auto try_lock_shared_until(const std::chrono::time_point<Clock, Duration>& abs)
      -> decltype(std::declval<S&>().try_lock_shared_until(abs)) {
    return Std::try_lock_shared_until(abs);
  }

 protected:
  plain_shared_lock() = default;
};

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_PLAIN_LOCK_HPP
