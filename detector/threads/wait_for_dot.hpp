// wait_for_dot: the wait-for graph right now (threads, the locks they wait for and hold, locks left
// held by exited threads) as Graphviz DOT, circular waits in red.
#ifndef LOCKGRAPH_DETECTOR_THREADS_WAIT_FOR_DOT_HPP
#define LOCKGRAPH_DETECTOR_THREADS_WAIT_FOR_DOT_HPP

#include <string>

namespace lockgraph::detail {

// A racy snapshot of the registry: safe at any time from any thread (slots are never freed).
std::string wait_for_dot_text();

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_THREADS_WAIT_FOR_DOT_HPP
