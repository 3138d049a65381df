// tests/programs/nest_program.cpp: a child process that nests named locks in given orders, on the
// main thread only (nothing can hang), for the declared lock order tests.
//
//   nest_program a b c -- b a
//
// Each group of names (groups separated by "--") is locked in the order given and unlocked in reverse,
// twice (the second time every chain is known). One lockgraph::mutex per distinct name. Prints "exit"
// just before main returns.
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lockgraph/lockgraph.hpp"

int main(int argc, char** argv) {
  std::map<std::string, std::unique_ptr<lockgraph::mutex>> locks;
  std::vector<std::vector<lockgraph::mutex*>> groups(1);
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--") {
      groups.emplace_back();
      continue;
    }
    auto& m = locks[name];
    if (!m) m = std::make_unique<lockgraph::mutex>(name);
    groups.back().push_back(m.get());
  }
  for (int round = 0; round < 2; ++round) {
    for (const auto& group : groups) {
      for (lockgraph::mutex* m : group) m->lock();
      for (auto it = group.rbegin(); it != group.rend(); ++it) (*it)->unlock();
    }
  }
  (void)!::write(1, "exit\n", 5);
  return 0;
}
