// declared_order: lockgraph-merge's --write-order FILE and --check-order FILE (issue 12 part 5, the
// declared lock order). Both work on the suite graph's distinct class edges with their first sightings
// (suite_graph::edges()), so the order module needs nothing else from the merge.
#ifndef LOCKGRAPH_DETECTOR_DECLARED_ORDER_HPP
#define LOCKGRAPH_DETECTOR_DECLARED_ORDER_HPP

#include <string>
#include <vector>

#include "lockgraph/report.hpp"
#include "merge/suite_graph.hpp"

namespace lockgraph::detail {

// --write-order FILE: writes the observed suite graph as a declaration to start from. Returns 0, or 2
// after one error line on stderr.
int write_order_declaration(const suite_graph& g, const std::string& path);

// --check-order FILE: appends one report per edge that contradicts the declaration to `violations`.
// Returns 0, or 2 after one error line on stderr (unreadable or malformed FILE).
int check_order_declaration(const suite_graph& g, const std::string& path, std::vector<report>* violations);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_DECLARED_ORDER_HPP
