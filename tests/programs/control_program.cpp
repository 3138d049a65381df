// tests/programs/control_program.cpp: a child process for control_test.cpp's exit-status checks.
//
//   control_program unmet|swallowed|reset
//
// unmet: an expect_report that no report meets. swallowed: an inversion made inside an expect_report
// for it. reset: an inversion, then lockgraph::reset(). Each then returns 0 from main; the exit status
// under exitcode=N says what counted.
#include <cstring>
#include <mutex>
#include <thread>

#include "lockgraph/lockgraph.hpp"

namespace {

void nest(lockgraph::mutex& x, lockgraph::mutex& y) {
  std::lock_guard<lockgraph::mutex> gx(x);
  std::lock_guard<lockgraph::mutex> gy(y);
}

// a -> b on this thread, b -> a on another: one inversion, nothing hangs.
void invert(lockgraph::mutex& a, lockgraph::mutex& b) {
  nest(a, b);
  std::thread([&] { nest(b, a); }).join();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  lockgraph::mutex a("a"), b("b");
  if (std::strcmp(argv[1], "unmet") == 0) {
    lockgraph::expect_report never(lockgraph::report_kind::lock_order_inversion);
  } else if (std::strcmp(argv[1], "swallowed") == 0) {
    lockgraph::expect_report expected(lockgraph::report_kind::lock_order_inversion);
    invert(a, b);
  } else if (std::strcmp(argv[1], "reset") == 0) {
    invert(a, b);
    lockgraph::reset();
  } else {
    return 2;
  }
  return 0;
}
