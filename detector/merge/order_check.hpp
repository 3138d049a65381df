// order_check: lockgraph-merge's --write-order FILE and --check-order FILE, the declared
// lock order (graph/declared_order.hpp, the runtime's lock_order=FILE) over a whole suite. Both work on
// the suite graph's distinct class edges with their first sightings (suite_graph::edges()).
#ifndef LOCKGRAPH_DETECTOR_MERGE_ORDER_CHECK_HPP
#define LOCKGRAPH_DETECTOR_MERGE_ORDER_CHECK_HPP

#include <string>
#include <vector>

#include "lockgraph/report.hpp"
#include "merge/suite_graph.hpp"

namespace lockgraph::detail {

// --write-order FILE: writes the observed suite graph as a declaration to start from. Returns 0, or 2
// after one error line on stderr.
int write_order_declaration(const suite_graph& g, const std::string& path);

// --check-order FILE: appends one report per pair of classes whose observed order contradicts the
// declaration (a lock_order_inversion with "declared": true and "scope": "suite") to `violations`.
// Returns 0, or 2 after one error line on stderr (unreadable or malformed FILE).
// `order` receives the parsed declaration (for suite_graph::to_dot()).
int check_order_declaration(const suite_graph& g, const std::string& path, declared_order& order,
                            std::vector<report>* violations);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_MERGE_ORDER_CHECK_HPP
