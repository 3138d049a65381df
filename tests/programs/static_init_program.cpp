// tests/programs/static_init_program.cpp: issue 9 item 1, named locks used during static initialisation.
//
// `early` is defined *before* the two named global locks, so (as with a static constructor in another
// translation unit) its constructor runs before their dynamic initialisation, if they have one. It
// nests static_a -> static_b; main then nests static_b -> static_a: a real inversion between a static
// constructor and main. The program prints "inversions=<n>" and, after lock_order_dot() returned,
// "dot bytes=<n>" and "exit". Expected: inversions=1, and no crash.
#include <unistd.h>

#include <mutex>
#include <string>

#include "lockgraph/lockgraph.hpp"

namespace {

void say(const std::string& line) {
  const std::string s = line + "\n";
  (void)!::write(1, s.data(), s.size());
}

}  // namespace

extern lockgraph::mutex static_a;
extern lockgraph::mutex static_b;

struct early_user {
  early_user() {
    std::lock_guard<lockgraph::mutex> ga(static_a);
    std::lock_guard<lockgraph::mutex> gb(static_b);
  }
};
early_user early;

lockgraph::mutex static_a{"static_a"};
lockgraph::mutex static_b{"static_b"};

int main() {
  {
    std::lock_guard<lockgraph::mutex> gb(static_b);
    std::lock_guard<lockgraph::mutex> ga(static_a);
  }
  int inversions = 0;
  for (const auto& r : lockgraph::reports()) inversions += r.kind == lockgraph::report_kind::lock_order_inversion;
  say("inversions=" + std::to_string(inversions));
  const std::string dot = lockgraph::lock_order_dot();
  say("dot bytes=" + std::to_string(dot.size()));
  say(dot.find("static_a") != std::string::npos ? "dot names static_a" : "dot lacks static_a");
  say("exit");
  return 0;
}
