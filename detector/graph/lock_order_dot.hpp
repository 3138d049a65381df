// lock_order_dot: a lock-order graph snapshot as Graphviz DOT (lockgraph::lock_order_dot()).
#ifndef LOCKGRAPH_DETECTOR_GRAPH_LOCK_ORDER_DOT_HPP
#define LOCKGRAPH_DETECTOR_GRAPH_LOCK_ORDER_DOT_HPP

#include <string>

#include "graph/lock_order_graph.hpp"

namespace lockgraph::detail {

// Pure: a function of the snapshot only.
std::string lock_order_dot_text(const lock_order_snapshot& s);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_GRAPH_LOCK_ORDER_DOT_HPP
