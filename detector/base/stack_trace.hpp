// stack_trace: capture raw call stacks cheaply; symbolize only when printed (with libdw, Boost.Stacktrace
// or dladdr, chosen at configure time by LOCKGRAPH_STACKTRACE; see stack_trace.cpp).
#ifndef LOCKGRAPH_DETECTOR_STACK_TRACE_HPP
#define LOCKGRAPH_DETECTOR_STACK_TRACE_HPP

#include <string>
#include <vector>

#include "lockgraph/report.hpp"

namespace lockgraph::detail {

// The calling thread's stack, innermost first, at most `depth` frames, starting below the caller of
// capture_stack. Async-signal-safe apart from the vector's allocation. Thread-safe.
stack_trace capture_stack(unsigned depth);

// "bank.cpp:23 (transfer)": the innermost frame outside lockgraph, short enough for a DOT label or a
// dedupe key. Empty for an empty trace. Symbolizes: call off the hot path.
std::string innermost_site(const stack_trace& st);

// "file.cpp:12" (file without directories) of the innermost frame outside lockgraph and outside the
// standard library; the innermost frame outside lockgraph when all are in the standard library; empty
// when nothing is known. Symbolizes: call off the hot path.
std::string innermost_user_line(const stack_trace& st);

// One symbolized frame (an inlined call is a frame of its own): the demangled function, the source
// path as the debug info has it (not stripped), its line; empty/0 when unknown.
struct frame_info {
  std::string function;
  std::string file;
  int line = 0;
};

// Every frame of `st` outside lockgraph's own leading frames, inline levels expanded, innermost first.
// Symbolizes: call off the hot path.
std::vector<frame_info> user_frames(const stack_trace& st);

// The innermost frame outside lockgraph and outside the standard library (the innermost outside
// lockgraph when all are in the standard library); empty when the trace is. Symbolizes.
frame_info innermost_user_frame(const stack_trace& st);

// strip_path_prefix=P: printed source paths lose everything up to and including the first P (set once,
// by the runtime, when the options are read). Thread-safe.
void set_strip_path_prefix(std::string prefix);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_STACK_TRACE_HPP
