// class_graph.cpp: see class_graph.hpp.
#include "graph/class_graph.hpp"

#include <algorithm>
#include <iterator>

#include "base/labels.hpp"
#include "base/stack_trace.hpp"

namespace lockgraph::detail {

std::uint64_t class_graph::class_node_of_key(const std::string& key) {
  if (const auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  const std::uint64_t n = cd_.new_node();
  by_key_.emplace(key, n);
  keys_[n] = key;
  ids_[n] = static_cast<std::uint32_t>(ids_.size() + 1);
  return n;
}

std::uint32_t class_graph::class_id(const std::string& key) {
  std::lock_guard<std::mutex> g(mu_);
  return ids_.at(class_node_of_key(key));
}

std::uint64_t class_graph::class_node(const lock_meta& m, std::uint64_t instance) {
  if (const auto c = class_of_.find(instance); c != class_of_.end()) return c->second;
  // The label was prepared (symbolized) when the lock got its node: formatting it here is cheap.
  const std::uint64_t n = class_node_of_key(class_key(m));
  class_of_[instance] = n;
  return n;
}

std::string class_graph::label_of(std::uint64_t instance) const {
  const auto c = class_of_.find(instance);
  if (c == class_of_.end()) return "a lock";
  return keys_.at(c->second);
}

// gates := gates ∩ held. True if it shrank.
bool class_graph::shrink(held_set& gates, const held_set& held) {
  if (gates.empty()) return false;
  held_set kept;
  std::set_intersection(gates.begin(), gates.end(), held.begin(), held.end(), std::back_inserter(kept));
  if (kept.size() == gates.size()) return false;
  gates = std::move(kept);
  return true;
}

held_set class_graph::cycle_gate(const gated_cycle& c) const {
  bool first = true;
  held_set gate;
  auto meet = [&](const held_set& s) {
    if (first) {
      gate = s;
      first = false;
    } else {
      held_set kept;
      std::set_intersection(gate.begin(), gate.end(), s.begin(), s.end(), std::back_inserter(kept));
      gate = std::move(kept);
    }
  };
  static const held_set kNone;
  for (const edge_key& k : c.instance_edges) {
    const auto it = instance_gates_.find(k);
    meet(it == instance_gates_.end() ? kNone : it->second);
  }
  for (const auto& pair : c.classes) {
    const auto it = edges_.find(pair);
    meet(it == edges_.end() ? kNone : it->second.gates);
  }
  return gate;
}

void class_graph::keep(gated_cycle c) {
  const std::string gate = label_of(c.gate.front());
  if (std::find(gate_names_.begin(), gate_names_.end(), gate) == gate_names_.end()) gate_names_.push_back(gate);
  ++kept_;
  gated_.push_back(std::move(c));
}

// Kept cycles whose gate is gone are handed back to be reported, now.
void class_graph::recheck(std::vector<problem>* broken) {
  for (auto it = gated_.begin(); it != gated_.end();) {
    if (cycle_gate(*it).empty()) {
      --kept_;
      if (broken != nullptr) broken->push_back(std::move(it->p));
      it = gated_.erase(it);
    } else {
      ++it;
    }
  }
}

void class_graph::note_gate(const edge_key& k, const held_set& held) {
  if (held.empty()) return;
  instance_gates_[k] = held;
  gates_of_[k.from].push_back(k);
  gates_of_[k.to].push_back(k);
  any_gates_.store(true, std::memory_order_release);
}

bool class_graph::add_edge(const edge_key& k, const lock_meta& from, const lock_meta& to, const held_set& held,
                           const thread_ref& thread, const stack_trace& stack, problem* out,
                           std::vector<problem>* broken) {
  std::lock_guard<std::mutex> g(mu_);
  note_gate(k, held);
  if (!classes_) return false;
  const std::uint64_t cf = class_node(from, k.from);
  const std::uint64_t ct = class_node(to, k.to);
  if (k.from_shared || k.to_shared) return false;

  auto [it, fresh] = edges_.try_emplace({cf, ct});
  class_edge& e = it->second;
  ++e.sightings;
  if (!fresh) {
    if (shrink(e.gates, held) && !gated_.empty()) recheck(broken);
    return false;
  }
  e.from_lock = label_ref::of(from).str();
  e.to_lock = label_ref::of(to).str();
  e.thread = thread;
  e.stack = stack;
  e.gates = held;
  if (cf == ct) return false;  // nesting within one class: not an inversion (notes() shows it)
  if (cd_.insert_edge(cf, ct)) return false;

  // The class order already has ct ~> cf: that path plus this edge is a cycle of classes. The per-lock
  // graph accepted this edge, so no single set of locks closes it (yet).
  e.rejected = true;
  const std::vector<cycle_detector::node_id> path = cd_.find_path(ct, cf);
  gated_cycle c;
  problem& p = c.p;
  p.kind = report_kind::lock_order_inversion;
  p.scope = "class";
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::uint64_t a = path[i];
    const std::uint64_t b = i + 1 < path.size() ? path[i + 1] : ct;
    p.locks.push_back(keys_.at(a));
    c.classes.emplace_back(a, b);
    const class_edge& ce = i + 1 < path.size() ? edges_.at({a, b}) : e;
    lock_edge le;
    le.from = keys_.at(a);
    le.to = keys_.at(b);
    le.thread = ce.thread;
    le.stack = ce.stack;
    p.edges.push_back(std::move(le));
    p.edge_ids.push_back({a, b, false, false});
  }
  p.classes = p.locks;
  c.gate = cycle_gate(c);
  if (!c.gate.empty() && !report_gated_) {
    keep(std::move(c));
    return false;
  }
  *out = std::move(p);
  return true;
}

bool class_graph::instance_cycle(const edge_key& k, const held_set& held, const problem& p) {
  std::lock_guard<std::mutex> g(mu_);
  note_gate(k, held);
  // An edge the graph could not name (no edge id) has no known gate: the cycle is not gated.
  if (p.edge_ids.size() != p.locks.size() || report_gated_) return true;
  gated_cycle c;
  for (const edge_id& e : p.edge_ids) c.instance_edges.push_back({e.from, e.to, e.from_shared, e.to_shared});
  c.gate = cycle_gate(c);
  if (c.gate.empty() || report_gated_) return true;
  c.p = p;
  keep(std::move(c));
  return false;
}

void class_graph::sighting(const edge_key& k, const held_set& held, std::vector<problem>* broken) {
  if (!may_gate()) return;
  std::lock_guard<std::mutex> g(mu_);
  bool shrank = false;
  if (const auto it = instance_gates_.find(k); it != instance_gates_.end()) {
    shrank = shrink(it->second, held);
    if (it->second.empty()) instance_gates_.erase(it);  // gates_of_ entries go stale: checked on use
  }
  if (!k.from_shared && !k.to_shared) {
    const auto cf = class_of_.find(k.from);
    const auto ct = class_of_.find(k.to);
    if (cf != class_of_.end() && ct != class_of_.end()) {
      const auto e = edges_.find({cf->second, ct->second});
      if (e != edges_.end() && shrink(e->second.gates, held)) shrank = true;
    }
  }
  if (shrank && !gated_.empty()) recheck(broken);
}

void class_graph::remove(std::uint64_t node) {
  std::lock_guard<std::mutex> g(mu_);
  class_of_.erase(node);
  if (const auto it = gates_of_.find(node); it != gates_of_.end()) {
    for (const edge_key& k : it->second) instance_gates_.erase(k);
    gates_of_.erase(it);
  }
  // A kept instance cycle through the lock is gone with it (the per-lock graph forgets its edge too).
  std::erase_if(gated_, [node](const gated_cycle& c) {
    return std::any_of(c.instance_edges.begin(), c.instance_edges.end(),
                       [node](const edge_key& k) { return k.from == node || k.to == node; });
  });
}

void class_graph::forget_class_of(std::uint64_t node) {
  std::uint64_t cls = 0;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (const auto c = class_of_.find(node); c != class_of_.end()) cls = c->second;
  }
  remove(node);
  if (cls == 0) return;
  std::lock_guard<std::mutex> g(mu_);
  cd_.remove_node(cls);
  std::erase_if(edges_, [cls](const auto& e) { return e.first.first == cls || e.first.second == cls; });
  std::erase_if(class_of_, [cls](const auto& e) { return e.second == cls; });
  std::erase_if(gated_, [cls](const gated_cycle& c) {
    return std::any_of(c.classes.begin(), c.classes.end(),
                       [cls](const auto& e) { return e.first == cls || e.second == cls; });
  });
  if (const auto k = keys_.find(cls); k != keys_.end()) {
    by_key_.erase(k->second);
    keys_.erase(k);
  }
}

void class_graph::forget_edges() {
  std::lock_guard<std::mutex> g(mu_);
  for (const auto& [key, n] : by_key_) cd_.remove_node(n);
  by_key_.clear();
  keys_.clear();
  ids_.clear();
  class_of_.clear();
  edges_.clear();
  instance_gates_.clear();
  gates_of_.clear();
  gated_.clear();
  kept_ = 0;
  gate_names_.clear();
}

std::vector<std::string> class_graph::notes() const {
  struct nesting {
    std::string key;
    std::uint64_t sightings;
    thread_ref thread;
    stack_trace stack;
  };
  std::vector<nesting> same;
  std::vector<std::string> out;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& [pair, e] : edges_) {
      if (pair.first == pair.second) same.push_back({keys_.at(pair.first), e.sightings, e.thread, e.stack});
    }
    for (const gated_cycle& c : gated_) {
      std::string line = "gated cycle, not reported (gate_locks=report reports it): ";
      for (const auto& l : c.p.locks) line += l + " => ";
      line += c.p.locks.empty() ? std::string() : c.p.locks.front();
      line += "; every edge taken under " + label_of(c.gate.front());
      out.push_back(std::move(line));
    }
  }
  // Symbolized off the lock.
  for (const nesting& n : same) {
    std::string line = "same-class nesting (not an inversion): " + n.key + " -> " + n.key + ", " +
                       std::to_string(n.sightings) + (n.sightings == 1 ? " lock pair" : " lock pairs") +
                       ", first by " + thread_label(n.thread);
    const std::string where = innermost_site(n.stack);
    if (!where.empty()) line += " at " + where;
    out.push_back(std::move(line));
  }
  return out;
}

std::vector<edge_key> class_graph::gated_edges() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<edge_key> out;
  for (const gated_cycle& c : gated_) out.insert(out.end(), c.instance_edges.begin(), c.instance_edges.end());
  return out;
}

std::string class_graph::gated_summary() const {
  std::lock_guard<std::mutex> g(mu_);
  if (kept_ == 0) return {};
  std::string gates;
  for (const std::string& l : gate_names_) gates += (gates.empty() ? "" : ", ") + l;
  const std::size_t n = kept_;
  return "lockgraph: " + std::to_string(n) + (n == 1 ? " lock-order cycle" : " lock-order cycles") +
         " not reported: every edge was taken under the same gate lock (" + gates +
         "), which serialises them; gate_locks=report reports them";
}

std::size_t class_graph::class_count() const {
  std::lock_guard<std::mutex> g(mu_);
  return by_key_.size();
}

std::size_t class_graph::edge_count() const {
  std::lock_guard<std::mutex> g(mu_);
  std::size_t n = 0;
  for (const auto& [pair, e] : edges_) n += pair.first != pair.second && !e.rejected;
  return n;
}

}  // namespace lockgraph::detail
