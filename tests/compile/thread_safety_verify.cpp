// Compile-only test of lockgraph's Thread Safety Analysis annotations, run by ctest with
//   clang++ -std=c++17 -fsyntax-only -Wthread-safety -Wthread-safety-beta -Xclang -verify
// on libstdc++ and on libc++ (-D_LIBCPP_ENABLE_THREAD_SAFETY_ANNOTATIONS). Correct code must give no
// diagnostic; each planted mistake must give exactly the `expected-warning` written on its line (clang's
// -verify fails on any diagnostic not expected and on any expected one missing). lockgraph's own headers
// come in through -I, so a warning inside them fails the test too. The expected diagnostics are the
// ones clang gives for absl::Mutex with absl::MutexLock / ReaderMutexLock on the same mistakes (checked by
// hand against libabsl-dev: same wording, same notes).
#include <lockgraph/lockgraph.hpp>

#include <chrono>
#include <mutex>
#include <shared_mutex>

// A user's own macros, as Abseil/Chromium-style code has them: the attributes are clang's standard ones.
#define GUARDED_BY(x) __attribute__((guarded_by(x)))
#define REQUIRES(...) __attribute__((requires_capability(__VA_ARGS__)))

namespace {

struct account {
  lockgraph::mutex mu{"account"};
  int balance GUARDED_BY(mu) = 0;
  int limit LOCKGRAPH_GUARDED_BY(mu) = 0;

  lockgraph::shared_mutex rw;
  int config LOCKGRAPH_GUARDED_BY(rw) = 0;

  lockgraph::timed_mutex tm;
  int timed LOCKGRAPH_GUARDED_BY(tm) = 0;

  lockgraph::recursive_mutex rm;
  int nested LOCKGRAPH_GUARDED_BY(rm) = 0;

  lockgraph::shared_timed_mutex stm;
  int shared_timed LOCKGRAPH_GUARDED_BY(stm) = 0;

  lockgraph::condition_variable cv;
  lockgraph::condition_variable_any cv_any;

  void add_locked(int n) REQUIRES(mu) { balance += n; }
  int read_locked() const LOCKGRAPH_REQUIRES_SHARED(rw) { return config; }
  void deposit(int n) LOCKGRAPH_EXCLUDES(mu);
};

// ---- correct code: no diagnostic ----------------------------------------------------------------

void plain_members(account& a) {
  a.mu.lock();
  a.balance += 1;
  a.add_locked(2);
  a.mu.unlock();

  if (a.mu.try_lock()) {
    a.balance += 1;
    a.mu.unlock();
  }
  if (a.tm.try_lock_for(std::chrono::milliseconds(1))) {
    a.timed = 1;
    a.tm.unlock();
  }
  if (a.tm.try_lock_until(std::chrono::steady_clock::now())) {
    a.timed = 2;
    a.tm.unlock();
  }
  a.rm.lock();
  a.nested = 1;
  a.rm.unlock();
}

void shared_members(account& a) {
  a.rw.lock_shared();
  int x = a.config;
  x += a.read_locked();
  a.rw.unlock_shared();
  a.rw.lock();
  a.config = x;
  a.rw.unlock();
  if (a.rw.try_lock_shared()) {
    x = a.config;
    a.rw.unlock_shared();
  }
  if (a.stm.try_lock_shared_for(std::chrono::milliseconds(1))) {
    x = a.shared_timed;
    a.stm.unlock_shared();
  }
  (void)x;
}

void account::deposit(int n) {
  lockgraph::mutex_lock l(mu);
  balance += n;
}

void guards(account& a) {
  {
    lockgraph::mutex_lock l(a.mu);
    a.balance = 1;
  }
  {
    lockgraph::writer_lock w(a.rw);
    a.config = 1;
  }
  {
    lockgraph::reader_lock r(a.rw);
    int x = a.config;
    (void)x;
  }
  {
    lockgraph::mutex_lock l(a.rm);
    a.nested = 1;
  }
  {
    a.mu.lock();
    lockgraph::mutex_lock l(a.mu, std::adopt_lock);
    a.balance = 2;
  }
  {
    lockgraph::unique_lock u(a.mu);
    a.balance = 3;
    u.unlock();
    u.lock();
    a.balance = 4;
  }
  {
    lockgraph::unique_lock u(a.mu, std::defer_lock);
    u.lock();
    a.balance = 5;
  }
}

// The condition variable waits on an annotated unique_lock; the data stays guarded across the wait.
// The predicate runs with the lock held, which the analysis cannot see from inside the lambda:
// assert_held() says so (and checks it).
void waits(account& a) {
  lockgraph::unique_lock u(a.mu);
  a.cv.wait(u, [&] {
    a.mu.assert_held();
    return a.balance > 0;
  });
  a.cv.wait_for(u, std::chrono::milliseconds(1));
  a.balance -= 1;
  a.cv_any.wait_for(u, std::chrono::milliseconds(1));
  a.balance -= 1;
}

// assert_held() tells the analysis what the caller holds (and checks it at run time).
void asserted(account& a) {
  a.mu.assert_held();
  a.balance = 1;
  a.rw.assert_shared_held();
  int x = a.config;
  (void)x;
}
void not_held(account& a) LOCKGRAPH_EXCLUDES(a.mu) {
  a.mu.assert_not_held();
  a.deposit(1);
}

// std::scoped_lock / std::lock / std::lock_guard still compile with lockgraph types.
void std_guards(account& a) LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS {
  std::scoped_lock both(a.mu, a.tm);
  std::lock_guard<lockgraph::mutex> g(a.rm.native_handle() ? a.mu : a.mu, std::adopt_lock);
  std::shared_lock<lockgraph::shared_mutex> r(a.rw);
}

#if defined(_LIBCPP_VERSION)
// libc++ annotates std::lock_guard (with _LIBCPP_ENABLE_THREAD_SAFETY_ANNOTATIONS): it works on lockgraph
// locks as on std::mutex.
void libcxx_lock_guard(account& a) {
  std::lock_guard<lockgraph::mutex> g(a.mu);
  a.balance = 7;
}
void libcxx_lock_guard_released(account& a) {
  { std::lock_guard<lockgraph::mutex> g(a.mu); }
  a.balance = 8;  // expected-warning {{writing variable 'balance' requires holding mutex 'a.mu' exclusively}}
}
#endif

// ---- planted mistakes: exactly these diagnostics ---------------------------------------------------

void unguarded_write(account& a) {
  a.balance = 1;  // expected-warning {{writing variable 'balance' requires holding mutex 'a.mu' exclusively}}
}

void unguarded_read(account& a) {
  int x = a.limit;  // expected-warning {{reading variable 'limit' requires holding mutex 'a.mu'}}
  (void)x;
}

void write_under_reader_lock(account& a) {
  lockgraph::reader_lock r(a.rw);
  a.config = 1;  // expected-warning {{writing variable 'config' requires holding mutex 'a.rw' exclusively}}
}

void call_without_lock(account& a) {
  a.add_locked(1);  // expected-warning {{calling function 'add_locked' requires holding mutex 'a.mu' exclusively}}
}

void double_lock(account& a) {
  lockgraph::mutex_lock l(a.mu);  // expected-note {{mutex acquired here}}
  a.mu.lock();  // expected-warning {{acquiring mutex 'a.mu' that is already held}}
  a.mu.unlock();
}

void leaked(account& a) {
  a.mu.lock();  // expected-note {{mutex acquired here}}
}  // expected-warning {{mutex 'a.mu' is still held at the end of function}}

void unlock_unheld(account& a) {
  a.tm.unlock();  // expected-warning {{releasing mutex 'a.tm' that was not held}}
}

void excluded_but_held(account& a) {
  lockgraph::mutex_lock l(a.mu);
  a.deposit(1);  // expected-warning {{cannot call function 'deposit' while mutex 'a.mu' is held}}
}

void after_unlock(account& a) {
  lockgraph::unique_lock u(a.mu);
  u.unlock();
  a.balance = 1;  // expected-warning {{writing variable 'balance' requires holding mutex 'a.mu' exclusively}}
}

void try_lock_unchecked(account& a) {
  a.stm.try_lock_shared();
  int x = a.shared_timed;  // expected-warning {{reading variable 'shared_timed' requires holding mutex 'a.stm'}}
  (void)x;
}

// Recursive re-entry: clang 14's analysis has no reentrant capabilities (neither has absl::Mutex's).
void reentry(account& a) {
  a.rm.lock();  // expected-note {{mutex acquired here}}
  a.rm.lock();  // expected-warning {{acquiring mutex 'a.rm' that is already held}}
  a.rm.unlock();  // expected-note {{mutex released here}}
  a.rm.unlock();  // expected-warning {{releasing mutex 'a.rm' that was not held}}
}

}  // namespace
