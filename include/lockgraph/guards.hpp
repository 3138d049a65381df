// lockgraph/guards.hpp: scoped lock guards annotated for Clang's Thread Safety Analysis.
//
// libstdc++'s std::lock_guard, std::unique_lock and std::shared_lock carry no annotations (libc++
// annotates only lock_guard), so with them every access to LOCKGRAPH_GUARDED_BY data is flagged. These
// guards work with any lockgraph lock (and any other annotated lockable) and tell the analysis what they
// hold, like absl::MutexLock, absl::ReaderMutexLock and absl::WriterMutexLock:
//
//   lockgraph::mutex_lock l(mu);      // exclusive, for the scope           (std::lock_guard)
//   lockgraph::writer_lock w(rw);     // exclusive on a shared mutex        (absl::WriterMutexLock)
//   lockgraph::reader_lock r(rw);     // shared, for the scope              (std::shared_lock)
//   lockgraph::unique_lock u(mu);     // exclusive, may unlock() and lock() again; *is* a
//                                     // std::unique_lock, so condition_variable::wait(u) takes it
//
// They add nothing at run time: the lock's own members do the checking.
#ifndef LOCKGRAPH_GUARDS_HPP
#define LOCKGRAPH_GUARDS_HPP

#include <mutex>

#include "lockgraph/detail/config.hpp"
#include "lockgraph/thread_annotations.hpp"

namespace lockgraph {

// Holds `m` exclusive from construction to destruction.
template <class Mutex>
class LOCKGRAPH_SCOPED_CAPABILITY mutex_lock {
 public:
  using mutex_type = Mutex;
  explicit mutex_lock(Mutex& m) LOCKGRAPH_ACQUIRE(m) : m_(m) { m_.lock(); }
  // Takes over a lock the caller already holds.
  mutex_lock(Mutex& m, std::adopt_lock_t) LOCKGRAPH_REQUIRES(m) : m_(m) {}
  ~mutex_lock() LOCKGRAPH_RELEASE() { m_.unlock(); }
  mutex_lock(const mutex_lock&) = delete;
  mutex_lock& operator=(const mutex_lock&) = delete;

 private:
  Mutex& m_;
};

// Holds a shared mutex exclusive (a writer) from construction to destruction.
template <class Mutex>
class LOCKGRAPH_SCOPED_CAPABILITY writer_lock {
 public:
  using mutex_type = Mutex;
  explicit writer_lock(Mutex& m) LOCKGRAPH_ACQUIRE(m) : m_(m) { m_.lock(); }
  writer_lock(Mutex& m, std::adopt_lock_t) LOCKGRAPH_REQUIRES(m) : m_(m) {}
  ~writer_lock() LOCKGRAPH_RELEASE() { m_.unlock(); }
  writer_lock(const writer_lock&) = delete;
  writer_lock& operator=(const writer_lock&) = delete;

 private:
  Mutex& m_;
};

// Holds a shared mutex shared (a reader) from construction to destruction.
template <class Mutex>
class LOCKGRAPH_SCOPED_CAPABILITY reader_lock {
 public:
  using mutex_type = Mutex;
  explicit reader_lock(Mutex& m) LOCKGRAPH_ACQUIRE_SHARED(m) : m_(m) { m_.lock_shared(); }
  reader_lock(Mutex& m, std::adopt_lock_t) LOCKGRAPH_REQUIRES_SHARED(m) : m_(m) {}
  ~reader_lock() LOCKGRAPH_RELEASE() { m_.unlock_shared(); }
  reader_lock(const reader_lock&) = delete;
  reader_lock& operator=(const reader_lock&) = delete;

 private:
  Mutex& m_;
};

// An annotated std::unique_lock: exclusive from construction, may be unlocked and locked again, and
// passes as the std::unique_lock<Mutex>& that lockgraph::condition_variable::wait() takes (the wait
// releases and re-takes the lock inside, so the analysis rightly sees it held across the call).
// Not movable (the analysis cannot follow a moved lock); for try_to_lock use m.try_lock() and adopt.
template <class Mutex>
class LOCKGRAPH_SCOPED_CAPABILITY unique_lock : public std::unique_lock<Mutex> {
  using base = std::unique_lock<Mutex>;

 public:
  explicit unique_lock(Mutex& m) LOCKGRAPH_ACQUIRE(m) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS : base(m) {}
  unique_lock(Mutex& m, std::adopt_lock_t) LOCKGRAPH_REQUIRES(m) : base(m, std::adopt_lock) {}
  unique_lock(Mutex& m, std::defer_lock_t) noexcept LOCKGRAPH_EXCLUDES(m) : base(m, std::defer_lock) {}
  ~unique_lock() LOCKGRAPH_RELEASE() = default;
  unique_lock(const unique_lock&) = delete;
  unique_lock& operator=(const unique_lock&) = delete;

  void lock() LOCKGRAPH_ACQUIRE() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS { base::lock(); }
  bool try_lock() LOCKGRAPH_TRY_ACQUIRE(true) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS { return base::try_lock(); }
  void unlock() LOCKGRAPH_RELEASE() LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS { base::unlock(); }
};

}  // namespace lockgraph

#endif  // LOCKGRAPH_GUARDS_HPP
