// A lockgraph user's program, built as C++17 with -fno-exceptions -fno-rtti (see CMakeLists.txt).
//
// It locks two lockgraph::mutex in opposite orders in one thread: never a hang, but a lock-order
// inversion that lockgraph reports. It also touches every public type once so that all public
// headers are compiled in this dialect, without adding any report.
//
//   consumer --expect-reports=1   # lockgraph compiled in: exactly one report (the inversion)
//   consumer --expect-reports=0   # built with -DLOCKGRAPH_DISABLE=ON: the std:: types, no reports
//
// Exit status 0 when the number of reports is the expected one, 1 otherwise, 2 on a usage error.
#include <lockgraph/lockgraph.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <shared_mutex>

int main(int argc, char** argv) {
  long expected = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--expect-reports=", 17) == 0) expected = std::strtol(argv[i] + 17, nullptr, 10);
  }
  if (expected < 0) {
    std::fprintf(stderr, "usage: %s --expect-reports=N\n", argv[0]);
    return 2;
  }

  // Every public type, used once and never nested: no edge, no report.
  lockgraph::mutex unnamed;  // labelled with this file:line (no std::source_location in C++17)
  lockgraph::timed_mutex timed{"consumer timed"};
  lockgraph::recursive_mutex recursive{"consumer recursive"};
  lockgraph::recursive_timed_mutex recursive_timed{"consumer recursive timed"};
  lockgraph::shared_mutex shared{"consumer shared"};
  lockgraph::shared_timed_mutex shared_timed{"consumer shared timed"};
  lockgraph::condition_variable cv{"consumer cv"};
  { std::lock_guard<lockgraph::mutex> g(unnamed); }
  if (timed.try_lock_for(std::chrono::milliseconds(1))) timed.unlock();
  { std::scoped_lock g(recursive, recursive_timed); }
  { std::shared_lock<lockgraph::shared_mutex> g(shared); }
  { std::unique_lock<lockgraph::shared_timed_mutex> g(shared_timed); }
  {
    std::unique_lock<lockgraph::mutex> lk(unnamed);
    const bool ready = cv.wait_for(lk, std::chrono::milliseconds(1), [] { return true; });
    (void)ready;
  }
  // Issue 10's additions: condition_variable_any, the annotated guards, the assertions (all true here).
  lockgraph::condition_variable_any cv_any{"consumer cv_any"};
  {
    lockgraph::unique_lock<lockgraph::mutex> lk(unnamed);
    unnamed.assert_held();
    const bool ready = cv_any.wait_for(lk, std::chrono::milliseconds(1), [] { return true; });
    (void)ready;
  }
  { lockgraph::mutex_lock<lockgraph::recursive_mutex> g(recursive); recursive.assert_held(); }
  { lockgraph::reader_lock<lockgraph::shared_mutex> g(shared); shared.assert_shared_held(); }
  { lockgraph::writer_lock<lockgraph::shared_timed_mutex> g(shared_timed); }
  unnamed.assert_not_held();

  // The inversion: a then b, later b then a, in one thread.
  lockgraph::mutex a{"consumer a"};
  lockgraph::mutex b{"consumer b"};
  {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::lock_guard<lockgraph::mutex> gb(b);
  }
  {
    std::lock_guard<lockgraph::mutex> gb(b);
    std::lock_guard<lockgraph::mutex> ga(a);
  }

  const auto raised = lockgraph::reports();
  std::printf("consumer: C++%ld, lockgraph %s, %zu report(s), expected %ld\n", static_cast<long>(__cplusplus),
              lockgraph::enabled() ? "enabled" : "disabled", raised.size(), expected);
  if (static_cast<long>(raised.size()) != expected) return 1;
  if (!raised.empty() && raised[0].kind != lockgraph::report_kind::lock_order_inversion) {
    std::printf("consumer: expected a lock_order_inversion, got %s\n", lockgraph::to_string(raised[0].kind));
    return 1;
  }
  return 0;
}
