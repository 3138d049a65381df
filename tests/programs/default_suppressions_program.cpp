// tests/programs/default_suppressions_program.cpp: lockgraph_default_suppressions() end to end.
//
//   default_suppressions_program
//
// Its lockgraph_default_suppressions() returns $LGTEST_SUPPRESSIONS (a program would return a string
// literal; the environment lets one binary test several rule sets). It makes two lock-order
// inversions: "legacy.a"/"legacy.b" in legacy_pair(), "fresh.a"/"fresh.b" in fresh_pair(). Prints
// "reports <n>" (reports().size()) last.
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "lockgraph/lockgraph.hpp"

extern "C" const char* lockgraph_default_suppressions() { return std::getenv("LGTEST_SUPPRESSIONS"); }

namespace {

__attribute__((noinline)) void lock_both(lockgraph::mutex& first, lockgraph::mutex& second) {
  std::lock_guard<lockgraph::mutex> g1(first);
  std::lock_guard<lockgraph::mutex> g2(second);
}

__attribute__((noinline)) void legacy_pair() {
  static lockgraph::mutex a("legacy.a"), b("legacy.b");
  lock_both(a, b);
  lock_both(b, a);
}

__attribute__((noinline)) void fresh_pair() {
  static lockgraph::mutex a("fresh.a"), b("fresh.b");
  lock_both(a, b);
  lock_both(b, a);
}

}  // namespace

int main() {
  legacy_pair();
  fresh_pair();
  std::printf("reports %zu\n", lockgraph::reports().size());
  return 0;
}
