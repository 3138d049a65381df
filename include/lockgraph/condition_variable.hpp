// lockgraph/condition_variable.hpp: drop-in instrumented replacement for std::condition_variable.
//
// Waits on std::unique_lock<lockgraph::mutex>, with the member functions of std::condition_variable.
// While a thread waits, its mutex does not count as held (other threads taking it are not "blocked by"
// the waiter), and the thread is known to be waiting on this condition variable: long_wait reports
// (option long_wait_ms) and lockgraph::check_quiescent() name it. The mutex counts as held again when
// the wait returns.
//
// condition_variable_any (drop-in for std::condition_variable_any) waits on any lock: every lockgraph
// lock, std::unique_lock / std::shared_lock of one, lockgraph's guards, or any other BasicLockable. It
// releases and re-takes that lock through the lock's own unlock()/lock(), so the held stack follows
// the lock itself (the re-take is checked like any acquisition: lock order, circular waits), and the
// thread is known to be waiting on the condition variable meanwhile, as above.
//
// notify_all_at_thread_exit(cv, std::move(lock)) is the twin of std::notify_all_at_thread_exit: the
// mutex stays locked, and counts as held by the thread, until the thread exits; then it is released
// (not reported as an unreleased lock) and cv notified.
#ifndef LOCKGRAPH_CONDITION_VARIABLE_HPP
#define LOCKGRAPH_CONDITION_VARIABLE_HPP

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>

#include "lockgraph/detail/config.hpp"
#include "lockgraph/mutex.hpp"
#include "lockgraph/thread_annotations.hpp"
#if !LOCKGRAPH_DISABLED
#include "lockgraph/detail/thread_exit.hpp"
#endif

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
  // Named: as the mutexes (a literal is kept, anything else interned), but never constexpr:
  // std::condition_variable's constructor is not, so a global condition variable is initialised
  // dynamically, like its std:: twin.
  template <std::size_t N>
  explicit condition_variable(const char (&name)[N]) noexcept : meta_(name, detail::lock_type::condition_variable) {}
  template <std::size_t N>
  explicit condition_variable(char (&name)[N]) noexcept : meta_(name, detail::lock_type::condition_variable) {}
  explicit condition_variable(std::string_view name) noexcept : meta_(name, detail::lock_type::condition_variable) {}
  ~condition_variable() { detail::release_label_of(meta_); }
#else
  condition_variable() = default;
  template <std::size_t N>
  explicit condition_variable(const char (&)[N]) noexcept {}
  template <std::size_t N>
  explicit condition_variable(char (&)[N]) noexcept {}
  explicit condition_variable(std::string_view) noexcept {}
  explicit condition_variable(site) noexcept {}
#endif
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  void notify_one() noexcept {
    count_notify();
    cv_.notify_one();
  }
  void notify_all() noexcept {
    count_notify();
    cv_.notify_all();
  }

  void wait(std::unique_lock<mutex>& lock) {
    native_wait w(*this, lock, /*timed=*/false);
    cv_.wait(w.native);
  }
  template <class Predicate>
  void wait(std::unique_lock<mutex>& lock, Predicate pred) {
    while (!pred()) wait(lock);
  }

  template <class Clock, class Duration>
  std::cv_status wait_until(std::unique_lock<mutex>& lock, const std::chrono::time_point<Clock, Duration>& abs) {
    native_wait w(*this, lock, /*timed=*/true);
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
  friend void notify_all_at_thread_exit(condition_variable& cv, std::unique_lock<mutex> lock);

  // Hands the std::mutex inside the lockgraph::mutex to the std::condition_variable for one wait,
  // with the held-stack bookkeeping around it. The destructor runs on every exit path.
  struct native_wait {
    native_wait(condition_variable& cv, std::unique_lock<mutex>& lock, bool timed) noexcept
        LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS : owner(cv), mu(*lock.mutex()), native(native_of(mu), std::adopt_lock) {
#if !LOCKGRAPH_DISABLED
      detail::cv_begin_wait(owner.meta_, mu.meta_, timed);
#else
      (void)timed;
#endif
    }
    ~native_wait() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
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
  static detail::lock_meta& meta_of(mutex& m) noexcept { return m.meta_; }
  // A waiter whose notify count moved since its wait began may be awake: all_threads_blocked never
  // counts it as asleep.
  void count_notify() noexcept { detail::count_notify(meta_); }
  std::condition_variable cv_;
  detail::lock_meta meta_;
#else
  static std::mutex& native_of(mutex& m) noexcept { return m; }
  static void count_notify() noexcept {}
  std::condition_variable cv_;
#endif
};

// Drop-in for std::notify_all_at_thread_exit, for lockgraph's condition variable and mutex. `lock` must
// own its mutex; it stays locked (and counts as held by this thread) until the thread exits, after all
// its thread_local objects are destroyed; then the mutex is unlocked and cv.notify_all() called.
inline void notify_all_at_thread_exit(condition_variable& cv, std::unique_lock<mutex> lock) {
  mutex& mu = *lock.release();
#if !LOCKGRAPH_DISABLED
  // The std:: function unlocks the std::mutex inside after the thread's thread_local objects are gone;
  // lockgraph drops the held entry at thread exit, before its unreleased-lock check.
  detail::release_at_thread_exit(condition_variable::meta_of(mu));
#endif
  std::notify_all_at_thread_exit(cv.cv_, std::unique_lock<std::mutex>(condition_variable::native_of(mu), std::adopt_lock));
}

// Drop-in for std::condition_variable_any that records its waits like condition_variable (see above).
class condition_variable_any {
 public:
#if !LOCKGRAPH_DISABLED
  condition_variable_any(detail::site where = detail::site::current())
      : meta_(where, detail::lock_type::condition_variable) {}
  template <std::size_t N>
  explicit condition_variable_any(const char (&name)[N]) : meta_(name, detail::lock_type::condition_variable) {}
  template <std::size_t N>
  explicit condition_variable_any(char (&name)[N]) : meta_(name, detail::lock_type::condition_variable) {}
  explicit condition_variable_any(std::string_view name) : meta_(name, detail::lock_type::condition_variable) {}
  ~condition_variable_any() { detail::release_label_of(meta_); }
#else
  condition_variable_any() = default;
  template <std::size_t N>
  explicit condition_variable_any(const char (&)[N]) {}
  template <std::size_t N>
  explicit condition_variable_any(char (&)[N]) {}
  explicit condition_variable_any(std::string_view) {}
#endif
  condition_variable_any(const condition_variable_any&) = delete;
  condition_variable_any& operator=(const condition_variable_any&) = delete;

  // Taking the internal mutex orders a notification after a waiter's unlock-and-sleep, so none is lost.
  void notify_one() noexcept {
    std::lock_guard<std::mutex> g(*internal_);
#if !LOCKGRAPH_DISABLED
    detail::count_notify(meta_);
#endif
    cv_.notify_one();
  }
  void notify_all() noexcept {
    std::lock_guard<std::mutex> g(*internal_);
#if !LOCKGRAPH_DISABLED
    detail::count_notify(meta_);
#endif
    cv_.notify_all();
  }

  template <class Lock>
  void wait(Lock& lock) {
    wait_scope<Lock> w(*this, lock, /*timed=*/false);
    cv_.wait(w.inner);
  }
  template <class Lock, class Predicate>
  void wait(Lock& lock, Predicate pred) {
    while (!pred()) wait(lock);
  }

  template <class Lock, class Clock, class Duration>
  std::cv_status wait_until(Lock& lock, const std::chrono::time_point<Clock, Duration>& abs) {
    wait_scope<Lock> w(*this, lock, /*timed=*/true);
    return cv_.wait_until(w.inner, abs);
  }
  template <class Lock, class Clock, class Duration, class Predicate>
  bool wait_until(Lock& lock, const std::chrono::time_point<Clock, Duration>& abs, Predicate pred) {
    while (!pred()) {
      if (wait_until(lock, abs) == std::cv_status::timeout) return pred();
    }
    return true;
  }

  template <class Lock, class Rep, class Period>
  std::cv_status wait_for(Lock& lock, const std::chrono::duration<Rep, Period>& rel) {
    return wait_until(lock, std::chrono::steady_clock::now() + rel);
  }
  template <class Lock, class Rep, class Period, class Predicate>
  bool wait_for(Lock& lock, const std::chrono::duration<Rep, Period>& rel, Predicate pred) {
    return wait_until(lock, std::chrono::steady_clock::now() + rel, std::move(pred));
  }

 private:
  // One wait: take the internal mutex, mark the thread as waiting on this condition variable, release
  // the user's lock through its own unlock() (the held stack pops it), and on every way out undo
  // it in reverse: stop waiting, drop the internal mutex, re-take the user's lock through its lock()
  // (checked like any blocking acquisition). A copy of the internal mutex's owner keeps it alive if
  // the condition variable is destroyed right after notifying, which std:: allows.
  template <class Lock>
  struct wait_scope {
    wait_scope(condition_variable_any& cv, Lock& l, bool timed) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
        : owner(cv), user(l), keep(cv.internal_), inner(*keep) {
#if !LOCKGRAPH_DISABLED
      // Waiting from before the user's lock is free: whoever takes it next sees this thread waiting.
      // The user's lock stays on the held stack until its own unlock() below pops it (the cv's own
      // meta is passed as the mutex: nothing for the detector to pop or re-push). Only then is the
      // wait settled: a thread that still holds the user's lock is not asleep.
      detail::cv_begin_wait(owner.meta_, owner.meta_, /*timed=*/true);
#endif
      user.unlock();
#if !LOCKGRAPH_DISABLED
      if (!timed) detail::cv_wait_settled(owner.meta_);
#else
      (void)timed;
#endif
    }
    ~wait_scope() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
#if !LOCKGRAPH_DISABLED
      detail::cv_end_wait(owner.meta_, owner.meta_);
#endif
      inner.unlock();
      user.lock();
    }
    wait_scope(const wait_scope&) = delete;
    wait_scope& operator=(const wait_scope&) = delete;

    condition_variable_any& owner;
    Lock& user;
    std::shared_ptr<std::mutex> keep;
    std::unique_lock<std::mutex> inner;
  };

  std::shared_ptr<std::mutex> internal_ = std::make_shared<std::mutex>();
  std::condition_variable cv_;
#if !LOCKGRAPH_DISABLED
  detail::lock_meta meta_;
#endif
};

}  // namespace lockgraph

#endif  // LOCKGRAPH_CONDITION_VARIABLE_HPP
