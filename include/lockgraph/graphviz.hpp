// lockgraph/graphviz.hpp: the detector's graphs as Graphviz DOT text (render with `dot -Tsvg`).
#ifndef LOCKGRAPH_GRAPHVIZ_HPP
#define LOCKGRAPH_GRAPHVIZ_HPP

#include <string>

#include "lockgraph/detail/config.hpp"

namespace lockgraph {

#if !LOCKGRAPH_DISABLED
// The whole lock-order graph as it is now: one box per lock that ever nested with another, one edge per
// recorded "acquired while holding" dependency, labelled with the thread and source site that first
// made it. Edges on a reported cycle are red; acquisitions in shared mode are dashed, edges from a lock
// taken with try_lock/a timed lock dotted. Thread-safe.
std::string lock_order_dot();

// The wait-for graph right now: threads (ellipses) and locks/condition variables (boxes), "waits for"
// edges thread -> lock and "held by" edges lock -> thread. A circular wait is red; locks left held by
// exited threads are orange. A racy snapshot: meant for a program that is stuck or idle. Thread-safe.
std::string wait_for_dot();
#else
inline std::string lock_order_dot() { return "digraph lockgraph {\n  label=\"lockgraph disabled\";\n}\n"; }
inline std::string wait_for_dot() { return lock_order_dot(); }
#endif

}  // namespace lockgraph

#endif  // LOCKGRAPH_GRAPHVIZ_HPP
