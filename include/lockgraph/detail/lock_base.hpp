// lockgraph/detail/lock_base.hpp: the instrumented lock shared by the public mutex types.
//
// basic_lock<Native, Type> owns a std:: lock (`Native`) and its lock_meta, and implements the exclusive
// member functions (lock/try_lock/unlock and the timed ones when Native has them) with the hooks of
// hooks.hpp. Every member is annotated for Clang's Thread Safety Analysis (the bodies, which work on the
// underlying lock, are excluded from it). The public types in mutex.hpp and shared_mutex.hpp derive from it and add constructors
// (and, for shared mutexes, the shared members). Header code: no throw/try/typeid, C++17.
#ifndef LOCKGRAPH_DETAIL_LOCK_BASE_HPP
#define LOCKGRAPH_DETAIL_LOCK_BASE_HPP

#include <atomic>
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include "lockgraph/detail/assertions.hpp"
#include "lockgraph/detail/config.hpp"
#include "lockgraph/thread_annotations.hpp"

// The hooks lock and unlock the underlying std:: lock on the caller's behalf, which Clang's Thread Safety
// Analysis cannot follow (libc++ annotates std::mutex): the public members below carry the annotations.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wthread-safety"
#pragma clang diagnostic ignored "-Wthread-safety-beta"
#endif
#include "lockgraph/detail/hooks.hpp"
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

namespace lockgraph {
class condition_variable;
}

namespace lockgraph::detail {

struct lock_access;  // lockgraph/control.hpp: forget() reaches a lock's lock_meta through it

// native_handle_type where the std:: twin has one (std::mutex ... on POSIX; none for shared_timed_mutex).
// A base class, so the public types have the typedef exactly when the twin does.
template <class Native, class = void>
struct native_handle_base {};
template <class Native>
struct native_handle_base<Native, std::void_t<typename Native::native_handle_type>> {
  using native_handle_type = typename Native::native_handle_type;
};

template <class Native, lock_type Type>
class LOCKGRAPH_CAPABILITY("mutex") basic_lock : public native_handle_base<Native> {
 public:
  basic_lock(const basic_lock&) = delete;
  basic_lock& operator=(const basic_lock&) = delete;

  // Blocks until the calling thread owns the lock. Records the lock-order edges from every lock the
  // thread holds to this one *before* it may block; reports self_deadlock (and aborts) if the thread
  // already holds it, and deadlock (and aborts) if blocking would close a circular wait.
  LOCKGRAPH_ALWAYS_INLINE void lock() LOCKGRAPH_ACQUIRE() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    if (LOCKGRAPH_PREDICT_FALSE(!lock_fast(meta_, native_))) lock_slow();
  }

  // Never blocks, so it adds no lock-order edge into this lock; once taken it counts as held.
  bool try_lock() noexcept LOCKGRAPH_TRY_ACQUIRE(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    if (!native_.try_lock()) return false;
    after_lock(meta_, mode_try);
    return true;
  }

  // Reports bad_unlock (and leaves the lock alone) if the calling thread does not hold it.
  LOCKGRAPH_ALWAYS_INLINE void unlock() noexcept LOCKGRAPH_RELEASE() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    if (LOCKGRAPH_PREDICT_TRUE(before_unlock(meta_, mode_exclusive))) native_.unlock();
  }

  // Timed acquisitions never wait forever, so like try_lock they add no edge into this lock.
  template <class Rep, class Period, class N = Native>
  LOCKGRAPH_TRY_ACQUIRE(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
  auto try_lock_for(const std::chrono::duration<Rep, Period>& rel)
      -> decltype(std::declval<N&>().try_lock_for(rel)) {
    if (!native_.try_lock_for(rel)) return false;
    after_lock(meta_, mode_try);
    return true;
  }
  template <class Clock, class Duration, class N = Native>
  LOCKGRAPH_TRY_ACQUIRE(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
  auto try_lock_until(const std::chrono::time_point<Clock, Duration>& abs)
      -> decltype(std::declval<N&>().try_lock_until(abs)) {
    if (!native_.try_lock_until(abs)) return false;
    after_lock(meta_, mode_try);
    return true;
  }

  // Tell the analysis the calling thread holds this lock (exclusive / at least shared), and check it:
  // lockgraph knows the thread's held locks, so a false assertion raises an assertion_failed report
  // naming this call's site and what the thread holds. assert_not_held() checks the opposite; like
  // absl::Mutex::AssertNotHeld it carries no annotation (the analysis has no negative assertion).
  void assert_held(site where = site::current()) const noexcept LOCKGRAPH_ASSERT_CAPABILITY(this) {
    check_assertion(meta_, assert_exclusive, where);
  }
  void assert_shared_held(site where = site::current()) const noexcept LOCKGRAPH_ASSERT_SHARED_CAPABILITY(this) {
    check_assertion(meta_, assert_shared, where);
  }
  void assert_not_held(site where = site::current()) const noexcept { check_assertion(meta_, assert_not, where); }

  // The underlying lock's handle, where the std:: twin has one. Locking through it bypasses lockgraph.
  template <class N = Native>
  auto native_handle() -> decltype(std::declval<N&>().native_handle()) {
    return native_.native_handle();
  }

 protected:
  constexpr explicit basic_lock(site where) noexcept : meta_(where, Type) {}
  // Names: a literal is kept as it is (constexpr: constant-initialised globals), anything else interned.
  template <std::size_t N>
  constexpr explicit basic_lock(const char (&name)[N]) noexcept : meta_(name, Type) {}
  template <std::size_t N>
  explicit basic_lock(char (&name)[N]) noexcept : meta_(name, Type) {}
  constexpr explicit basic_lock(std::string_view name) noexcept : meta_(name, Type) {}
  constexpr explicit basic_lock(const lock_class& c) noexcept : meta_(c, Type) {}
  ~basic_lock() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    // A lock nobody holds can be taken; one that cannot is being destroyed while held.
    const bool held = !native_.try_lock();
    if (!held) native_.unlock();
    if (LOCKGRAPH_PREDICT_FALSE(held || meta_.node.load(std::memory_order_relaxed) != 0)) on_destroy(meta_, held);
    release_label_of(meta_);
  }

  // What lock_fast() leaves out: a thread's first acquisition, a chain-cache miss, deep nesting.
  LOCKGRAPH_NOINLINE void lock_slow() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    thread_record* t = tl_record;
    if (t != nullptr && t->depth.load(std::memory_order_relaxed) >= kInlineHeld) {
      // Deep nesting along a known chain: one call out of line, then publish the entry it wrote.
      const void* here;
      LOCKGRAPH_HERE(here);
      if (const std::uint32_t d = prepare_deep_push(t, meta_, mode_exclusive, here, __builtin_return_address(0))) {
        if (LOCKGRAPH_PREDICT_FALSE(!native_.try_lock())) {
          lock_contended(meta_, mode_exclusive, &block_exclusive<Native>, &native_);
        }
        t->depth.store(d, std::memory_order_release);
        return;
      }
    }
    before_lock_after_miss(meta_, mode_exclusive);
    if (LOCKGRAPH_PREDICT_FALSE(!native_.try_lock())) {
      lock_contended(meta_, mode_exclusive, &block_exclusive<Native>, &native_);
    }
    after_lock(meta_, mode_exclusive);
  }

  friend class ::lockgraph::condition_variable;
  friend struct lock_access;
  lock_meta& lockgraph_meta() noexcept { return meta_; }
  Native native_;
  lock_meta meta_;
};

// Recursive locks: re-entry by the owner adds nothing to the graph and pushes nothing.
template <class Native, lock_type Type>
class LOCKGRAPH_CAPABILITY("mutex") basic_recursive_lock : public native_handle_base<Native> {
 public:
  basic_recursive_lock(const basic_recursive_lock&) = delete;
  basic_recursive_lock& operator=(const basic_recursive_lock&) = delete;

  void lock() LOCKGRAPH_ACQUIRE() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    if (owned_by_me()) {
      native_.lock();  // may throw std::system_error past the implementation's recursion limit
      ++count_;
      return;
    }
    before_lock(meta_, mode_exclusive);
    if (LOCKGRAPH_PREDICT_FALSE(!native_.try_lock())) {
      lock_contended(meta_, mode_exclusive, &block_exclusive<Native>, &native_);
    }
    took(mode_exclusive);
  }

  bool try_lock() noexcept LOCKGRAPH_TRY_ACQUIRE(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    if (owned_by_me()) {
      if (!native_.try_lock()) return false;
      ++count_;
      return true;
    }
    if (!native_.try_lock()) return false;
    took(mode_try);
    return true;
  }

  void unlock() noexcept LOCKGRAPH_RELEASE() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    if (owned_by_me() && count_ > 1) {
      --count_;
      native_.unlock();
      return;
    }
    if (!before_unlock(meta_, mode_exclusive)) return;
    count_ = 0;
    owner_.store(nullptr, std::memory_order_relaxed);
    native_.unlock();
  }

  template <class Rep, class Period, class N = Native>
  LOCKGRAPH_TRY_ACQUIRE(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
  auto try_lock_for(const std::chrono::duration<Rep, Period>& rel)
      -> decltype(std::declval<N&>().try_lock_for(rel)) {
    return try_lock_until(std::chrono::steady_clock::now() + rel);
  }
  template <class Clock, class Duration, class N = Native>
  LOCKGRAPH_TRY_ACQUIRE(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS
  auto try_lock_until(const std::chrono::time_point<Clock, Duration>& abs)
      -> decltype(std::declval<N&>().try_lock_until(abs)) {
    const bool reentry = owned_by_me();
    if (!native_.try_lock_until(abs)) return false;
    if (reentry) {
      ++count_;
    } else {
      took(mode_try);
    }
    return true;
  }

  // As basic_lock's; a recursive lock held at any depth counts as held.
  // Tell the analysis the calling thread holds this lock (exclusive / at least shared), and check it:
  // lockgraph knows the thread's held locks, so a false assertion raises an assertion_failed report
  // naming this call's site and what the thread holds. assert_not_held() checks the opposite; like
  // absl::Mutex::AssertNotHeld it carries no annotation (the analysis has no negative assertion).
  void assert_held(site where = site::current()) const noexcept LOCKGRAPH_ASSERT_CAPABILITY(this) {
    check_assertion(meta_, assert_exclusive, where);
  }
  void assert_shared_held(site where = site::current()) const noexcept LOCKGRAPH_ASSERT_SHARED_CAPABILITY(this) {
    check_assertion(meta_, assert_shared, where);
  }
  void assert_not_held(site where = site::current()) const noexcept { check_assertion(meta_, assert_not, where); }

  template <class N = Native>
  auto native_handle() -> decltype(std::declval<N&>().native_handle()) {
    return native_.native_handle();
  }

 protected:
  constexpr explicit basic_recursive_lock(site where) noexcept : meta_(where, Type) {}
  // Names: a literal is kept as it is (constexpr: constant-initialised globals), anything else interned.
  template <std::size_t N>
  constexpr explicit basic_recursive_lock(const char (&name)[N]) noexcept : meta_(name, Type) {}
  template <std::size_t N>
  explicit basic_recursive_lock(char (&name)[N]) noexcept : meta_(name, Type) {}
  constexpr explicit basic_recursive_lock(std::string_view name) noexcept : meta_(name, Type) {}
  constexpr explicit basic_recursive_lock(const lock_class& c) noexcept : meta_(c, Type) {}
  ~basic_recursive_lock() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
    const bool held = owner_.load(std::memory_order_relaxed) != nullptr;
    if (LOCKGRAPH_PREDICT_FALSE(held || meta_.node.load(std::memory_order_relaxed) != 0)) on_destroy(meta_, held);
    release_label_of(meta_);
  }

 private:
  friend struct lock_access;
  lock_meta& lockgraph_meta() noexcept { return meta_; }
  bool owned_by_me() const noexcept {
    const thread_record* me = tl_record;
    return me != nullptr && owner_.load(std::memory_order_relaxed) == me;
  }
  void took(std::uint8_t mode) noexcept {
    after_lock(meta_, mode);
    owner_.store(tl_record, std::memory_order_relaxed);
    count_ = 1;
  }

  Native native_;
  lock_meta meta_;
  // Written only by the owner while it holds native_; other threads only compare it with themselves.
  std::atomic<thread_record*> owner_{nullptr};
  std::uint32_t count_ = 0;  // recursion depth; touched only by the owner
};

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_LOCK_BASE_HPP
