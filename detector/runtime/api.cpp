// api.cpp: the public functions of lockgraph/{report,options,graphviz,check}.hpp and set_thread_name().
// Each one only reaches into the runtime; none holds state of its own.
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "graph/lock_order_dot.hpp"
#include "lockgraph/check.hpp"
#include "lockgraph/graphviz.hpp"
#include "lockgraph/options.hpp"
#include "lockgraph/report.hpp"
#include "runtime/quiescence.hpp"
#include "runtime/runtime.hpp"
#include "threads/wait_for_dot.hpp"

// Weak: a program's own definition replaces this one (see lockgraph/options.hpp).
extern "C" __attribute__((weak)) const char* lockgraph_default_options() { return nullptr; }
extern "C" __attribute__((weak)) const char* lockgraph_default_suppressions() { return nullptr; }

namespace lockgraph {

bool enabled() noexcept { return detail::rt().opts.enabled; }

std::vector<report> reports() {
  detail::runtime* r = detail::rt_if_created();
  return r != nullptr ? r->sink.all() : std::vector<report>{};
}

report_handler set_report_handler(report_handler handler) {
  return detail::rt().sink.set_handler(std::move(handler));
}

void set_thread_name(std::string_view name) noexcept {
  detail::thread_slot* s = detail::current_slot();
  if (s == nullptr) return;
  std::lock_guard<std::mutex> g(s->extra.name_mu);
  s->extra.name.assign(name.substr(0, 63));
}

// Past kDotMaxEdges the whole-graph DOT shows the reported cycles and their neighbourhood, and says how
// much it left out: a graph of millions of edges is not readable, and Graphviz cannot lay it out.
std::string lock_order_dot() {
  constexpr std::size_t kDotMaxEdges = 2000;
  return detail::lock_order_dot_text(detail::rt().graph.snapshot(kDotMaxEdges));
}

std::string wait_for_dot() {
  detail::rt();
  return detail::wait_for_dot_text();
}

std::vector<report> check_quiescent() { return detail::quiescence_problems(detail::rt()); }

}  // namespace lockgraph
