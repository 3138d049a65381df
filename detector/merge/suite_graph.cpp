// suite_graph.cpp: see suite_graph.hpp.
#include "merge/suite_graph.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <unordered_set>

#include "base/read_file.hpp"
#include "graph/cycle_detector.hpp"
#include "report/dot_writer.hpp"
#include "report/fingerprint.hpp"
#include "report/problem.hpp"

namespace lockgraph::detail {
namespace {

namespace fs = std::filesystem;

bool read_file(const std::string& path, std::string* text, std::string* error) {
  if (const int err = read_whole_file(path, text); err != 0) {
    *error = path + ": cannot read (" + std::strerror(err) + ")";
    return false;
  }
  return true;
}

std::string edge_key_of(const logged_edge& e) {
  std::string k;
  k.reserve(e.from.size() + e.to.size() + 4);
  k += e.from;
  k += '\0';
  k += e.to;
  k += '\0';
  k += e.from_shared ? 's' : 'x';
  k += e.to_shared ? 's' : 'x';
  return k;
}

std::string shorten(std::string s, std::size_t max) {
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

}  // namespace

bool read_suite_logs(const std::vector<std::string>& paths, std::vector<suite_log>* out, std::string* error) {
  for (const std::string& path : paths) {
    std::error_code ec;
    std::vector<std::string> files;
    if (fs::is_directory(path, ec)) {
      for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        if (p.extension() == ".jsonl" && it->is_regular_file(ec)) files.push_back(p.string());
      }
      if (ec) {
        *error = path + ": cannot list directory (" + ec.message() + ")";
        return false;
      }
      std::sort(files.begin(), files.end());
    } else if (fs::exists(path, ec)) {
      files.push_back(path);
    } else {
      *error = path + ": no such file or directory";
      return false;
    }
    for (const std::string& file : files) {
      std::string text;
      if (!read_file(file, &text, error)) return false;
      suite_log log;
      log.path = file;
      if (std::string e = parse_edge_log(text, log.log); !e.empty()) {
        *error = file + ":" + e;
        return false;
      }
      out->push_back(std::move(log));
    }
  }
  return true;
}

void suite_graph::add(const std::vector<suite_log>& logs) {
  logs_ = &logs;
  for (std::size_t li = 0; li < logs.size(); ++li) {
    for (const logged_edge& le : logs[li].log.edges) {
      auto [it, fresh] = index_.try_emplace(edge_key_of(le), edges_.size());
      if (fresh) {
        edge e;
        e.from = le.from;
        e.to = le.to;
        e.from_shared = le.from_shared;
        e.to_shared = le.to_shared;
        e.log = li;
        e.first = &le;
        edges_.push_back(std::move(e));
        classes_.try_emplace(le.from, static_cast<std::uint32_t>(classes_.size()));
        classes_.try_emplace(le.to, static_cast<std::uint32_t>(classes_.size()));
      }
      std::vector<std::uint32_t>& in = edges_[it->second].logs;
      if (in.empty() || in.back() != li) in.push_back(static_cast<std::uint32_t>(li));
    }
  }
}

std::vector<const suite_graph::edge*> suite_graph::same_class_edges() const {
  std::vector<const edge*> out;
  for (const edge& e : edges_) {
    if (e.from == e.to) out.push_back(&e);
  }
  return out;
}

std::size_t suite_graph::process_count() const {
  if (logs_ == nullptr) return 0;
  std::set<std::pair<long, std::string>> seen;  // a forked child's log has its own pid
  for (const suite_log& l : *logs_) seen.emplace(l.log.pid, l.log.command);
  return seen.size();
}

std::string suite_graph::seen_in(const edge& e) const {
  const edge_log& log = (*logs_)[e.log].log;
  std::string s;
  if (e.first != nullptr && !e.first->test.empty()) s = "test " + e.first->test + ", ";
  s += "pid " + std::to_string(log.pid);
  if (!log.command.empty()) s += ": " + shorten(log.command, 80);
  return s;
}

std::vector<report> suite_graph::check(bool across_processes_only) {
  std::vector<report> out;
  if (logs_ == nullptr) return out;
  // Nodes: N for every class, R for every class some edge enters in shared mode.
  const std::size_t n_classes = classes_.size();
  std::vector<bool> entered_shared(n_classes, false);
  for (const edge& e : edges_) {
    if (e.to_shared) entered_shared[classes_.at(e.to)] = true;
  }
  cycle_detector cd;
  std::vector<cycle_detector::node_id> node_n(n_classes), node_r(n_classes, 0);
  std::unordered_map<cycle_detector::node_id, std::uint32_t> class_of;
  for (std::uint32_t c = 0; c < n_classes; ++c) {
    node_n[c] = cd.new_node();
    class_of[node_n[c]] = c;
    if (entered_shared[c]) {
      node_r[c] = cd.new_node();
      class_of[node_r[c]] = c;
    }
  }
  // The first class edge behind each detector edge, to name a cycle's edges.
  std::unordered_map<std::uint64_t, std::size_t> edge_of;
  auto pair_key = [](cycle_detector::node_id a, cycle_detector::node_id b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  };
  std::unordered_set<std::string> reported;
  for (std::size_t i = 0; i < edges_.size(); ++i) {
    const edge& e = edges_[i];
    if (e.from == e.to) continue;  // same-class nesting: listed apart
    const std::uint32_t from = classes_.at(e.from);
    const std::uint32_t to = classes_.at(e.to);
    const cycle_detector::node_id target = e.to_shared && node_r[to] != 0 ? node_r[to] : node_n[to];
    cycle_detector::node_id sources[2] = {node_n[from], 0};
    if (!e.from_shared) sources[1] = node_r[from];
    for (const cycle_detector::node_id src : sources) {
      if (src == 0) continue;
      if (cd.insert_edge(src, target)) {
        edge_of.try_emplace(pair_key(src, target), i);
        continue;
      }
      // Refused: the detector's path target -> ... -> src, closed by this edge, is the cycle.
      const std::vector<cycle_detector::node_id> path = cd.find_path(target, src);
      std::vector<std::size_t> cycle = {i};
      for (std::size_t k = 0; k + 1 < path.size(); ++k) cycle.push_back(edge_of.at(pair_key(path[k], path[k + 1])));
      std::vector<std::string> classes;
      for (std::size_t c : cycle) classes.push_back(edges_[c].from);
      std::vector<std::string> sorted = classes;
      std::sort(sorted.begin(), sorted.end());
      std::string key;
      for (const std::string& c : sorted) key += c + '\0';
      if (reported.count(key) != 0) break;
      if (across_processes_only) {
        // Logs that hold every edge of the cycle: one is enough for that process to have seen it all.
        std::vector<std::uint32_t> common = edges_[cycle[0]].logs;
        for (std::size_t k = 1; k < cycle.size() && !common.empty(); ++k) {
          const std::vector<std::uint32_t>& other = edges_[cycle[k]].logs;
          std::vector<std::uint32_t> both;
          std::set_intersection(common.begin(), common.end(), other.begin(), other.end(), std::back_inserter(both));
          common = std::move(both);
        }
        if (!common.empty()) break;
      }
      reported.insert(key);
      problem p;
      p.kind = report_kind::lock_order_inversion;
      p.locks = classes;
      for (std::size_t c : cycle) {
        edge& ce = edges_[c];
        ce.in_cycle = true;
        lock_edge le;
        le.from = ce.from;
        le.to = ce.to;
        le.from_shared = ce.from_shared;
        le.to_shared = ce.to_shared;
        le.thread = {ce.first->thread, ce.first->thread_name};
        le.seen_in = seen_in(ce);
        le.site = ce.first->site;
        le.frames = ce.first->stack;
        p.edges.push_back(std::move(le));
        p.edge_ids.push_back({classes_.at(ce.from), classes_.at(ce.to), ce.from_shared, ce.to_shared});
      }
      report r = build_report(p);
      r.scope = "suite";
      static constexpr std::string_view kPrefix = "lock-order inversion: ";
      if (r.summary.rfind(kPrefix, 0) == 0) {
        r.summary = "lock-order inversion across the suite: " + r.summary.substr(kPrefix.size());
      }
      r.fingerprint = fingerprint_of(r);  // classes only: the edges' stacks are text (a baseline can hold it)
      r.sequence = out.size() + 1;
      out.push_back(std::move(r));
      break;  // one report per refused class edge
    }
  }
  return out;
}

std::string suite_graph::to_dot(const declared_order* order) const {
  std::size_t cycles = 0;
  std::size_t allowed = 0;
  std::size_t against = 0;
  std::vector<declared_order::result> verdicts(edges_.size());
  for (std::size_t i = 0; i < edges_.size(); ++i) {
    const edge& e = edges_[i];
    cycles += e.in_cycle ? 1 : 0;
    if (order == nullptr || e.from == e.to) continue;
    verdicts[i] = order->check(e.from, e.to, /*strict=*/false);
    allowed += verdicts[i].v == declared_order::verdict::allowed ? 1 : 0;
    against += verdicts[i].v == declared_order::verdict::contradicts ? 1 : 0;
  }
  std::string title = "lockgraph: the suite's lock-order graph (" + std::to_string(classes_.size()) + " classes, " +
                      std::to_string(edges_.size()) + " edges, " + std::to_string(cycles) + " on cycles";
  if (order != nullptr) {
    title += "; declared order: " + std::to_string(allowed) + " edges declared (green), " + std::to_string(against) +
             " against it (blue)";
  }
  dot_builder dot(title + ")");
  std::vector<std::string> names(classes_.size());
  for (const auto& [name, id] : classes_) names[id] = name;
  for (std::size_t c = 0; c < names.size(); ++c) dot.add_node("c" + std::to_string(c), names[c], "shape=box");
  for (std::size_t i = 0; i < edges_.size(); ++i) {
    const edge& e = edges_[i];
    std::string label;
    if (e.first != nullptr && !e.first->site.empty()) label = e.first->site + "\n";
    label += seen_in(e);
    if (e.from_shared || e.to_shared) label += std::string("\n") + (e.from_shared ? "shared" : "exclusive") + " -> " +
                                               (e.to_shared ? "shared" : "exclusive");
    std::string attrs;
    if (e.in_cycle) {
      attrs = "color=red, fontcolor=red, penwidth=2";
    } else if (e.from == e.to) {
      attrs = "style=dashed, color=gray40";
      label = "same class\n" + label;
    }
    if (verdicts[i].v == declared_order::verdict::contradicts) {
      attrs = "color=blue, fontcolor=blue, penwidth=2";
      std::string rules;
      for (const std::string& r : verdicts[i].rules) rules += "\n" + r;
      label = "against the declared order" + rules + "\n" + label;
    } else if (verdicts[i].v == declared_order::verdict::allowed && !e.in_cycle) {
      attrs = "color=darkgreen";
      label = "declared\n" + label;
    }
    dot.add_edge("c" + std::to_string(classes_.at(e.from)), "c" + std::to_string(classes_.at(e.to)), label, attrs);
  }
  return std::move(dot).finish();
}

}  // namespace lockgraph::detail
