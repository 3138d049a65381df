// snapshot: whole-process views for users: DOT of both graphs, quiescence checks, dump on a signal.
#ifndef LOCKGRAPH_DETECTOR_SNAPSHOT_HPP
#define LOCKGRAPH_DETECTOR_SNAPSHOT_HPP

#include <string>
#include <vector>

#include "lock_order_graph.hpp"
#include "lockgraph/report.hpp"

namespace lockgraph::detail {

struct runtime;

// DOT of a lock-order snapshot (pure) and of the wait-for graph right now (racy snapshot).
std::string lock_order_dot_text(const lock_order_snapshot& s);
std::string wait_for_dot_text();

// check_quiescent(): the problems present now, each also raised.
std::vector<report> quiescence_problems(runtime& r);

// With dump_signal=N: a handler for signal N (async-signal-safe: it only writes a byte to a pipe) and a
// thread that then reports every blocked thread and writes the wait-for graph to report_dir.
void start_signal_dumper(runtime& r);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_SNAPSHOT_HPP
