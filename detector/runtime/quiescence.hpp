// quiescence: check_quiescent(), the problems present right now (locks held, locks left held by
// exited threads, threads blocked), each also raised.
#ifndef LOCKGRAPH_DETECTOR_RUNTIME_QUIESCENCE_HPP
#define LOCKGRAPH_DETECTOR_RUNTIME_QUIESCENCE_HPP

#include <vector>

#include "lockgraph/report.hpp"
#include "runtime/runtime.hpp"

namespace lockgraph::detail {

std::vector<report> quiescence_problems(runtime& r);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_RUNTIME_QUIESCENCE_HPP
