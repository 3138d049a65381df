// lock_order_graph.cpp: see lock_order_graph.hpp.
#include "graph/lock_order_graph.hpp"

#include <algorithm>
#include <map>

#include "base/stack_trace.hpp"

namespace lockgraph::detail {
namespace {

bool shared_capable(lock_type t) noexcept {
  return t == lock_type::shared_mutex || t == lock_type::shared_timed_mutex;
}

std::uint32_t slot_number(std::uint64_t node) noexcept { return static_cast<std::uint32_t>(node); }

}  // namespace

std::uint64_t lock_order_graph::node_of(lock_meta& m) {
  std::uint64_t n = m.node.load(std::memory_order_acquire);
  if (n != 0) return n;
  prepare_label(m);  // symbolizes a label_std_site label here, never under mu_
  std::lock_guard<std::mutex> g(mu_);
  n = m.node.load(std::memory_order_relaxed);
  if (n != 0) return n;
  n = cd_.new_node();
  node_info& info = nodes_[n];
  info.label = label_ref::of(m);
  info.lock = n;
  if (shared_capable(m.type)) {
    const std::uint64_t r = cd_.new_node();
    info.reader = r;
    node_info& rinfo = nodes_[r];
    rinfo.label = info.label;
    rinfo.lock = n;
  }
  m.node.store(n, std::memory_order_release);
  return n;
}

bool lock_order_graph::known(const edge_key& k) const {
  decltype(edges_)::const_accessor a;
  return edges_.find(a, k);
}

edge_outcome lock_order_graph::add(const edge_key& k, bool from_try, const thread_ref& thread, stack_trace stack,
                                   problem* cycle) {
  auto info = std::make_shared<edge_info>();
  info->key = k;
  info->from_try = from_try;
  info->thread = thread;
  info->stack = std::move(stack);

  std::lock_guard<std::mutex> g(mu_);
  if (known(k)) return edge_outcome::known;  // another thread recorded it meanwhile
  const auto from_it = nodes_.find(k.from);
  const auto to_it = nodes_.find(k.to);
  if (from_it == nodes_.end() || to_it == nodes_.end()) return edge_outcome::known;  // a lock destroyed mid-flight
  info->from_label = from_it->second.label;
  info->to_label = to_it->second.label;

  // Map the lock-level edge onto the state graph (see the header): it enters `to` through its R node
  // when acquired shared, and leaves `from` through N always, and through R only if `from` is held
  // exclusive.
  const std::uint64_t target = k.to_shared && to_it->second.reader != 0 ? to_it->second.reader : k.to;
  std::uint64_t sources[2] = {k.from, 0};
  if (!k.from_shared && from_it->second.reader != 0) sources[1] = from_it->second.reader;

  bool closed = false;
  for (std::uint64_t src : sources) {
    if (src == 0) continue;
    if (cd_.insert_edge(src, target)) {
      state_edges_[std::make_pair(src, target)].push_back(info);
      continue;
    }
    // Rejected: the order already has target ~> src. That path plus this edge is the cycle.
    const auto path = cd_.find_path(target, src);
    info->rejected = true;
    describe_cycle(path, info, cycle);
    closed = true;
    break;
  }
  if (closed) {
    from_it->second.rejected.push_back(k);
    to_it->second.rejected.push_back(k);
  } else {
    ++accepted_edges_;
  }
  edges_.insert({k, info});
  return closed ? edge_outcome::closes_cycle : edge_outcome::accepted;
}

void lock_order_graph::describe_cycle(const std::vector<cycle_detector::node_id>& path,
                                      const std::shared_ptr<edge_info>& closing, problem* out) {
  out->kind = report_kind::lock_order_inversion;
  std::vector<const edge_info*> infos;
  std::vector<std::uint64_t> locks;
  for (std::size_t i = 0; i < path.size(); ++i) {
    locks.push_back(nodes_.at(path[i]).lock);
    if (i + 1 < path.size()) {
      const auto it = state_edges_.find({path[i], path[i + 1]});
      infos.push_back(it == state_edges_.end() || it->second.empty() ? nullptr : it->second.front().get());
    }
  }
  infos.push_back(closing.get());

  // Labels, made unique within the report: two locks built at the same line get "#<node>" suffixes.
  std::map<std::string, int> uses;
  std::vector<std::string> labels;
  for (std::uint64_t l : locks) labels.push_back(nodes_.at(l).label.str());
  for (const auto& s : labels) ++uses[s];
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (uses[labels[i]] > 1) labels[i] += "#" + std::to_string(slot_number(locks[i]));
  }
  out->locks = labels;

  for (std::size_t i = 0; i < infos.size(); ++i) {
    lock_edge e;
    e.from = labels[i];
    e.to = labels[(i + 1) % labels.size()];
    if (const edge_info* info = infos[i]) {
      cycle_edges_.push_back(info->key);
      e.from_shared = info->key.from_shared;
      e.to_shared = info->key.to_shared;
      e.thread = info->thread;
      e.stack = info->stack;
      out->edge_ids.push_back({info->key.from, info->key.to, info->key.from_shared, info->key.to_shared});
    }
    out->edges.push_back(std::move(e));
  }
}

void lock_order_graph::erase_state_edges(cycle_detector::node_id n) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> doomed;
  cd_.for_each_successor(n, [&](cycle_detector::node_id s) { doomed.emplace_back(n, s); });
  cd_.for_each_predecessor(n, [&](cycle_detector::node_id p) { doomed.emplace_back(p, n); });
  for (const auto& e : doomed) {
    const auto it = state_edges_.find(e);
    if (it == state_edges_.end()) continue;
    for (const auto& info : it->second) {
      if (edges_.erase(info->key) && !info->rejected) --accepted_edges_;
    }
    state_edges_.erase(it);
  }
}

void lock_order_graph::remove(std::uint64_t node) {
  std::lock_guard<std::mutex> g(mu_);
  const auto it = nodes_.find(node);
  if (it == nodes_.end()) return;
  const std::uint64_t reader = it->second.reader;
  for (const edge_key& k : it->second.rejected) edges_.erase(k);
  const std::uint64_t lock = node;
  std::erase_if(cycle_edges_, [lock](const edge_key& k) { return k.from == lock || k.to == lock; });
  erase_state_edges(node);
  cd_.remove_node(node);
  if (reader != 0) {
    erase_state_edges(reader);
    cd_.remove_node(reader);
    nodes_.erase(reader);
  }
  nodes_.erase(node);
}

lock_order_snapshot lock_order_graph::snapshot() const {
  lock_order_snapshot s;
  std::vector<std::shared_ptr<edge_info>> infos;
  std::vector<edge_key> cycle_edges;
  {
    std::lock_guard<std::mutex> g(mu_);
    cycle_edges = cycle_edges_;
    for (const auto& [id, info] : nodes_) {
      if (info.lock == id) s.nodes.push_back({id, info.label.str()});
    }
    for (const auto& [pair, list] : state_edges_) infos.insert(infos.end(), list.begin(), list.end());
    for (const auto& [id, info] : nodes_) {
      for (const edge_key& k : info.rejected) {
        if (k.from != id) continue;  // each rejected edge once, from its source
        decltype(edges_)::const_accessor a;
        if (edges_.find(a, k)) infos.push_back(a->second);
      }
    }
  }
  // One lock-level edge may sit behind two state edges; show it once.
  std::sort(infos.begin(), infos.end());
  infos.erase(std::unique(infos.begin(), infos.end()), infos.end());
  for (const auto& info : infos) {
    lock_order_snapshot::edge e{info->key.from, info->key.to, info->key.from_shared, info->key.to_shared,
                                info->from_try, info->rejected, false, info->thread, {}};
    // The innermost user frame is the acquisition site; symbolizing happens here, off the lock.
    e.site = innermost_site(info->stack);
    e.in_cycle = std::find(cycle_edges.begin(), cycle_edges.end(), info->key) != cycle_edges.end();
    s.edges.push_back(std::move(e));
  }
  std::sort(s.nodes.begin(), s.nodes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return s;
}

std::size_t lock_order_graph::node_count() const {
  std::lock_guard<std::mutex> g(mu_);
  std::size_t n = 0;
  for (const auto& [id, info] : nodes_) n += info.lock == id;
  return n;
}

std::size_t lock_order_graph::edge_count() const {
  std::lock_guard<std::mutex> g(mu_);
  return accepted_edges_;
}

std::size_t lock_order_graph::memory_bytes() const {
  std::lock_guard<std::mutex> g(mu_);
  // Hash-node overheads are estimated (two pointers per node); the detector reports its own exactly.
  return cd_.memory_bytes() + nodes_.size() * (sizeof(node_info) + 2 * sizeof(void*) + sizeof(std::uint64_t)) +
         nodes_.bucket_count() * sizeof(void*) +
         state_edges_.size() * (sizeof(std::pair<std::uint64_t, std::uint64_t>) + 7 * sizeof(void*)) +
         state_edges_.bucket_count() * sizeof(void*) + edges_.size() * (sizeof(edge_info) + 6 * sizeof(void*));
}

}  // namespace lockgraph::detail
