// lock_order_graph.cpp: see lock_order_graph.hpp.
#include "graph/lock_order_graph.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "base/stack_trace.hpp"
#include "lockgraph/detail/chain_cache.hpp"

namespace lockgraph::detail {
namespace {

bool shared_capable(lock_type t) noexcept {
  return t == lock_type::shared_mutex || t == lock_type::shared_timed_mutex;
}

std::uint32_t slot_number(std::uint64_t node) noexcept { return static_cast<std::uint32_t>(node); }

// A chain value as stored in the process-wide cache: valid only under the epoch it was mixed with.
std::uint64_t epoch_chain(std::uint64_t key, std::uint32_t epoch) noexcept {
  return chain_mix(key, epoch, 0);
}

}  // namespace

std::size_t lock_order_graph::sighting_hash::operator()(const std::shared_ptr<const sighting>& s) const noexcept {
  std::uint64_t h = s->thread.id * 0x9E3779B97F4A7C15ULL;
  for (std::uintptr_t f : s->stack.frames) h = (h ^ f) * 0xC2B2AE3D27D4EB4FULL;
  return static_cast<std::size_t>(h ^ (h >> 31));
}

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

bool lock_order_graph::known(const edge_key& k, bool* rejected) const {
  decltype(edges_)::const_accessor a;
  if (!edges_.find(a, k)) return false;
  if (rejected != nullptr) *rejected = a->second->rejected;
  return true;
}

// 4-way set associative, most recently used first: a hit moves its entry one way up, an insert goes
// to way 0 and pushes the others down (way 3 drops out). Chains that are in use stay; those of
// destroyed locks (never hit again) sink and drop out, so a deep nesting's ~1,000 chains do not evict
// each other (each such miss costs a full slow path, O(depth)). Racing threads may duplicate or drop
// an entry: it is a cache, a lost entry costs one slow path.
bool lock_order_graph::chain_validated(std::uint64_t key) const noexcept {
  const std::uint64_t v = epoch_chain(key, g_chain_epoch.load(std::memory_order_acquire));
  const std::size_t set = v & (kChains - 1) & ~std::size_t{3};
  for (std::size_t i = 0; i < 4; ++i) {
    if (chains_[set + i].load(std::memory_order_relaxed) != v) continue;
    if (i > 0) {
      chains_[set + i].store(chains_[set + i - 1].load(std::memory_order_relaxed), std::memory_order_relaxed);
      chains_[set + i - 1].store(v, std::memory_order_relaxed);
    }
    return true;
  }
  return false;
}

void lock_order_graph::remember_chain(std::uint64_t key, std::uint32_t epoch) noexcept {
  const std::uint64_t v = epoch_chain(key, epoch);
  const std::size_t set = v & (kChains - 1) & ~std::size_t{3};
  for (std::size_t i = 0; i < 4; ++i) {
    if (chains_[set + i].load(std::memory_order_relaxed) == v) return;
  }
  for (std::size_t i = 3; i > 0; --i) {
    chains_[set + i].store(chains_[set + i - 1].load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  chains_[set].store(v, std::memory_order_relaxed);
}

std::shared_ptr<const sighting> lock_order_graph::intern(thread_ref thread, stack_trace stack) {
  auto s = std::make_shared<const sighting>(sighting{std::move(thread), std::move(stack)});
  const auto it = sightings_.find(s);
  if (it != sightings_.end()) return *it;
  if (sightings_.size() >= sightings_purge_at_) {
    std::erase_if(sightings_, [](const auto& p) { return p.use_count() == 1; });
    sightings_purge_at_ = std::max<std::size_t>(1024, 2 * sightings_.size());
  }
  sightings_.insert(s);
  return s;
}

edge_outcome lock_order_graph::add(const edge_key& k, bool from_try, const thread_ref& thread, stack_trace stack,
                                   problem* cycle) {
  auto info = std::make_shared<edge_info>();
  info->key = k;
  info->from_try = from_try;

  std::lock_guard<std::mutex> g(mu_);
  if (known(k)) return edge_outcome::known;  // another thread recorded it meanwhile
  if (max_edges_ != 0 && edges_.size() >= max_edges_) {
    if (!cap_noticed_) {
      cap_noticed_ = true;
      const std::string msg = "lockgraph: max_edges=" + std::to_string(max_edges_) +
                              " reached: new lock-order edges are no longer recorded (cycles through them go "
                              "unreported); raise max_edges to record more\n";
      (void)!::write(2, msg.data(), msg.size());
    }
    return edge_outcome::capped;
  }
  info->seen = intern(thread, std::move(stack));
  return insert(info, cycle);
}

// Maps the lock-level edge onto the state graph (see the header): it enters `to` through its R node
// when acquired shared, and leaves `from` through N always, and through R only if `from` is held
// exclusive.
edge_outcome lock_order_graph::insert(const std::shared_ptr<edge_info>& info, problem* cycle) {
  const edge_key& k = info->key;
  const auto from_it = nodes_.find(k.from);
  const auto to_it = nodes_.find(k.to);
  if (from_it == nodes_.end() || to_it == nodes_.end()) return edge_outcome::known;  // a lock destroyed mid-flight
  const std::uint64_t target = k.to_shared && to_it->second.reader != 0 ? to_it->second.reader : k.to;
  std::uint64_t sources[2] = {k.from, 0};
  if (!k.from_shared && from_it->second.reader != 0) sources[1] = from_it->second.reader;

  for (std::uint64_t src : sources) {
    if (src == 0 || cd_.insert_edge(src, target)) continue;
    // Rejected: the order already has target ~> src. That path plus this edge is the cycle. (A first
    // source already inserted stays: it is implied by the path, harmless.)
    if (cycle == nullptr) return edge_outcome::known;
    const auto path = cd_.find_path(target, src);
    info->rejected = true;
    describe_cycle(path, info, cycle);
    std::vector<std::uint64_t> locks;
    for (auto n : path) locks.push_back(nodes_.at(n).lock);
    std::sort(locks.begin(), locks.end());
    locks.erase(std::unique(locks.begin(), locks.end()), locks.end());
    for (auto l : locks) nodes_.at(l).rejected.push_back(k);
    rejected_cycles_[k] = std::move(locks);
    edges_.insert({k, info});
    return edge_outcome::closes_cycle;
  }
  ++accepted_edges_;
  edges_.insert({k, info});
  return edge_outcome::accepted;
}

// A lock-level edge behind the state edge src -> dst (an accepted one, exclusive source first).
const edge_info* lock_order_graph::state_edge_info(std::uint64_t src, std::uint64_t dst) const {
  const node_info& s = nodes_.at(src);
  const node_info& d = nodes_.at(dst);
  const bool to_shared = d.lock != dst;    // entered through its R node
  const bool from_reader = s.lock != src;  // leaves an R node: only exclusive holds do
  for (bool from_shared : {false, true}) {
    if (from_shared && from_reader) break;
    decltype(edges_)::const_accessor a;
    if (edges_.find(a, edge_key{s.lock, d.lock, from_shared, to_shared}) && !a->second->rejected) {
      return a->second.get();
    }
  }
  return nullptr;
}

void lock_order_graph::describe_cycle(const std::vector<cycle_detector::node_id>& path,
                                      const std::shared_ptr<edge_info>& closing, problem* out) {
  out->kind = report_kind::lock_order_inversion;
  std::vector<const edge_info*> infos;
  std::vector<std::uint64_t> locks;
  for (std::size_t i = 0; i < path.size(); ++i) {
    locks.push_back(nodes_.at(path[i]).lock);
    if (i + 1 < path.size()) infos.push_back(state_edge_info(path[i], path[i + 1]));
  }
  infos.push_back(closing.get());

  // Labels, made unique within the report: two locks built at the same line get "#<node>" suffixes.
  std::map<std::string, int> uses;
  std::vector<std::string> labels;
  for (std::uint64_t l : locks) labels.push_back(nodes_.at(l).label.str());
  out->classes = labels;  // a lock's label is its class key (base/labels.hpp)
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
      if (info->seen) {
        e.thread = info->seen->thread;
        e.stack = info->seen->stack;
      }
      out->edge_ids.push_back({info->key.from, info->key.to, info->key.from_shared, info->key.to_shared});
    }
    out->edges.push_back(std::move(e));
  }
}

// Erases the accepted lock-level edges behind every state edge of `n` (each one's possible keys).
void lock_order_graph::erase_edges_of(cycle_detector::node_id n) {
  auto erase_pair = [&](std::uint64_t src, std::uint64_t dst) {
    const node_info& s = nodes_.at(src);
    const node_info& d = nodes_.at(dst);
    for (bool from_shared : {false, true}) {
      decltype(edges_)::accessor a;
      if (!edges_.find(a, edge_key{s.lock, d.lock, from_shared, d.lock != dst})) continue;
      if (a->second->rejected) continue;  // forgotten with its cycle's locks, not here
      if (const auto u = unders_.find(a->first); u != unders_.end()) {
        for (std::uint64_t x : u->second) {
          if (const auto l = under_of_.find(x); l != under_of_.end()) std::erase(l->second, a->first);
        }
        unders_.erase(u);
      }
      edges_.erase(a);
      --accepted_edges_;
    }
  };
  cd_.for_each_successor(n, [&](cycle_detector::node_id s) { erase_pair(n, s); });
  cd_.for_each_predecessor(n, [&](cycle_detector::node_id p) { erase_pair(p, n); });
}

void lock_order_graph::note_under(const edge_key& k, std::uint64_t under) {
  std::lock_guard<std::mutex> g(mu_);
  if (under == k.to || nodes_.find(under) == nodes_.end()) return;
  bool rejected = false;
  if (!known(k, &rejected) || rejected) return;
  add_under(k, under);
}

void lock_order_graph::add_under(const edge_key& k, std::uint64_t under) {
  if (under == k.to || under == k.from) return;
  std::vector<std::uint64_t>& v = unders_[k];
  if (std::find(v.begin(), v.end(), under) != v.end()) return;
  v.push_back(under);
  under_of_[under].push_back(k);
}

// For every accepted lock -> s with a noted under u and an accepted u -> lock whose composition is an
// order in the state graph, adds u -> s unless known, noting u -> lock's unders on it. Cannot close a
// cycle: the path u -> lock -> s is there.
void lock_order_graph::splice_through(std::uint64_t lock) {
  const node_info& me = nodes_.at(lock);
  std::vector<std::shared_ptr<edge_info>> out;
  auto collect = [&](std::uint64_t state) {
    if (state == 0) return;
    cd_.for_each_successor(state, [&](cycle_detector::node_id s) {
      const node_info& si = nodes_.at(s);
      for (bool fs : {false, true}) {
        if (fs && state != lock) break;
        decltype(edges_)::const_accessor a;
        if (edges_.find(a, edge_key{lock, si.lock, fs, si.lock != s}) && !a->second->rejected) out.push_back(a->second);
      }
    });
  };
  collect(lock);
  collect(me.reader);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  for (const auto& o : out) {
    const auto u_it = unders_.find(o->key);
    if (u_it == unders_.end()) continue;
    const std::vector<std::uint64_t> unders = u_it->second;  // copied: inserts below may rehash
    for (std::uint64_t u : unders) {
      if (u == o->key.to || nodes_.find(u) == nodes_.end()) continue;
      std::shared_ptr<edge_info> in;
      for (bool fs : {false, true}) {
        for (bool ts : {false, true}) {
          if (in || (ts && o->key.from_shared)) continue;  // entered shared, left shared: no order
          decltype(edges_)::const_accessor a;
          if (edges_.find(a, edge_key{u, lock, fs, ts}) && !a->second->rejected) in = a->second;
        }
      }
      if (!in) continue;
      const edge_key k{u, o->key.to, in->key.from_shared, o->key.to_shared};
      if (!known(k)) {
        if (max_edges_ != 0 && edges_.size() >= max_edges_) return;
        auto info = std::make_shared<edge_info>();
        info->key = k;
        info->seen = o->seen;  // where the order's far end was taken
        info->from_try = in->from_try;
        info->spliced = true;
        if (insert(info, nullptr) != edge_outcome::accepted) continue;
      }
      const auto in_unders = unders_.find(in->key);
      if (in_unders == unders_.end()) continue;
      const std::vector<std::uint64_t> more = in_unders->second;
      for (std::uint64_t x : more) add_under(k, x);
    }
  }
  // Edges c -> d that were taken with this lock right below c: the locks that were below it then
  // (noted on this lock -> c) were below c too; they take its place.
  const auto uo = under_of_.find(lock);
  if (uo == under_of_.end()) return;
  const std::vector<edge_key> listed = std::move(uo->second);
  under_of_.erase(uo);
  for (const edge_key& k : listed) {
    const auto it = unders_.find(k);
    if (it == unders_.end() || std::find(it->second.begin(), it->second.end(), lock) == it->second.end()) continue;
    std::erase(it->second, lock);
    for (bool fs : {false, true}) {
      for (bool ts : {false, true}) {
        const auto below = unders_.find(edge_key{lock, k.from, fs, ts});
        if (below == unders_.end()) continue;
        const std::vector<std::uint64_t> more = below->second;
        for (std::uint64_t x : more) add_under(k, x);
      }
    }
  }
}

void lock_order_graph::remove(std::uint64_t node) {
  std::lock_guard<std::mutex> g(mu_);
  const auto it = nodes_.find(node);
  if (it == nodes_.end()) return;
  const std::uint64_t reader = it->second.reader;
  splice_through(node);
  // Rejected edges whose cycle went through this lock: that cycle is gone, so the edge is new again
  // (re-checked, and reported if it closes a cycle of live locks) the next time it is taken.
  bool forgot = false;
  for (const edge_key& k : it->second.rejected) {
    const auto c = rejected_cycles_.find(k);
    if (c == rejected_cycles_.end() || !std::binary_search(c->second.begin(), c->second.end(), node)) continue;
    decltype(edges_)::accessor a;
    if (edges_.find(a, k) && a->second->rejected) {
      edges_.erase(a);
      std::erase(cycle_edges_, k);
      forgot = true;
    }
    rejected_cycles_.erase(c);
  }
  under_of_.erase(node);
  const std::uint64_t lock = node;
  std::erase_if(cycle_edges_, [lock](const edge_key& k) { return k.from == lock || k.to == lock; });
  erase_edges_of(node);
  cd_.remove_node(node);
  if (reader != 0) {
    erase_edges_of(reader);
    cd_.remove_node(reader);
    nodes_.erase(reader);
  }
  nodes_.erase(node);
  if (forgot) g_chain_epoch.fetch_add(1, std::memory_order_release);
}

std::uint64_t lock_order_graph::forget(lock_meta& m) {
  std::uint64_t node;
  {
    std::lock_guard<std::mutex> g(mu_);  // node_of() reads and sets m.node under it
    node = m.node.exchange(0, std::memory_order_acq_rel);
  }
  if (node != 0) remove(node);
  g_chain_epoch.fetch_add(1, std::memory_order_release);
  return node;
}

void lock_order_graph::forget_edges() {
  {
    std::lock_guard<std::mutex> g(mu_);
    // Erased key by key (concurrent_hash_map::clear() must not run beside known(), which takes no mu_).
    for (const auto& info : all_edges()) edges_.erase(info->key);
    std::vector<std::pair<cycle_detector::node_id, cycle_detector::node_id>> state_edges;
    for (auto& [id, info] : nodes_) {
      cd_.for_each_successor(id, [&, from = id](cycle_detector::node_id to) { state_edges.emplace_back(from, to); });
      info.rejected.clear();
    }
    for (const auto& [from, to] : state_edges) cd_.remove_edge(from, to);
    rejected_cycles_.clear();
    unders_.clear();
    under_of_.clear();
    cycle_edges_.clear();
    accepted_edges_ = 0;
    std::erase_if(sightings_, [](const auto& p) { return p.use_count() == 1; });
  }
  g_chain_epoch.fetch_add(1, std::memory_order_release);
}

// Every lock-level edge once (the accepted ones found through the state graph's adjacency, the
// rejected ones through their source's list): no iteration over edges_, whose oneTBB iterators
// UBSan flags. Caller holds mu_.
std::vector<std::shared_ptr<edge_info>> lock_order_graph::all_edges() const {
  std::vector<std::shared_ptr<edge_info>> out;
  for (const auto& entry : nodes_) {
    const std::uint64_t id = entry.first;
    const node_info& info = entry.second;
    cd_.for_each_successor(id, [&](cycle_detector::node_id succ) {
      const node_info& d = nodes_.at(succ);
      for (bool from_shared : {false, true}) {
        if (from_shared && info.lock != id) break;  // only exclusive holds leave an R node
        decltype(edges_)::const_accessor a;
        if (edges_.find(a, edge_key{info.lock, d.lock, from_shared, d.lock != succ}) && !a->second->rejected) {
          out.push_back(a->second);
        }
      }
    });
    if (info.lock != id) continue;
    for (const edge_key& k : info.rejected) {
      if (k.from != id) continue;  // each rejected edge once, from its source
      decltype(edges_)::const_accessor a;
      if (edges_.find(a, k) && a->second->rejected) out.push_back(a->second);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

lock_order_snapshot lock_order_graph::snapshot(std::size_t max_edges) const {
  lock_order_snapshot s;
  std::vector<std::shared_ptr<edge_info>> infos;
  std::vector<edge_key> cycle_edges;
  std::map<std::uint64_t, std::string> labels;
  {
    std::lock_guard<std::mutex> g(mu_);
    cycle_edges = cycle_edges_;
    std::sort(cycle_edges.begin(), cycle_edges.end(), [](const edge_key& a, const edge_key& b) {
      return std::tie(a.from, a.to, a.from_shared, a.to_shared) < std::tie(b.from, b.to, b.from_shared, b.to_shared);
    });
    const std::vector<std::shared_ptr<edge_info>> every = all_edges();
    const std::size_t total = every.size();
    if (max_edges == 0 || total <= max_edges) {
      infos = every;
    } else {
      // Reported cycles first, then the edges touching their locks, up to max_edges.
      std::set<std::uint64_t> focus;
      for (const edge_key& k : cycle_edges) {
        focus.insert(k.from);
        focus.insert(k.to);
      }
      for (const auto& info : every) {
        const edge_key& k = info->key;
        if (info->rejected || std::binary_search(cycle_edges.begin(), cycle_edges.end(), k,
                                                 [](const edge_key& a, const edge_key& b) {
                                                   return std::tie(a.from, a.to, a.from_shared, a.to_shared) <
                                                          std::tie(b.from, b.to, b.from_shared, b.to_shared);
                                                 })) {
          infos.push_back(info);
        }
      }
      for (const auto& info : every) {
        const edge_key& k = info->key;
        if (infos.size() >= max_edges) break;
        // With no reported cycle to centre on, the first max_edges edges give an idea of the graph.
        if ((focus.empty() || focus.count(k.from) || focus.count(k.to)) && !info->rejected) infos.push_back(info);
      }
      std::sort(infos.begin(), infos.end());
      infos.erase(std::unique(infos.begin(), infos.end()), infos.end());
      s.omitted_edges = total - infos.size();
    }
    std::set<std::uint64_t> shown;
    for (const auto& info : infos) {
      shown.insert(info->key.from);
      shown.insert(info->key.to);
    }
    const bool all = s.omitted_edges == 0;
    for (const auto& [id, info] : nodes_) {
      if (info.lock != id) continue;
      if (all || shown.count(id)) {
        s.nodes.push_back({id, info.label.str()});
      } else {
        ++s.omitted_nodes;
      }
    }
  }
  // Symbolize each distinct stack once (nearly all edges of one site share a sighting).
  std::map<const sighting*, std::string> sites;
  for (const auto& info : infos) {
    lock_order_snapshot::edge e{info->key.from, info->key.to, info->key.from_shared, info->key.to_shared,
                                info->from_try, info->rejected, false, info->spliced, false, {}, {}};
    if (info->seen) {
      e.thread = info->seen->thread;
      auto [it, fresh] = sites.try_emplace(info->seen.get());
      // The innermost user frame is the acquisition site; symbolizing happens here, off the lock.
      if (fresh) it->second = innermost_site(info->seen->stack);
      e.site = it->second;
    }
    e.in_cycle = std::find(cycle_edges.begin(), cycle_edges.end(), info->key) != cycle_edges.end();
    s.edges.push_back(std::move(e));
  }
  std::sort(s.nodes.begin(), s.nodes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  std::sort(s.edges.begin(), s.edges.end(), [](const auto& a, const auto& b) {
    return std::tie(a.from, a.to, a.from_shared, a.to_shared) < std::tie(b.from, b.to, b.from_shared, b.to_shared);
  });
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
         nodes_.bucket_count() * sizeof(void*) + edges_.size() * (sizeof(edge_info) + 8 * sizeof(void*)) +
         sightings_.size() * (sizeof(sighting) + 6 * sizeof(void*)) + sizeof(chains_);
}

}  // namespace lockgraph::detail
