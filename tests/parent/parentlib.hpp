// The parent project's library (see CMakeLists.txt): it guards its state with lockgraph mutexes.
#ifndef LOCKGRAPH_PARENT_PARENTLIB_HPP
#define LOCKGRAPH_PARENT_PARENTLIB_HPP

#include <cstddef>

namespace parent {

// Takes two locks in one order, then in the other: a lock-order inversion, never a hang.
void transfer_both_ways();
// How many lockgraph reports the process has raised so far.
std::size_t reports_raised();

}  // namespace parent

#endif
