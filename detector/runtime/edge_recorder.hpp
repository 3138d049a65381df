// edge_recorder: edge_log=DIR, the runtime's half (the file format is report/edge_log.hpp).
//
// Every new lock-order edge the hooks see is also recorded here between lock classes, with its first
// sighting (thread, raw stack, the GoogleTest test then running); the recorder keeps them even after
// the locks are destroyed, since the suite merge wants everything the process ever did. The file is
// written, symbolized, at normal exit and before any abort lockgraph causes, through a temporary and
// rename(2), under a name of its own per process (pid + a random part), so any number of processes
// can share DIR.
//
// Cost: nothing on the known-edge path (hooks.cpp calls record_class_edge() only for an edge new to the
// process's instance graph, and only with edge_log set); one map lookup under a std::mutex per new
// instance edge.
#ifndef LOCKGRAPH_DETECTOR_EDGE_RECORDER_HPP
#define LOCKGRAPH_DETECTOR_EDGE_RECORDER_HPP

#include <string>
#include <string_view>

#include "lockgraph/detail/lock_meta.hpp"
#include "lockgraph/report.hpp"

namespace lockgraph::detail {

// Records the class edge from -> to (classes by class_key(), base/labels.hpp) unless that class edge was recorded before. Thread-safe.
void record_class_edge(const lock_meta& from, const lock_meta& to, bool from_shared, bool to_shared,
                       const thread_ref& thread, const stack_trace& stack);

// Writes (or rewrites) this process's edge log when edge_log is set. Thread-safe, noexcept: a failure
// is said once on stderr.
void write_edge_log() noexcept;

// The GoogleTest test now running ("" between tests), for the edges' first sightings. Thread-safe.
void set_current_test_name(std::string_view name) noexcept;

// fork(): the recorder's lock is held across fork() (runtime.cpp's handlers).
void lock_edge_recorder_for_fork() noexcept;
void unlock_edge_recorder_after_fork() noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_EDGE_RECORDER_HPP
