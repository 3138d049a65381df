// order_check.cpp: see order_check.hpp. The declaration itself (parsing, verdicts, the
// file's format) is graph/declared_order's, the same the runtime checks lock_order=FILE with.
#include "merge/order_check.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>

#include "base/read_file.hpp"
#include "graph/declared_order.hpp"
#include "report/fingerprint.hpp"
#include "report/problem.hpp"
#include "report/report_sink.hpp"

namespace lockgraph::detail {

int write_order_declaration(const suite_graph& g, const std::string& path) {
  std::set<std::pair<std::string, std::string>> pairs;  // shared bits do not matter to a declaration
  for (const suite_graph::edge& e : g.edges()) {
    if (e.from != e.to) pairs.emplace(e.from, e.to);
  }
  const std::string header =
      "The lock order lockgraph-merge observed over " + std::to_string(g.process_count()) + " processes (" +
      std::to_string(g.class_count()) + " classes, " + std::to_string(pairs.size()) +
      " orders).\nEdit it into the order you mean (globs, chains, 'level N:' lines), then check runs with\n"
      "lock_order=FILE or lockgraph-merge --check-order FILE.";
  const std::string text = declared_order::format({pairs.begin(), pairs.end()}, header);
  if (const int err = write_atomically(path, text); err != 0) {
    std::fprintf(stderr, "lockgraph-merge: --write-order %s: cannot write (%s)\n", path.c_str(), std::strerror(err));
    return 2;
  }
  return 0;
}

int check_order_declaration(const suite_graph& g, const std::string& path, declared_order& order,
                            std::vector<report>* violations) {
  std::string text;
  if (const int err = read_whole_file(path, &text); err != 0) {
    std::fprintf(stderr, "lockgraph-merge: --check-order %s: cannot read (%s)\n", path.c_str(), std::strerror(err));
    return 2;
  }
  if (const std::string error = order.parse(text, path); !error.empty()) {
    std::fprintf(stderr, "lockgraph-merge: %s\n", error.c_str());
    return 2;
  }
  std::set<std::pair<std::string, std::string>> said;  // one report per pair of classes
  for (const suite_graph::edge& e : g.edges()) {
    if (e.from == e.to || !said.emplace(e.from, e.to).second) continue;
    const declared_order::result v = order.check(e.from, e.to, /*strict=*/false);
    if (v.v != declared_order::verdict::contradicts) continue;
    problem p;
    p.kind = report_kind::lock_order_inversion;
    p.declared = true;
    p.declaration = v.rules;
    p.locks = {e.from, e.to};
    lock_edge& le = p.edges.emplace_back();
    le.from = e.from;
    le.to = e.to;
    le.from_shared = e.from_shared;
    le.to_shared = e.to_shared;
    le.thread = {e.first->thread, e.first->thread_name};
    le.seen_in = g.seen_in(e);
    le.site = e.first->site;
    le.frames = e.first->stack;
    report r = build_report(p);
    r.scope = "suite";
    r.fingerprint = fingerprint_of(r);
    violations->push_back(std::move(r));
  }
  return 0;
}

}  // namespace lockgraph::detail
