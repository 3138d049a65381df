// custom_spinlock: a lock lockgraph does not provide, instrumented in a few lines.
//
// `spinlock` below is a user's own test-and-set spinlock. Embedding a lockgraph::lock_annotation and
// calling it around the lock's operations (before_lock, after_lock, before_unlock: the role of
// ThreadSanitizer's __tsan_mutex_pre_lock/post_lock) gives it everything lockgraph::mutex has: the
// lock-order graph, inversion and self-deadlock reports, and, through contended(), the wait-for view
// (a circular wait of spinning threads is reported as a deadlock instead of burning CPU forever).
//
// The program takes the two spinlocks in opposite orders on two threads, one after the other, so it
// never hangs, and lockgraph reports the lock_order_inversion "spin cache => spin index => spin cache".
//
// Run it:
//   build/examples/custom_spinlock
//   scripts/deadlock-gate.sh -- build/examples/custom_spinlock
#include <lockgraph/lockgraph.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string_view>
#include <thread>

class spinlock {
 public:
  explicit spinlock(std::string_view name) : ann_(name) {}

  void lock() {
    ann_.before_lock();  // may block: lockgraph records and checks the order here
    if (!take()) ann_.contended([this] {  // optional: this thread is known to wait for this lock
        while (!take()) std::this_thread::yield();
      });
    ann_.after_lock();
  }
  bool try_lock() {
    if (!take()) return false;
    ann_.after_lock(lockgraph::lock_flags::try_lock);  // a try never blocks: no order into it
    return true;
  }
  void unlock() {
    if (ann_.before_unlock()) flag_.store(false, std::memory_order_release);  // false: bad_unlock
  }

 private:
  bool take() { return !flag_.exchange(true, std::memory_order_acquire); }

  std::atomic<bool> flag_{false};
  lockgraph::lock_annotation ann_;
};

spinlock cache_lock("spin cache");
spinlock index_lock("spin index");

int main() {
  std::thread([] {
    std::lock_guard<spinlock> c(cache_lock);
    std::lock_guard<spinlock> i(index_lock);
    std::puts("writer: updated cache, then index");
  }).join();
  std::thread([] {
    std::lock_guard<spinlock> i(index_lock);
    std::lock_guard<spinlock> c(cache_lock);  // the opposite order: reported here
    std::puts("reader: read index, then cache");
  }).join();
  std::printf("lockgraph reported %zu problem(s)\n", lockgraph::reports().size());
}
