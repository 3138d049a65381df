// lockgraph/check.hpp: checkpoints, the C++ twin of Go's goleak.VerifyNone.
#ifndef LOCKGRAPH_CHECK_HPP
#define LOCKGRAPH_CHECK_HPP

#include <vector>

#include "lockgraph/detail/config.hpp"
#include "lockgraph/report.hpp"

namespace lockgraph {

#if !LOCKGRAPH_DISABLED
// Call where the program should be idle (the end of a test, a shutdown step): reports every lock still
// held by any thread, including the caller and threads that exited (unreleased_lock), and every thread
// blocked in a lockgraph lock or condition variable (long_wait). Returns the problems found now, each
// also raised as a report (the sinks see each distinct problem once; the return value lists it at every
// checkpoint where it persists). Empty means quiescent. Thread-safe.
std::vector<report> check_quiescent();
#else
inline std::vector<report> check_quiescent() { return {}; }
#endif

}  // namespace lockgraph

#endif  // LOCKGRAPH_CHECK_HPP
