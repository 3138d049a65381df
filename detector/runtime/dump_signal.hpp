// dump_signal: with dump_signal=N, a handler for signal N (async-signal-safe: it only writes a byte to
// a pipe) and a thread that then reports every blocked thread and writes the wait-for graph to
// report_dir (or stderr).
#ifndef LOCKGRAPH_DETECTOR_RUNTIME_DUMP_SIGNAL_HPP
#define LOCKGRAPH_DETECTOR_RUNTIME_DUMP_SIGNAL_HPP

#include "runtime/runtime.hpp"

namespace lockgraph::detail {

void start_signal_dumper(runtime& r);

// In a forked child (from runtime.cpp's atfork handler): the inherited pipe and dumper thread are the
// parent's; the child gets its own, so a dump signal sent to it dumps the child.
void restart_signal_dumper_after_fork(runtime& r) noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_RUNTIME_DUMP_SIGNAL_HPP
