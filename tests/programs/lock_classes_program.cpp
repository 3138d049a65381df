// tests/programs/lock_classes_program.cpp: a child process for the lock-class tests whose options
// (classes=, gate_locks=) must be set before the detector starts.
//
//   lock_classes_program class_cycle | gate | gate_broken
//
//  - class_cycle: thread 1 locks n1.a then n1.b, thread 2 n2.b then n2.a (the same members of two
//    objects of one type): a cycle of classes only, no single pair of locks closes it.
//  - gate: named locks; thread 1 locks g, a, b and thread 2 g, b, a: a cycle of a and b, every edge
//    taken under the gate g. Prints "gated" and the lock-order DOT.
//  - gate_broken: as gate, then thread 3 locks b then a without g.
// Threads run one after the other: nothing hangs. Prints "exit" just before main returns.
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "lockgraph/lockgraph.hpp"

namespace {

void say(const std::string& line) {
  const std::string s = line + "\n";
  (void)!::write(1, s.data(), s.size());
}

struct node {
  lockgraph::mutex a;
  lockgraph::mutex b;
  node() {}  // both members carry this line; a is its first lock, b its second ("[1]")
};

void in_order(lockgraph::mutex& first, lockgraph::mutex& second) {
  std::lock_guard<lockgraph::mutex> g1(first);
  std::lock_guard<lockgraph::mutex> g2(second);
}

void under(lockgraph::mutex& gate, lockgraph::mutex& first, lockgraph::mutex& second) {
  std::lock_guard<lockgraph::mutex> g(gate);
  in_order(first, second);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  if (what == "class_cycle") {
    node n1, n2;
    std::thread([&] { in_order(n1.a, n1.b); }).join();
    std::thread([&] { in_order(n2.b, n2.a); }).join();
  } else if (what == "gate" || what == "gate_broken") {
    lockgraph::mutex g("g"), a("a"), b("b");
    std::thread([&] { under(g, a, b); }).join();
    std::thread([&] { under(g, b, a); }).join();
    say("gated");
    say(lockgraph::lock_order_dot());
    if (what == "gate_broken") std::thread([&] { in_order(b, a); }).join();
  } else {
    say("usage: lock_classes_program class_cycle|gate|gate_broken");
    return 2;
  }
  say("exit");
  return 0;
}
