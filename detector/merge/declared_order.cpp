// declared_order.cpp: see declared_order.hpp.
// FIXME(#12): part 5 (declared lock order) lands here from the `order` work; until then both options
// are accepted and say they are not available.
#include "merge/declared_order.hpp"

#include <cstdio>

namespace lockgraph::detail {

int write_order_declaration(const suite_graph& /*g*/, const std::string& path) {
  std::fprintf(stderr, "lockgraph-merge: --write-order %s: not available in this build yet\n", path.c_str());
  return 2;
}

int check_order_declaration(const suite_graph& /*g*/, const std::string& path, std::vector<report>* /*violations*/) {
  std::fprintf(stderr, "lockgraph-merge: --check-order %s: not available in this build yet\n", path.c_str());
  return 2;
}

}  // namespace lockgraph::detail
