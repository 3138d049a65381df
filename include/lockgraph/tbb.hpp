// lockgraph/tbb.hpp: oneTBB's mutexes, checked by lockgraph: lockgraph::tbb::spin_mutex, queuing_mutex,
// spin_rw_mutex and rw_mutex. Each wraps the oneTBB mutex of the same name with a lock_annotation
// (lockgraph/annotate.hpp) and has its interface: the nested scoped_lock (acquire, try_acquire,
// release; for the reader/writer ones acquire(m, write), upgrade_to_writer, downgrade_to_reader,
// is_writer), the traits is_rw_mutex / is_recursive_mutex / is_fair_mutex, and lock / try_lock /
// unlock (and the _shared ones) where oneTBB has them (queuing_mutex has none), so std::lock_guard,
// std::scoped_lock and std::lock work too. Like lockgraph::mutex, each takes an optional name.
//
//   lockgraph::tbb::spin_rw_mutex table_mu{"table"};
//   lockgraph::tbb::spin_rw_mutex::scoped_lock l(table_mu, /*write=*/false);   // a reader
//
// Include it in code that has oneTBB (lockgraph does not add oneTBB to its users' include path).
// Rules as for lockgraph's own types: a blocking acquisition records lock-order edges and is watched
// for circular waits; try_acquire/try_lock adds no edge into the lock; upgrade_to_writer counts as a
// release of the read hold and a blocking write acquisition (two upgraders deadlock in oneTBB only if
// they never release, which its upgrade does); downgrade_to_reader as a release and a non-blocking
// read acquisition. Built with LOCKGRAPH_DISABLED=1 these are the oneTBB types' behaviour plus names.
#ifndef LOCKGRAPH_TBB_HPP
#define LOCKGRAPH_TBB_HPP

#include <oneapi/tbb/queuing_mutex.h>
#include <oneapi/tbb/rw_mutex.h>
#include <oneapi/tbb/spin_mutex.h>
#include <oneapi/tbb/spin_rw_mutex.h>

#include <cstddef>
#include <string_view>

#include "lockgraph/annotate.hpp"
#include "lockgraph/control.hpp"

namespace lockgraph {
namespace tbb {
namespace detail {

// What both kinds share: the oneTBB mutex and its annotation, the traits, the constructors, and
// lock / try_lock / unlock where the oneTBB mutex has them (instantiated on use: queuing_mutex has none).
template <class Native, custom_lock_kind Kind>
class annotated_mutex {
 public:
  static constexpr bool is_rw_mutex = Kind == custom_lock_kind::reader_writer;
  static constexpr bool is_recursive_mutex = false;
  static constexpr bool is_fair_mutex = Native::is_fair_mutex;

  annotated_mutex(::lockgraph::detail::site where = ::lockgraph::detail::site::current()) noexcept
      : ann_(Kind, where) {}
  template <std::size_t N>
  explicit annotated_mutex(const char (&name)[N]) noexcept : ann_(name, Kind) {}
  explicit annotated_mutex(std::string_view name) noexcept : ann_(name, Kind) {}
  annotated_mutex(const annotated_mutex&) = delete;
  annotated_mutex& operator=(const annotated_mutex&) = delete;

  template <class N = Native>
  auto lock() -> decltype(std::declval<N&>().lock()) {
    ann_.before_lock();
    if (!native_.try_lock()) ann_.contended([this] { native_.lock(); });
    ann_.after_lock();
  }
  template <class N = Native>
  auto try_lock() -> decltype(std::declval<N&>().try_lock()) {
    if (!native_.try_lock()) return false;
    ann_.after_lock(lock_flags::try_lock);
    return true;
  }
  template <class N = Native>
  auto unlock() -> decltype(std::declval<N&>().unlock()) {
    if (ann_.before_unlock()) native_.unlock();
  }

 protected:
  Native native_;
  lock_annotation ann_;

 private:
#if !LOCKGRAPH_DISABLED
  friend struct ::lockgraph::detail::lock_access;
  ::lockgraph::detail::lock_meta& lockgraph_meta() noexcept { return ::lockgraph::detail::lock_access::meta(ann_); }
#endif
};

// Exclusive oneTBB mutexes: spin_mutex, queuing_mutex.
template <class Native>
class exclusive_mutex : public annotated_mutex<Native, custom_lock_kind::exclusive> {
  using base = annotated_mutex<Native, custom_lock_kind::exclusive>;

 public:
  using base::base;

  class scoped_lock {
   public:
    scoped_lock() = default;
    explicit scoped_lock(exclusive_mutex& m) { acquire(m); }
    ~scoped_lock() {
      if (m_ != nullptr) release();
    }
    scoped_lock(const scoped_lock&) = delete;
    scoped_lock& operator=(const scoped_lock&) = delete;

    void acquire(exclusive_mutex& m) {
      m.ann_.before_lock();
      if (!native_.try_acquire(m.native_)) m.ann_.contended([&] { native_.acquire(m.native_); });
      m.ann_.after_lock();
      m_ = &m;
    }
    bool try_acquire(exclusive_mutex& m) {
      if (!native_.try_acquire(m.native_)) return false;
      m.ann_.after_lock(lock_flags::try_lock);
      m_ = &m;
      return true;
    }
    void release() {
      m_->ann_.before_unlock();  // a false answer (bad_unlock) is reported; the scoped lock still owns it
      native_.release();
      m_ = nullptr;
    }

   private:
    typename Native::scoped_lock native_;
    exclusive_mutex* m_ = nullptr;
  };
};

// Reader/writer oneTBB mutexes: spin_rw_mutex, rw_mutex.
template <class Native>
class rw_mutex : public annotated_mutex<Native, custom_lock_kind::reader_writer> {
  using base = annotated_mutex<Native, custom_lock_kind::reader_writer>;

 public:
  using base::base;

  void lock_shared() {
    this->ann_.before_lock(lock_flags::shared);
    if (!this->native_.try_lock_shared()) {
      this->ann_.contended([this] { this->native_.lock_shared(); }, lock_flags::shared);
    }
    this->ann_.after_lock(lock_flags::shared);
  }
  bool try_lock_shared() {
    if (!this->native_.try_lock_shared()) return false;
    this->ann_.after_lock(lock_flags::shared | lock_flags::try_lock);
    return true;
  }
  void unlock_shared() {
    if (this->ann_.before_unlock(lock_flags::shared)) this->native_.unlock_shared();
  }

  class scoped_lock {
   public:
    scoped_lock() = default;
    scoped_lock(rw_mutex& m, bool write = true) { acquire(m, write); }
    ~scoped_lock() {
      if (m_ != nullptr) release();
    }
    scoped_lock(const scoped_lock&) = delete;
    scoped_lock& operator=(const scoped_lock&) = delete;

    void acquire(rw_mutex& m, bool write = true) {
      const lock_flags f = write ? lock_flags::none : lock_flags::shared;
      m.ann_.before_lock(f);
      if (!native_.try_acquire(m.native_, write)) m.ann_.contended([&] { native_.acquire(m.native_, write); }, f);
      m.ann_.after_lock(f);
      m_ = &m;
      write_ = write;
    }
    bool try_acquire(rw_mutex& m, bool write = true) {
      if (!native_.try_acquire(m.native_, write)) return false;
      m.ann_.after_lock((write ? lock_flags::none : lock_flags::shared) | lock_flags::try_lock);
      m_ = &m;
      write_ = write;
      return true;
    }
    void release() {
      m_->ann_.before_unlock(write_ ? lock_flags::none : lock_flags::shared);
      native_.release();
      m_ = nullptr;
    }
    // As oneTBB's: true if the lock was not released on the way (false: another writer may have run).
    bool upgrade_to_writer() {
      if (write_) return true;
      m_->ann_.before_unlock(lock_flags::shared);
      m_->ann_.before_lock();
      bool kept = true;
      m_->ann_.contended([&] { kept = native_.upgrade_to_writer(); });
      m_->ann_.after_lock();
      write_ = true;
      return kept;
    }
    bool downgrade_to_reader() {
      if (!write_) return true;
      m_->ann_.before_unlock();
      const bool kept = native_.downgrade_to_reader();
      m_->ann_.after_lock(lock_flags::shared | lock_flags::try_lock);
      write_ = false;
      return kept;
    }
    bool is_writer() const { return write_; }

   private:
    typename Native::scoped_lock native_;
    rw_mutex* m_ = nullptr;
    bool write_ = false;
  };
};

}  // namespace detail

// The constructors of each public type are its own, so an unnamed lock is labelled with the user's
// line (a default argument is evaluated where the constructor is called).
#define LOCKGRAPH_TBB_CONSTRUCTORS(name_, base_)                                                         \
  name_(::lockgraph::detail::site where = ::lockgraph::detail::site::current()) noexcept : base_(where) {} \
  template <std::size_t N>                                                                               \
  explicit name_(const char (&name)[N]) noexcept : base_(name) {}                                        \
  explicit name_(std::string_view name) noexcept : base_(name) {}

// oneapi::tbb::spin_mutex, checked.
class spin_mutex : public detail::exclusive_mutex<::oneapi::tbb::spin_mutex> {
 public:
  LOCKGRAPH_TBB_CONSTRUCTORS(spin_mutex, exclusive_mutex)
};
// oneapi::tbb::queuing_mutex, checked (scoped_lock only, as oneTBB's).
class queuing_mutex : public detail::exclusive_mutex<::oneapi::tbb::queuing_mutex> {
 public:
  LOCKGRAPH_TBB_CONSTRUCTORS(queuing_mutex, exclusive_mutex)
};
// oneapi::tbb::spin_rw_mutex, checked.
class spin_rw_mutex : public detail::rw_mutex<::oneapi::tbb::spin_rw_mutex> {
 public:
  LOCKGRAPH_TBB_CONSTRUCTORS(spin_rw_mutex, rw_mutex)
};
// oneapi::tbb::rw_mutex, checked.
class rw_mutex : public detail::rw_mutex<::oneapi::tbb::rw_mutex> {
 public:
  LOCKGRAPH_TBB_CONSTRUCTORS(rw_mutex, detail::rw_mutex<::oneapi::tbb::rw_mutex>)
};

#undef LOCKGRAPH_TBB_CONSTRUCTORS

}  // namespace tbb
}  // namespace lockgraph

#endif  // LOCKGRAPH_TBB_HPP
