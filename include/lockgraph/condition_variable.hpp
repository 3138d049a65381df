// lockgraph/condition_variable.hpp: drop-in instrumented replacement for std::condition_variable.
//
// Waits on std::unique_lock<lockgraph::mutex>, with the member functions of std::condition_variable.
// While a thread waits, its mutex does not count as held (other threads taking it are not "blocked by"
// the waiter), and the thread is known to be waiting on this condition variable: long_wait reports
// (option long_wait_ms) and lockgraph::check_quiescent() name it. The mutex counts as held again when
// the wait returns. std::condition_variable_any also works with every lockgraph mutex, but without the
// waiting-on bookkeeping.
#ifndef LOCKGRAPH_CONDITION_VARIABLE_HPP
#define LOCKGRAPH_CONDITION_VARIABLE_HPP

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string_view>

#include "lockgraph/detail/config.hpp"
#include "lockgraph/mutex.hpp"

namespace lockgraph {

// One class for both builds: with LOCKGRAPH_DISABLED the bookkeeping calls compile away and the
// lockgraph::mutex *is* a std::mutex.
class condition_variable {
 public:
  using native_handle_type = std::condition_variable::native_handle_type;

  // Labelled with the construction site, like the mutexes.
#if !LOCKGRAPH_DISABLED
  condition_variable(detail::site where = detail::site::current()) noexcept
      : meta_(where, detail::lock_type::condition_variable) {}
  explicit condition_variable(std::string_view name) noexcept : meta_(name, detail::lock_type::condition_variable) {}
#else
  condition_variable() = default;
  explicit condition_variable(std::string_view) noexcept {}
#endif
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  void notify_one() noexcept { cv_.notify_one(); }
  void notify_all() noexcept { cv_.notify_all(); }

  void wait(std::unique_lock<mutex>& lock) {
    native_wait w(*this, lock);
    cv_.wait(w.native);
  }
  template <class Predicate>
  void wait(std::unique_lock<mutex>& lock, Predicate pred) {
    while (!pred()) wait(lock);
  }

  template <class Clock, class Duration>
  std::cv_status wait_until(std::unique_lock<mutex>& lock, const std::chrono::time_point<Clock, Duration>& abs) {
    native_wait w(*this, lock);
    return cv_.wait_until(w.native, abs);
  }
  template <class Clock, class Duration, class Predicate>
  bool wait_until(std::unique_lock<mutex>& lock, const std::chrono::time_point<Clock, Duration>& abs,
                  Predicate pred) {
    while (!pred()) {
      if (wait_until(lock, abs) == std::cv_status::timeout) return pred();
    }
    return true;
  }

  template <class Rep, class Period>
  std::cv_status wait_for(std::unique_lock<mutex>& lock, const std::chrono::duration<Rep, Period>& rel) {
    return wait_until(lock, std::chrono::steady_clock::now() + rel);
  }
  template <class Rep, class Period, class Predicate>
  bool wait_for(std::unique_lock<mutex>& lock, const std::chrono::duration<Rep, Period>& rel, Predicate pred) {
    return wait_until(lock, std::chrono::steady_clock::now() + rel, std::move(pred));
  }

  native_handle_type native_handle() { return cv_.native_handle(); }

 private:
  // Hands the std::mutex inside the lockgraph::mutex to the std::condition_variable for one wait,
  // with the held-stack bookkeeping around it. The destructor runs on every exit path.
  struct native_wait {
    native_wait(condition_variable& cv, std::unique_lock<mutex>& lock) noexcept
        : owner(cv), mu(*lock.mutex()), native(native_of(mu), std::adopt_lock) {
#if !LOCKGRAPH_DISABLED
      detail::cv_begin_wait(owner.meta_, mu.meta_);
#endif
    }
    ~native_wait() {
      native.release();
#if !LOCKGRAPH_DISABLED
      detail::cv_end_wait(owner.meta_, mu.meta_);
#endif
    }
    native_wait(const native_wait&) = delete;
    native_wait& operator=(const native_wait&) = delete;

    condition_variable& owner;
    mutex& mu;
    std::unique_lock<std::mutex> native;
  };

#if !LOCKGRAPH_DISABLED
  static std::mutex& native_of(mutex& m) noexcept { return m.native_; }
  std::condition_variable cv_;
  detail::lock_meta meta_;
#else
  static std::mutex& native_of(mutex& m) noexcept { return m; }
  std::condition_variable cv_;
#endif
};


}  // namespace lockgraph

#endif  // LOCKGRAPH_CONDITION_VARIABLE_HPP
