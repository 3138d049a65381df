// The parent's program: exit status 0 when lockgraph, built inside the parent's
// -fno-exceptions -fno-rtti build, reported the library's inversion exactly once.
#include <cstdio>

#include "parentlib.hpp"

int main() {
  parent::transfer_both_ways();
  const std::size_t n = parent::reports_raised();
  std::printf("parent_app: %zu report(s), expected 1\n", n);
  return n == 1 ? 0 : 1;
}
