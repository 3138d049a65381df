// lockgraph/annotate.hpp: the annotation API for locks lockgraph does not provide: a spinlock, a futex
// lock, a reader/writer lock built from a mutex, a condition variable and counters, a third-party
// mutex. The role of ThreadSanitizer's __tsan_mutex_pre_lock/__tsan_mutex_post_lock and of Linux
// lockdep's lock_acquire/lock_release: the lock tells lockgraph what it does, and lockgraph checks it
// with the same lock-order graph, wait-for view, reports and options as its own types.
//
// Embed one lock_annotation in the lock (it is the lock's identity: create = construct, destroy =
// destruct) and call it around the lock's own operations:
//
//   class spinlock {
//    public:
//     void lock() {
//       ann_.before_lock();                                       // may block: lock-order edges, self_deadlock
//       if (!try_take()) ann_.contended([this] { while (!try_take()) pause(); });  // optional: deadlock view
//       ann_.after_lock();                                        // now held by this thread
//     }
//     bool try_lock() {
//       if (!try_take()) return false;
//       ann_.after_lock(lockgraph::lock_flags::try_lock);         // no edge leads into a try_lock
//       return true;
//     }
//     void unlock() {
//       if (ann_.before_unlock()) flag_.store(false, std::memory_order_release);  // false: bad_unlock
//     }
//    private:
//     std::atomic<bool> flag_{false};
//     lockgraph::lock_annotation ann_{"my spinlock"};              // or unnamed: labelled file:line
//   };
//
// The model (see docs/DESIGN.md, "Custom locks"):
//  - before_lock(flags): a *blocking* acquisition is about to start. Records the edges from the locks
//    the thread holds to this one and checks them (lock_order_inversion), and reports self_deadlock
//    (and aborts, by default) when the thread already holds it and it is not a shared-after-shared
//    re-entry. A try acquisition does not call it (with lock_flags::try_lock it does nothing).
//  - contended(block, flags): optional, for a lock that can block: runs block() (which must acquire
//    the lock) while the thread is known to wait for this lock, so a circular wait is reported as
//    deadlock, a long one as long_wait, and dumps and check_quiescent() show it. A lock that calls
//    only before_lock/after_lock is checked for order but its waits are invisible.
//  - after_lock(flags): the lock was acquired by this thread; lock_flags::shared for a reader,
//    lock_flags::try_lock for an acquisition that did not block (try_lock, a timed lock).
//  - before_unlock(flags): this thread releases it. Returns false and reports bad_unlock when the
//    thread does not hold it (in that mode): the lock should then not be released. With
//    lock_flags::any_thread the release may come from a thread other than the one that took it
//    (ownership handed over: a lock key kept by a transaction object, a reader released by a worker):
//    the caller's own hold is released if it has one, else the hold of a thread that holds it in that
//    mode (for a reader/writer lock held shared by several threads, lockgraph cannot tell whose; it
//    takes one), else nothing; it never reports and always returns true. To hand a lock over
//    explicitly, the taking thread calls before_unlock() itself when it passes the lock on (without
//    releasing the lock), and the thread that finally releases it calls before_unlock(any_thread).
//  - destruction: a lock still held by some thread is reported as unreleased_lock; its node and edges
//    leave the graph.
// The lock's own recursion is its business: a recursive lock calls these only for the outermost
// acquisition and the last release. lockgraph::forget(annotation) works as for every lockgraph lock.
//
// Cost: the same inline hooks as lockgraph::mutex (a few thread-local loads and stores per lock and
// unlock); see README.md for the annotated spinlock's measured ratio. Built with LOCKGRAPH_DISABLED=1
// every member does nothing (contended() just calls block()).
#ifndef LOCKGRAPH_ANNOTATE_HPP
#define LOCKGRAPH_ANNOTATE_HPP

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include "lockgraph/detail/config.hpp"
#include "lockgraph/detail/lock_meta.hpp"  // site
#if !LOCKGRAPH_DISABLED
#include "lockgraph/detail/assertions.hpp"  // and hooks.hpp
#endif

namespace lockgraph {

// How an acquisition or release was made. Combine with |.
enum class lock_flags : std::uint8_t {
  none = 0,
  shared = 1,      // a reader (lock_shared and the like)
  try_lock = 2,    // the acquisition could not block (try_lock, a timed lock): no edge leads into it
  any_thread = 4,  // before_unlock only: the releasing thread need not be the one that took it
};
constexpr lock_flags operator|(lock_flags a, lock_flags b) noexcept {
  return static_cast<lock_flags>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool has(lock_flags set, lock_flags f) noexcept {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(f)) != 0;
}

// What kind of lock is annotated: exclusive only, or reader/writer (readers do not block readers, so a
// cycle through its shared holds only is not an inversion, as for lockgraph::shared_mutex).
enum class custom_lock_kind : std::uint8_t { exclusive, reader_writer };

namespace detail {
struct lock_access;
}

#if !LOCKGRAPH_DISABLED

class lock_annotation {
 public:
  // Creates the lock's identity, labelled with the construction site (file:line), like an unnamed
  // lockgraph::mutex. constexpr: a global lock is constant-initialised.
  constexpr explicit lock_annotation(custom_lock_kind kind = custom_lock_kind::exclusive,
                                     detail::site where = detail::site::current()) noexcept
      : meta_(where, type_of(kind)) {}
  // Named: the name shows in reports and DOT (a literal is kept, anything else copied).
  template <std::size_t N>
  constexpr explicit lock_annotation(const char (&name)[N], custom_lock_kind kind = custom_lock_kind::exclusive) noexcept
      : meta_(name, type_of(kind)) {}
  constexpr explicit lock_annotation(std::string_view name, custom_lock_kind kind = custom_lock_kind::exclusive) noexcept
      : meta_(name, type_of(kind)) {}
  // Destroys it: unreleased_lock if a thread still holds it; its node and edges leave the graph.
  ~lock_annotation() {
    detail::annotation_destroyed(meta_);
    detail::release_label_of(meta_);
  }
  lock_annotation(const lock_annotation&) = delete;
  lock_annotation& operator=(const lock_annotation&) = delete;

  // A blocking acquisition is about to start (see the file comment). Does nothing for try_lock.
  LOCKGRAPH_ALWAYS_INLINE void before_lock(lock_flags f = lock_flags::none) noexcept {
    if (has(f, lock_flags::try_lock)) return;
    ::lockgraph::detail::before_lock(meta_, mode_of(f));
  }

  // Runs block(), which acquires the lock and may wait, with this thread known to be waiting for it.
  template <class Block>
  void contended(Block&& block, lock_flags f = lock_flags::none) {
    using B = std::remove_reference_t<Block>;
    ::lockgraph::detail::lock_contended(
        meta_, mode_of(f), [](void* p) { (*static_cast<B*>(p))(); },
        const_cast<void*>(static_cast<const volatile void*>(&block)));
  }

  // The lock was acquired by the calling thread.
  LOCKGRAPH_ALWAYS_INLINE void after_lock(lock_flags f = lock_flags::none) noexcept {
    ::lockgraph::detail::after_lock(meta_, mode_of(f));
  }

  // The calling thread is about to release it. False (bad_unlock reported): it does not hold it, and
  // the lock should be left alone. With lock_flags::any_thread: see the file comment; always true.
  LOCKGRAPH_ALWAYS_INLINE bool before_unlock(lock_flags f = lock_flags::none) noexcept {
    const std::uint8_t shared = has(f, lock_flags::shared) ? detail::mode_shared : 0;
    if (has(f, lock_flags::any_thread)) {
      ::lockgraph::detail::release_any_thread(meta_, shared);
      return true;
    }
    return ::lockgraph::detail::before_unlock(meta_, shared);
  }

  // As lockgraph::mutex's: check what the calling thread holds; assertion_failed when false.
  void assert_held(detail::site where = detail::site::current()) const noexcept {
    detail::check_assertion(meta_, detail::assert_exclusive, where);
  }
  void assert_shared_held(detail::site where = detail::site::current()) const noexcept {
    detail::check_assertion(meta_, detail::assert_shared, where);
  }
  void assert_not_held(detail::site where = detail::site::current()) const noexcept {
    detail::check_assertion(meta_, detail::assert_not, where);
  }

 private:
  friend struct detail::lock_access;
  detail::lock_meta& lockgraph_meta() noexcept { return meta_; }
  static constexpr detail::lock_type type_of(custom_lock_kind k) noexcept {
    return k == custom_lock_kind::reader_writer ? detail::lock_type::shared_mutex : detail::lock_type::mutex;
  }
  static constexpr std::uint8_t mode_of(lock_flags f) noexcept {
    return static_cast<std::uint8_t>((has(f, lock_flags::shared) ? detail::mode_shared : 0) |
                                     (has(f, lock_flags::try_lock) ? detail::mode_try : 0));
  }

  detail::lock_meta meta_;
};

#else  // LOCKGRAPH_DISABLED

class lock_annotation {
 public:
  constexpr explicit lock_annotation(custom_lock_kind = custom_lock_kind::exclusive,
                                     detail::site = detail::site::current()) noexcept {}
  template <std::size_t N>
  constexpr explicit lock_annotation(const char (&)[N], custom_lock_kind = custom_lock_kind::exclusive) noexcept {}
  constexpr explicit lock_annotation(std::string_view, custom_lock_kind = custom_lock_kind::exclusive) noexcept {}
  lock_annotation(const lock_annotation&) = delete;
  lock_annotation& operator=(const lock_annotation&) = delete;
  void before_lock(lock_flags = lock_flags::none) noexcept {}
  template <class Block>
  void contended(Block&& block, lock_flags = lock_flags::none) {
    block();
  }
  void after_lock(lock_flags = lock_flags::none) noexcept {}
  bool before_unlock(lock_flags = lock_flags::none) noexcept { return true; }
  void assert_held() const noexcept {}
  void assert_shared_held() const noexcept {}
  void assert_not_held() const noexcept {}
};

#endif

}  // namespace lockgraph

#endif  // LOCKGRAPH_ANNOTATE_HPP
