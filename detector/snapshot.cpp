// snapshot.cpp: whole-process views: lock_order_dot(), wait_for_dot(), check_quiescent(), and the
// dump_signal handler that reports every blocked thread and writes the wait-for graph of a hang.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

#include "dot_writer.hpp"
#include "lockgraph/check.hpp"
#include "lockgraph/graphviz.hpp"
#include "misuse.hpp"
#include "runtime.hpp"
#include "snapshot.hpp"
#include "wait_for_graph.hpp"
#include "watchdog.hpp"

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
  for (thread_slot* s = first_slot(); s != nullptr; s = s->next.load(std::memory_order_acquire)) {
    if (!s->extra.in_use.load(std::memory_order_acquire)) continue;
    const thread_ref ref = describe(*s);
    std::string label = thread_label(ref);
    waiting_thread w{s,
                     s->extra.wait_seq.load(std::memory_order_acquire),
                     s->extra.waits_on.load(std::memory_order_relaxed),
                     s->extra.wait_type.load(std::memory_order_relaxed),
                     s->extra.wait_mode.load(std::memory_order_relaxed),
                     s->extra.wait_since_ns.load(std::memory_order_relaxed)};
    const bool blocked = (w.seq & 1) != 0 && w.waits_on != nullptr && w.kind != wait_kind::none;
    label_ref waited;
    if (blocked) {
      waited = label_ref::of(*w.waits_on);
      if (s->extra.wait_seq.load(std::memory_order_acquire) != w.seq) continue;  // it moved on: skip it
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
  }
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

std::string lock_order_dot_text(const lock_order_snapshot& s) {
  dot_builder dot("lockgraph: lock-order graph");
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
    std::string attrs;
    if (e.in_cycle || e.rejected) attrs = "color=red, fontcolor=red, penwidth=2";
    const char* style = e.from_try ? "dotted" : (e.to_shared || e.from_shared) ? "dashed" : nullptr;
    if (style != nullptr) attrs += std::string(attrs.empty() ? "" : ", ") + "style=" + style;
    dot.add_edge(ids[e.from], ids[e.to], label, attrs);
  }
  return std::move(dot).finish();
}

std::vector<report> quiescence_problems(runtime& r) {
  std::vector<std::pair<report, std::string>> found;
  for (thread_slot* s = first_slot(); s != nullptr; s = s->next.load(std::memory_order_acquire)) {
    if (!s->extra.in_use.load(std::memory_order_acquire)) continue;
    if (s->rec.depth.load(std::memory_order_acquire) == 0) continue;
    std::vector<held_lock> holds = held_locks(&s->rec);
    if (holds.empty()) continue;
    std::string key;
    report rep = unreleased_report(describe(*s), std::move(holds), "at check_quiescent()", {}, &key);
    found.emplace_back(std::move(rep), std::move(key));
  }
  for (const orphan& o : orphans()) {
    std::string key;
    report rep = unreleased_report(o.holder, {o.held}, "after it exited (at check_quiescent())", {}, &key);
    found.emplace_back(std::move(rep), std::move(key));
  }
  const std::int64_t now = steady_now_ns();
  for (const waiting_thread& w : waiting_threads()) {
    report rep;
    std::string key;
    if (!long_wait_report(w, now, &rep, &key)) continue;
    rep.summary += " (at check_quiescent())";
    found.emplace_back(std::move(rep), std::move(key));
  }
  std::vector<report> out;
  for (auto& [rep, key] : found) {
    out.push_back(rep);
    r.sink.raise(std::move(rep), key);
  }
  return out;
}

// ---- dump_signal ------------------------------------------------------------------------------------
namespace {

int g_dump_pipe[2] = {-1, -1};

void on_dump_signal(int) {
  const int saved = errno;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(g_dump_pipe[1], &byte, 1);  // async-signal-safe
  errno = saved;
}

void dump_now(runtime& r) {
  const std::int64_t now = steady_now_ns();
  std::vector<std::pair<report, std::string>> blocked;
  for (const waiting_thread& w : waiting_threads()) {
    report rep;
    std::string key;
    if (!long_wait_report(w, now, &rep, &key)) continue;
    rep.summary += " (at signal " + std::to_string(r.opts.dump_signal) + ")";
    blocked.emplace_back(std::move(rep), std::move(key));
  }
  // The graph file first: whoever reacts to the reports (a gate about to kill the process) finds it.
  std::string where = "stderr";
  const std::string dot = wait_for_dot_text();
  static int dumps = 0;
  if (!r.opts.report_dir.empty() && r.sink.make_report_dir()) {
    const std::string path = r.opts.report_dir + "/lockgraph-" + std::to_string(::getpid()) + "-waitfor-" +
                             std::to_string(++dumps) + ".dot";
    const std::string tmp = path + ".tmp";
    if (std::FILE* f = std::fopen(tmp.c_str(), "we")) {
      const bool ok = std::fwrite(dot.data(), 1, dot.size(), f) == dot.size();
      if (std::fclose(f) == 0 && ok && std::rename(tmp.c_str(), path.c_str()) == 0) where = path;
    }
  }
  std::string line = "lockgraph: signal " + std::to_string(r.opts.dump_signal) + ": " +
                     std::to_string(blocked.size()) + " thread(s) blocked; wait-for graph: " + where + "\n";
  if (where == "stderr") line += dot;
  r.sink.print(line);
  for (auto& [rep, key] : blocked) r.sink.raise(std::move(rep), key);
}

void dumper(runtime* r) {
  for (;;) {
    char byte;
    const ssize_t n = ::read(g_dump_pipe[0], &byte, 1);
    if (n == 1) dump_now(*r);
    else if (n < 0 && errno != EINTR) return;
  }
}

}  // namespace

void start_signal_dumper(runtime& r) {
  if (::pipe2(g_dump_pipe, O_CLOEXEC) != 0) return;
  struct sigaction sa {};
  sa.sa_handler = &on_dump_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(r.opts.dump_signal, &sa, nullptr) != 0) {
    std::fprintf(stderr, "lockgraph: dump_signal=%d: cannot install a handler for that signal\n", r.opts.dump_signal);
    return;
  }
  std::thread(dumper, &r).detach();
}

}  // namespace lockgraph::detail

// ---- public functions ---------------------------------------------------------------------------------
namespace lockgraph {

std::string lock_order_dot() { return detail::lock_order_dot_text(detail::rt().graph.snapshot()); }
std::string wait_for_dot() {
  detail::rt();
  return detail::wait_for_dot_text();
}
std::vector<report> check_quiescent() { return detail::quiescence_problems(detail::rt()); }

}  // namespace lockgraph
