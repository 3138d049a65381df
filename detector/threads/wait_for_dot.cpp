// wait_for_dot.cpp: the wait-for graph right now as DOT (lockgraph::wait_for_dot(), the dump signal).
#include "threads/wait_for_dot.hpp"

#include <algorithm>
#include <map>

#include "base/labels.hpp"
#include "report/dot_writer.hpp"
#include "threads/misuse.hpp"
#include "threads/thread_registry.hpp"

namespace lockgraph::detail {
namespace {

// The wait-for graph as plain nodes and edges, before DOT styling.
struct wait_for_view {
  struct node {
    std::string id;
    std::string label;
    std::string attrs;
  };
  struct edge {
    std::size_t from, to;  // indices into nodes
    std::string label;
    std::string attrs;
  };
  std::vector<node> nodes;
  std::vector<edge> edges;
  std::map<const void*, std::size_t> index;  // lock_meta* or thread_slot* -> node

  std::size_t node_for(const void* key, const std::string& id, const std::string& label, const std::string& attrs) {
    const auto it = index.find(key);
    if (it != index.end()) return it->second;
    nodes.push_back({id, label, attrs});
    index.emplace(key, nodes.size() - 1);
    return nodes.size() - 1;
  }
};

// Marks the edges that lie on a cycle: both ends in one strongly connected component (Tarjan,
// iterative: a wait-for graph of a big hang can be deep).
std::vector<bool> edges_on_cycles(const wait_for_view& v) {
  const std::size_t n = v.nodes.size();
  std::vector<std::vector<std::size_t>> out(n);
  for (const auto& e : v.edges) out[e.from].push_back(e.to);
  std::vector<long> index(n, -1), low(n, 0), comp(n, -1);
  std::vector<bool> on_stack(n, false);
  std::vector<std::size_t> stack;
  long counter = 0, comps = 0;
  for (std::size_t root = 0; root < n; ++root) {
    if (index[root] >= 0) continue;
    std::vector<std::pair<std::size_t, std::size_t>> work{{root, 0}};
    while (!work.empty()) {
      auto& [u, next] = work.back();
      if (next == 0 && index[u] < 0) {
        index[u] = low[u] = counter++;
        stack.push_back(u);
        on_stack[u] = true;
      }
      if (next < out[u].size()) {
        const std::size_t w = out[u][next++];
        if (index[w] < 0) {
          work.push_back({w, 0});
        } else if (on_stack[w]) {
          low[u] = std::min(low[u], index[w]);
        }
        continue;
      }
      if (low[u] == index[u]) {
        for (;;) {
          const std::size_t w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          comp[w] = comps;
          if (w == u) break;
        }
        ++comps;
      }
      const std::size_t done = u;
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
    }
  }
  std::vector<long> size(static_cast<std::size_t>(comps), 0);
  for (long c : comp) ++size[static_cast<std::size_t>(c)];
  std::vector<bool> red;
  for (const auto& e : v.edges) {
    red.push_back(comp[e.from] == comp[e.to] && size[static_cast<std::size_t>(comp[e.from])] > 1);
  }
  return red;
}

wait_for_view build_wait_for_view() {
  wait_for_view v;
  const std::int64_t now = steady_now_ns();
  std::size_t lock_ids = 0;
  auto lock_node = [&](const lock_meta* m, const std::string& label, bool is_cv) {
    return v.node_for(m, "l" + std::to_string(lock_ids++), label, is_cv ? "shape=box, style=rounded" : "shape=box");
  };
  for_each_live_thread([&](thread_slot& slot) {
    thread_slot* s = &slot;
    const thread_ref ref = describe(*s);
    std::string label = thread_label(ref);
    waiting_thread w;
    const bool blocked = read_wait(s, &w);
    label_ref waited;
    if (blocked) {
      waited = label_ref::of(*w.waits_on);
      if (s->extra.wait_seq.load(std::memory_order_acquire) != w.seq) return;  // it moved on: skip it
      label += "\\nblocked " + std::to_string((now - w.since_ns) / 1000000) + " ms";
    }
    const std::size_t t = v.node_for(s, "t" + std::to_string(ref.id), label, "shape=ellipse");
    if (blocked) {
      const bool cv = w.kind == wait_kind::condition;
      const std::size_t l = lock_node(w.waits_on, waited.str(), cv);
      v.edges.push_back({t, l, cv ? "waits on" : ((w.mode & mode_shared) ? "waits for (shared)" : "waits for"), ""});
    }
    const std::uint32_t d = s->rec.depth.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < d; ++i) {
      const held_entry* e = held_at(&s->rec, i);
      if (e == nullptr) break;
      const lock_meta* m = e->lock.load(std::memory_order_relaxed);
      if (m == &destroyed_lock) continue;
      const bool shared = (e->mode.load(std::memory_order_relaxed) & mode_shared) != 0;
      const std::size_t l = lock_node(m, label_ref::of(*m).str(), false);
      v.edges.push_back({l, t, shared ? "held by (shared)" : "held by", ""});
    }
  });
  for (const orphan& o : orphans()) {
    const std::size_t l = v.node_for(o.lock, "l" + std::to_string(lock_ids++), o.held.lock,
                                     "shape=box, style=filled, fillcolor=orange");
    v.nodes[l].attrs = "shape=box, style=filled, fillcolor=orange";  // also when a waiter named it first
    const std::size_t t = v.node_for(&o.holder, "x" + std::to_string(o.holder.id),
                                     thread_label(o.holder) + "\\n(exited)", "shape=ellipse, style=dashed");
    v.edges.push_back({l, t, "held by (unreleased)", "color=orange"});
  }
  return v;
}

}  // namespace

std::string wait_for_dot_text() {
  wait_for_view v = build_wait_for_view();
  const std::vector<bool> red = edges_on_cycles(v);
  dot_builder dot(std::any_of(red.begin(), red.end(), [](bool b) { return b; })
                      ? "lockgraph: wait-for graph (circular wait: deadlock)"
                      : "lockgraph: wait-for graph");
  // Labels here carry DOT's own "\n" line breaks, which dot_escape would escape; split and re-join.
  auto escaped = [](const std::string& label) {
    std::string out;
    std::size_t start = 0;
    for (;;) {
      const std::size_t nl = label.find("\\n", start);
      out += label.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (nl == std::string::npos) break;
      out += "\n";
      start = nl + 2;
    }
    return out;
  };
  for (const auto& n : v.nodes) dot.add_node(n.id, escaped(n.label), n.attrs);
  for (std::size_t i = 0; i < v.edges.size(); ++i) {
    const auto& e = v.edges[i];
    std::string attrs = e.attrs;
    if (red[i]) attrs = "color=red, fontcolor=red, penwidth=2";
    dot.add_edge(v.nodes[e.from].id, v.nodes[e.to].id, e.label, attrs);
  }
  return std::move(dot).finish();
}

}  // namespace lockgraph::detail
