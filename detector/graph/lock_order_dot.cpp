// lock_order_dot.cpp: see lock_order_dot.hpp.
#include "graph/lock_order_dot.hpp"

#include <map>

#include "base/labels.hpp"
#include "report/dot_writer.hpp"

namespace lockgraph::detail {

std::string lock_order_dot_text(const lock_order_snapshot& s) {
  std::string title = "lockgraph: lock-order graph";
  if (s.omitted_edges != 0) {
    title += " (reported cycles and their neighbourhood; " + std::to_string(s.omitted_edges) + " of " +
             std::to_string(s.omitted_edges + s.edges.size()) + " edges and " + std::to_string(s.omitted_nodes) +
             " locks omitted)";
  }
  dot_builder dot(title);
  std::map<std::uint64_t, std::string> ids;
  for (const auto& n : s.nodes) {
    ids[n.id] = "l" + std::to_string(ids.size());
    dot.add_node(ids[n.id], n.label, "shape=box");
  }
  for (const auto& e : s.edges) {
    if (!ids.count(e.from) || !ids.count(e.to)) continue;
    std::string label = thread_label(e.thread);
    if (!e.site.empty()) label += "\n" + e.site;
    if (e.to_shared) label += "\n(shared)";
    if (e.from_try) label += "\n(after try_lock)";
    if (e.spliced) label += "\n(via a destroyed lock)";
    std::string attrs;
    if (e.in_cycle || e.rejected) attrs = "color=red, fontcolor=red, penwidth=2";
    const char* style = e.from_try ? "dotted" : (e.to_shared || e.from_shared) ? "dashed" : nullptr;
    if (style != nullptr) attrs += std::string(attrs.empty() ? "" : ", ") + "style=" + style;
    dot.add_edge(ids[e.from], ids[e.to], label, attrs);
  }
  return std::move(dot).finish();
}

}  // namespace lockgraph::detail
