// mutex_bench.cpp: what lockgraph's instrumented locks cost next to the std:: types they replace, and
// next to absl::Mutex with its deadlock detection on (kReport), in one binary.
//
// Every case is registered once per implementation, side by side:
//   BM_Std<Case>        std::mutex / std::shared_mutex / std::recursive_mutex / std::condition_variable
//   BM_Lockgraph<Case>  the lockgraph:: twins
//   BM_Absl<Case>       absl::Mutex (+ absl::CondVar) with SetMutexDeadlockDetectionMode(kReport), when
//                       the build found Abseil (LOCKGRAPH_BENCH_HAVE_ABSL, set by CMakeLists.txt)
// scripts/bench.sh runs this binary three ways and turns the JSON into one table of ratios:
//   - as built (checking on);
//   - with LOCKGRAPH_OPTIONS=enabled=0 in a separate process: the option is read once per process, so
//     "checking off" cannot be a case inside the checking-on process;
//   - as mutex_bench_compiled_out: this same file built against the LOCKGRAPH_DISABLED=1 headers, where
//     BM_Lockgraph<Case> measures the zero-overhead std:: wrappers.
// The ratio columns always divide by BM_Std<Case> from the same process.
//
// The process is made multi-threaded before anything is measured (main() starts and joins one
// thread). glibc 2.34+ lets pthread_mutex_lock skip its atomic instruction while a process has never
// started a second thread; pthread_mutex_trylock, which lockgraph's lock() uses, has no such shortcut.
// A program that needs mutexes has threads, so the multi-threaded cost is the one to compare.
// LOCKGRAPH_BENCH_SINGLE_THREADED=1 skips that step; bench.sh uses it (non-threaded cases only, since
// the first threaded case makes the process multi-threaded for good) to show the single-threaded case.
//
// Cases (all locks are warmed up before timing, so every lock-order edge is already known):
//   Single            one uncontended lock()/unlock()
//   NestedPair        a.lock(); b.lock(); b.unlock(); a.unlock()
//   Depth4, Depth16   N locks taken in order, released in reverse
//   SharedRead        lock_shared()/unlock_shared() (absl: ReaderLock/ReaderUnlock)
//   RecursiveReentry  re-entry of a recursive_mutex the thread already holds (no Abseil twin)
//   CondVarPingPong   two threads hand a turn back and forth through one condition variable; the time
//                     is per hand-off (wall clock)
//   PrivatePair       the NestedPair loop on 1, 2 and 8 threads, each thread on its own two locks.
//                     Reported time is wall time / (iterations of all threads); bench.sh multiplies by
//                     the thread count to get the per-thread time per iteration and its scaling.
//   Contended         2 threads lock()/unlock() one shared lock (wall clock, per acquisition)
//   Depth64, Depth256, Depth1024
//                     deep nesting with known edges (issue 9 item 8: past 48 held locks every
//                     acquisition leaves the inline path; its cost per lock must stay flat in depth);
//                     std and lockgraph only (absl::Mutex's deadlock detection caps the locks a
//                     thread may hold)
//   NamedChurn        construct a lock with a unique name ("conn-<i>"), lock, unlock, destroy (issue 9
//                     item 9: names are reference-counted, freed with their last lock); the std twin
//                     builds the same name and constructs a std::mutex, so the ratio is lockgraph's
//                     naming cost
//   Spinlock          one uncontended lock()/unlock() of a user's own test-and-set spinlock: raw for
//                     BM_Std, instrumented with lockgraph::lock_annotation (lockgraph/annotate.hpp) for
//                     BM_Lockgraph, so the ratio is what the annotation API costs a custom lock
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include <lockgraph/lockgraph.hpp>

#if defined(LOCKGRAPH_BENCH_HAVE_ABSL) && LOCKGRAPH_BENCH_HAVE_ABSL && __has_include(<absl/synchronization/mutex.h>)
#include <absl/synchronization/mutex.h>
#define LOCKGRAPH_BENCH_ABSL 1
#else
#define LOCKGRAPH_BENCH_ABSL 0
#endif

namespace {

// ---- the three implementations behind one interface --------------------------------------------------
// The wrappers are forced inline so that every case compiles to the same code as a direct m.lock() /
// m.unlock() call site in user code, whatever the inliner thinks of the wrapper's size.
#define BENCH_INLINE [[gnu::always_inline]] static inline
#define BENCH_INLINE_MEMBER [[gnu::always_inline]] inline

// A user's test-and-set spinlock, raw or annotated the way lockgraph/annotate.hpp shows.
template <bool Annotated>
class bench_spinlock {
 public:
  BENCH_INLINE_MEMBER void lock() {
    if constexpr (Annotated) ann_.before_lock();
    if (!take()) {
      if constexpr (Annotated) {
        ann_.contended([this] { spin(); });
      } else {
        spin();
      }
    }
    if constexpr (Annotated) ann_.after_lock();
  }
  BENCH_INLINE_MEMBER void unlock() {
    if constexpr (Annotated) {
      if (!ann_.before_unlock()) return;
    }
    flag_.store(false, std::memory_order_release);
  }

 private:
  bool take() { return !flag_.exchange(true, std::memory_order_acquire); }
  void spin() {
    while (!take()) std::this_thread::yield();
  }
  std::atomic<bool> flag_{false};
  struct none {};
  [[no_unique_address]] std::conditional_t<Annotated, lockgraph::lock_annotation, none> ann_;
};

struct std_impl {
  using mutex = std::mutex;
  using shared_mutex = std::shared_mutex;
  using recursive_mutex = std::recursive_mutex;
  using condition_variable = std::condition_variable;
  using spinlock = bench_spinlock<false>;
  BENCH_INLINE void lock(mutex& m) { m.lock(); }
  BENCH_INLINE void unlock(mutex& m) { m.unlock(); }
  BENCH_INLINE void lock_shared(shared_mutex& m) { m.lock_shared(); }
  BENCH_INLINE void unlock_shared(shared_mutex& m) { m.unlock_shared(); }
};

struct lockgraph_impl {
  using mutex = lockgraph::mutex;
  using shared_mutex = lockgraph::shared_mutex;
  using recursive_mutex = lockgraph::recursive_mutex;
  using condition_variable = lockgraph::condition_variable;
  using spinlock = bench_spinlock<true>;
  BENCH_INLINE void lock(mutex& m) { m.lock(); }
  BENCH_INLINE void unlock(mutex& m) { m.unlock(); }
  BENCH_INLINE void lock_shared(shared_mutex& m) { m.lock_shared(); }
  BENCH_INLINE void unlock_shared(shared_mutex& m) { m.unlock_shared(); }
};

#if LOCKGRAPH_BENCH_ABSL
struct absl_impl {
  using mutex = absl::Mutex;
  using shared_mutex = absl::Mutex;
  BENCH_INLINE void lock(mutex& m) { m.Lock(); }
  BENCH_INLINE void unlock(mutex& m) { m.Unlock(); }
  BENCH_INLINE void lock_shared(shared_mutex& m) { m.ReaderLock(); }
  BENCH_INLINE void unlock_shared(shared_mutex& m) { m.ReaderUnlock(); }
};
#endif

// Keeps a thread's private locks off the cache lines of other threads' locks.
template <class M>
struct alignas(64) padded {
  M m;
};

// ---- cases ------------------------------------------------------------------------------------------

template <class I>
void Single(benchmark::State& state) {
  typename I::mutex m;
  I::lock(m);
  I::unlock(m);
  for (auto _ : state) {
    I::lock(m);
    I::unlock(m);
  }
}

template <class I, int Depth>
[[gnu::always_inline]] inline void nest_once(padded<typename I::mutex> (&locks)[Depth]) {
  for (int i = 0; i < Depth; ++i) I::lock(locks[i].m);
  for (int i = Depth; i-- > 0;) I::unlock(locks[i].m);
}

template <class I, int Depth>
void Nested(benchmark::State& state) {
  padded<typename I::mutex> locks[Depth];
  nest_once<I, Depth>(locks);  // records the edges: from here on every edge is known
  for (auto _ : state) nest_once<I, Depth>(locks);
}

template <class I>
void SharedRead(benchmark::State& state) {
  typename I::shared_mutex m;
  I::lock_shared(m);
  I::unlock_shared(m);
  for (auto _ : state) {
    I::lock_shared(m);
    I::unlock_shared(m);
  }
}

template <class I>
void RecursiveReentry(benchmark::State& state) {
  typename I::recursive_mutex m;
  m.lock();  // the first acquisition; the loop measures re-entry only
  for (auto _ : state) {
    m.lock();
    m.unlock();
  }
  m.unlock();
}

// Two threads take turns: each waits until `turn` is its index, then passes the turn on.
template <class I>
struct ping_pong_state {
  typename I::mutex m;
  typename I::condition_variable cv;
  int turn = 0;
};

template <class I>
void CondVarPingPong(benchmark::State& state) {
  static ping_pong_state<I> s;
  const int me = state.thread_index();
  if (me == 0) s.turn = 0;  // before the start barrier: the other thread waits for it
  for (auto _ : state) {
    std::unique_lock<typename I::mutex> lk(s.m);
    s.cv.wait(lk, [&] { return s.turn == me; });
    s.turn = 1 - me;
    s.cv.notify_one();
  }
}

#if LOCKGRAPH_BENCH_ABSL
template <>
struct ping_pong_state<absl_impl> {
  absl::Mutex m;
  absl::CondVar cv;
  int turn = 0;
};

template <>
void CondVarPingPong<absl_impl>(benchmark::State& state) {
  static ping_pong_state<absl_impl> s;
  const int me = state.thread_index();
  if (me == 0) s.turn = 0;
  for (auto _ : state) {
    absl::MutexLock lk(&s.m);
    while (s.turn != me) s.cv.Wait(&s.m);
    s.turn = 1 - me;
    s.cv.Signal();
  }
}
#endif

template <class I>
void NamedChurn(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) {
    const std::string name = "conn-" + std::to_string(i++);
    if constexpr (std::is_constructible_v<typename I::mutex, std::string_view>) {
      typename I::mutex m{std::string_view(name)};
      I::lock(m);
      I::unlock(m);
    } else {
      benchmark::DoNotOptimize(name.data());
      typename I::mutex m;
      I::lock(m);
      I::unlock(m);
    }
  }
}

template <class I>
void Spinlock(benchmark::State& state) {
  typename I::spinlock m;
  m.lock();
  m.unlock();
  for (auto _ : state) {
    m.lock();
    m.unlock();
  }
}

template <class I>
void PrivatePair(benchmark::State& state) {
  Nested<I, 2>(state);  // locks are locals: each thread has its own
}

template <class I>
void Contended(benchmark::State& state) {
  static padded<typename I::mutex> shared;
  for (auto _ : state) {
    I::lock(shared.m);
    I::unlock(shared.m);
  }
}

// ---- registration -------------------------------------------------------------------------------------

template <class I, bool Recursive>
void register_all(const std::string& impl) {
  auto name = [&](const char* c) { return "BM_" + impl + c; };
  benchmark::RegisterBenchmark(name("Single").c_str(), Single<I>);
  benchmark::RegisterBenchmark(name("NestedPair").c_str(), Nested<I, 2>);
  benchmark::RegisterBenchmark(name("Depth4").c_str(), Nested<I, 4>);
  benchmark::RegisterBenchmark(name("Depth16").c_str(), Nested<I, 16>);
  benchmark::RegisterBenchmark(name("SharedRead").c_str(), SharedRead<I>);
  if constexpr (Recursive) benchmark::RegisterBenchmark(name("RecursiveReentry").c_str(), RecursiveReentry<I>);
  benchmark::RegisterBenchmark(name("CondVarPingPong").c_str(), CondVarPingPong<I>)->Threads(2)->UseRealTime();
  benchmark::RegisterBenchmark(name("PrivatePair").c_str(), PrivatePair<I>)
      ->Threads(1)
      ->Threads(2)
      ->Threads(8)
      ->UseRealTime();
  benchmark::RegisterBenchmark(name("Contended").c_str(), Contended<I>)->Threads(2)->UseRealTime();
}

// Issue 9 cliffs (see the case list at the top): not for absl_impl.
template <class I>
void register_cliffs(const std::string& impl) {
  auto name = [&](const char* c) { return "BM_" + impl + c; };
  benchmark::RegisterBenchmark(name("Depth64").c_str(), Nested<I, 64>);
  benchmark::RegisterBenchmark(name("Depth256").c_str(), Nested<I, 256>);
  benchmark::RegisterBenchmark(name("Depth1024").c_str(), Nested<I, 1024>);
  benchmark::RegisterBenchmark(name("NamedChurn").c_str(), NamedChurn<I>);
  benchmark::RegisterBenchmark(name("Spinlock").c_str(), Spinlock<I>);
}

}  // namespace

int main(int argc, char** argv) {
  const char* st = std::getenv("LOCKGRAPH_BENCH_SINGLE_THREADED");
  const bool single_threaded = st != nullptr && st[0] == '1';
  if (!single_threaded) std::thread([] {}).join();  // see the top of this file
  register_all<std_impl, true>("Std");
  register_all<lockgraph_impl, true>("Lockgraph");
  register_cliffs<std_impl>("Std");
  register_cliffs<lockgraph_impl>("Lockgraph");
#if LOCKGRAPH_BENCH_ABSL
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kReport);
  register_all<absl_impl, false>("Absl");  // absl::Mutex is not recursive
#endif
  benchmark::AddCustomContext("lockgraph", LOCKGRAPH_DISABLED ? "compiled out"
                                           : lockgraph::enabled() ? "checking on"
                                                                  : "checking off (enabled=0)");
  benchmark::AddCustomContext("process", single_threaded ? "single-threaded (glibc lock shortcut active)"
                                                         : "multi-threaded");
  benchmark::AddCustomContext("abseil", LOCKGRAPH_BENCH_ABSL ? "absl::Mutex, deadlock detection kReport" : "not built");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// ---- Measured (scripts/bench.sh --record; the full report with the whole-process, graph and memory
// tables is benchmarks/RESULTS.md) ---------------------------------------------------------------------
//
// Machine: AMD EPYC, 2 cores, g++ (Debian 12.2.0-14+deb12u1) 12.2.0, Linux 6.18.44-fc-v782, RelWithDebInfo build of f068dfe + uncommitted changes, measured 2026-11-26 17:32 (other processes used 0% of the CPUs just before the run)
//
// ### Lock operations (ns per operation; ratio = ÷ std::mutex in the same process)
//
// | case | std::mutex ns | lockgraph ns | ratio | abseil ns | ratio | abseil ÷ lockgraph | lockgraph-off ratio | compiled-out ratio |
// |---|---|---|---|---|---|---|---|---|
// | single lock/unlock | 14.2 | 17.3 | 1.22× | 46.9 | 3.31× | 2.71× | 1.14× | 1.00× |
// | nested pair (known edge) | 28.3 | 36.2 | 1.28× | 99.2 | 3.50× | 2.74× | 1.02× | 0.99× |
// | depth 4 (known edges) | 56.7 | 73.5 | 1.30× | 211 | 3.73× | 2.87× | 1.25× | 0.99× |
// | depth 16 (known edges) | 227 | 302 | 1.33× | 1,243 | 5.47× | 4.12× | 1.06× | 1.00× |
// | shared_mutex read lock/unlock | 14.5 | 16.7 | 1.15× | 46.8 | 3.23× | 2.81× | 0.95× | 1.00× |
// | recursive_mutex re-entry | 4.97 | 6.05 | 1.22× | – | – | – | 1.06× | 1.07× |
// | condition_variable ping-pong, per hand-off | 11,302 | 11,851 | 1.05× | 11,974 | 1.06× | 1.01× | 1.08× | 1.00× |
// | private nested pair, 1 thread, per thread | 28.4 | 36.4 | 1.28× | 98.6 | 3.48× | 2.71× | 1.22× | 0.99× |
// | private nested pair, 2 threads, per thread | 28.4 | 35.8 | 1.26× | 470 | 16.57× | 13.13× | 1.07× | 0.98× |
// | private nested pair, 8 threads, per thread | 28.2 | 36.5 | 1.29× | 521 | 18.47× | 14.27× | 1.10× | 0.99× |
// | 2 threads contending on one lock, per acquisition | 30.8 | 46.8 | 1.52× | 309 | 10.03× | 6.59× | 1.07× | 1.03× |
//
// ### Scaling on private locks (per-thread ns per nested pair; in parentheses: ÷ the 1-thread value)
//
// |  | 1 thread | 2 threads | 8 threads |
// |---|---|---|---|
// | std::mutex, CPU | 28.4 | 28.4 (1.00×) | 28.2 (0.99×) |
// | std::mutex, wall | 28.4 | 28.5 (1.00×) | 101 (3.57×) |
// | lockgraph, CPU | 36.4 | 35.8 (0.98×) | 36.5 (1.00×) |
// | lockgraph, wall | 36.4 | 35.8 (0.98×) | 127 (3.48×) |
// | abseil, CPU | 98.6 | 470 (4.76×) | 521 (5.28×) |
// | abseil, wall | 98.6 | 473 (4.79×) | 1,951 (19.79×) |
//
// ### The same in a process that never started a second thread
//
// | case | std::mutex ns | lockgraph ns | ratio | abseil ns | ratio |
// |---|---|---|---|---|---|
// | single lock/unlock | 6.12 | 11.9 | 1.94× | 47.7 | 7.79× |
// | nested pair | 11.9 | 27.5 | 2.30× | 99.3 | 8.32× |
// | depth 4 | 29 | 60.2 | 2.08× | 239 | 8.25× |
