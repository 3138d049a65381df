// Built with the parent's -fno-exceptions -fno-rtti: lockgraph must not have taken them away.
#if defined(__cpp_exceptions) || defined(__cpp_rtti) || defined(__GXX_RTTI)
#error "the parent's -fno-exceptions -fno-rtti did not reach the parent's own code"
#endif

#include "parentlib.hpp"

#include <lockgraph/lockgraph.hpp>

#include <mutex>

namespace parent {

void transfer_both_ways() {
  static lockgraph::mutex from{"parent from"};
  static lockgraph::mutex to{"parent to"};
  {
    std::lock_guard<lockgraph::mutex> a(from);
    std::lock_guard<lockgraph::mutex> b(to);
  }
  {
    std::lock_guard<lockgraph::mutex> b(to);
    std::lock_guard<lockgraph::mutex> a(from);
  }
}

std::size_t reports_raised() { return lockgraph::reports().size(); }

}  // namespace parent
