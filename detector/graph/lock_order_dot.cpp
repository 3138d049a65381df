// lock_order_dot.cpp: see lock_order_dot.hpp.
#include "graph/lock_order_dot.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "base/labels.hpp"
#include "report/dot_writer.hpp"

namespace lockgraph::detail {

std::string lock_order_dot_text(const lock_order_snapshot& s) {
  // The text stays under kMaxBytes whatever the labels: edges past the budget are left out and counted
  // (a reported cycle's edges come first in the snapshot's choice, but not in its order: in_cycle
  // edges are placed first here).
  constexpr std::size_t kMaxBytes = 900 * 1024;
  constexpr std::size_t kPerItem = 64;  // ids, attributes, punctuation
  std::size_t budget = 0;
  std::vector<const lock_order_snapshot::edge*> edges;
  for (const auto& e : s.edges) edges.push_back(&e);
  std::stable_partition(edges.begin(), edges.end(), [](const auto* e) { return e->in_cycle || e->rejected; });
  std::map<std::uint64_t, const std::string*> labels;
  for (const auto& n : s.nodes) labels[n.id] = &n.label;
  std::vector<std::pair<const lock_order_snapshot::edge*, std::string>> shown;
  std::map<std::uint64_t, std::string> ids;
  std::size_t omitted_edges = s.omitted_edges;
  for (const auto* e : edges) {
    if (!labels.count(e->from) || !labels.count(e->to)) continue;
    std::string label = thread_label(e->thread);
    if (!e->site.empty()) label += "\n" + e->site;
    if (e->to_shared) label += "\n(shared)";
    if (e->from_try) label += "\n(after try_lock)";
    if (e->spliced) label += "\n(via a destroyed lock)";
    std::size_t cost = label.size() + kPerItem;
    for (std::uint64_t end : {e->from, e->to}) {
      if (!ids.count(end)) cost += labels[end]->size() + kPerItem;
    }
    if (budget + cost > kMaxBytes) {
      ++omitted_edges;
      continue;
    }
    budget += cost;
    for (std::uint64_t end : {e->from, e->to}) {
      if (!ids.count(end)) ids[end] = "l" + std::to_string(ids.size());
    }
    shown.emplace_back(e, std::move(label));
  }
  // Locks without a shown edge: drawn while the budget lasts (a small graph shows all of them).
  std::size_t omitted_nodes = s.omitted_nodes;
  for (const auto& n : s.nodes) {
    if (ids.count(n.id)) continue;
    if (budget + n.label.size() + kPerItem > kMaxBytes) {
      ++omitted_nodes;
      continue;
    }
    budget += n.label.size() + kPerItem;
    ids[n.id] = "l" + std::to_string(ids.size());
  }

  std::string title = "lockgraph: lock-order graph";
  if (omitted_edges != 0 || omitted_nodes != 0) {
    title += " (reported cycles and their neighbourhood; " + std::to_string(omitted_edges) + " of " +
             std::to_string(omitted_edges + shown.size()) + " edges and " + std::to_string(omitted_nodes) +
             " locks omitted)";
  }
  dot_builder dot(title);
  for (const auto& n : s.nodes) {
    if (ids.count(n.id)) dot.add_node(ids[n.id], n.label, "shape=box");
  }
  for (const auto& [e, label] : shown) {
    std::string attrs;
    if (e->gated) {
      attrs = "color=orange, fontcolor=orange, penwidth=2";  // a cycle a gate lock serialises: not reported
    } else if (e->in_cycle || e->rejected) {
      attrs = "color=red, fontcolor=red, penwidth=2";
    }
    const char* style = e->from_try ? "dotted" : (e->to_shared || e->from_shared) ? "dashed" : nullptr;
    if (style != nullptr) attrs += std::string(attrs.empty() ? "" : ", ") + "style=" + style;
    dot.add_edge(ids[e->from], ids[e->to], label, attrs);
  }
  for (std::size_t i = 0; i < s.notes.size(); ++i) {
    dot.add_node("note" + std::to_string(i), s.notes[i], "shape=note");
  }
  return std::move(dot).finish();
}

}  // namespace lockgraph::detail
