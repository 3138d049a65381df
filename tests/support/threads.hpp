// Small thread helpers shared by the tests: run code on a fresh thread (which holds no lock), and the
// classic "does another thread see this lock free?" probe.
#ifndef LOCKGRAPH_TESTS_SUPPORT_THREADS_HPP
#define LOCKGRAPH_TESTS_SUPPORT_THREADS_HPP

#include <mutex>
#include <optional>
#include <thread>

namespace lgtest {

// Runs f on a fresh thread (holding nothing) and waits for it.
template <class F>
void in_thread(F f) {
  std::thread(f).join();
}

// Runs f on a fresh thread and returns its result.
template <class F>
auto on_other_thread(F f) {
  std::optional<decltype(f())> result;
  std::thread([&] { result.emplace(f()); }).join();
  return *result;
}

// Blocking exclusive acquisition of a, then b (the edge a -> b).
template <class A, class B>
void nest(A& a, B& b) {
  std::lock_guard<A> ga(a);
  std::lock_guard<B> gb(b);
}

template <class M>
bool other_thread_can_lock(M& m) {
  return on_other_thread([&] {
    if (!m.try_lock()) return false;
    m.unlock();
    return true;
  });
}

template <class M>
bool other_thread_can_lock_shared(M& m) {
  return on_other_thread([&] {
    if (!m.try_lock_shared()) return false;
    m.unlock_shared();
    return true;
  });
}

}  // namespace lgtest

#endif  // LOCKGRAPH_TESTS_SUPPORT_THREADS_HPP
