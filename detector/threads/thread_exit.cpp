// thread_exit.cpp: see include/lockgraph/detail/thread_exit.hpp.
//
// lockgraph::notify_all_at_thread_exit() leaves the mutex on the thread's held stack; this file's
// thread_local list takes it off when the thread exits. The list is constructed at the first hand-over,
// which is after the thread registered with the detector (it holds the mutex), so it is destroyed
// before the registration's exit guard, whose unreleased-lock check then no longer sees the mutex.
#include <new>

#include "lockgraph/detail/thread_exit.hpp"

namespace lockgraph::detail {
namespace {

// A list, newest first (released like nested scopes). Allocated with new (std::nothrow): nothing may
// throw out of the noexcept hook that fills it.
struct exit_release {
  lock_meta* lock;
  exit_release* next;
};
struct exit_releases {
  exit_release* head = nullptr;
  ~exit_releases() {
    // Only the held-stack entry: the std:: runtime unlocks the underlying mutex afterwards.
    while (exit_release* r = head) {
      head = r->next;
      before_unlock(*r->lock, mode_exclusive);
      delete r;
    }
  }
};
thread_local exit_releases t_exit_releases;

}  // namespace

void release_at_thread_exit(lock_meta& m) noexcept {
  auto* r = new (std::nothrow) exit_release{&m, nullptr};
  // Out of memory: the lock is then reported as unreleased at thread exit, the lesser harm.
  if (r == nullptr) return;
  exit_releases& list = t_exit_releases;
  r->next = list.head;
  list.head = r;
}

}  // namespace lockgraph::detail
