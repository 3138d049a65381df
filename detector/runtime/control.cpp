// control.cpp: the public functions of lockgraph/control.hpp: forget(), reset(), ignore_scope and
// expect_report. Each reaches into the runtime's parts; the only state here is the list of live
// expectations and the calling thread's ignore depth.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "lockgraph/control.hpp"
#include "runtime/runtime.hpp"

namespace lockgraph::detail {
namespace {

thread_local std::uint32_t t_ignore_depth = 0;

struct expectation {
  std::uint64_t id = 0;
  report_kind kind = report_kind::lock_order_inversion;
  std::string lock_substring;
  site where{};
  std::vector<report> caught;
};

// The live expectations. A plain std::mutex (never a lockgraph one), taken only by expect_report's
// constructor and destructor and by the sink's claim on every report raised while one lives.
struct expectations {
  std::mutex mu;
  std::vector<expectation> live;
  std::uint64_t next_id = 1;
};
expectations& registry() {
  static expectations* const e = new expectations();  // never destroyed: reports may come at exit
  return *e;
}

std::atomic<expectation_failure_handler> g_failure_handler{nullptr};

bool matches(const expectation& e, const report& r) {
  if (e.kind != r.kind) return false;
  if (e.lock_substring.empty()) return true;
  return std::any_of(r.locks.begin(), r.locks.end(),
                     [&](const std::string& l) { return l.find(e.lock_substring) != std::string::npos; });
}

// The sink's claim function: hands a report to every live expectation it matches. Reports that end the
// process are left alone, so they are printed before it ends.
bool claim(const report& r) {
  runtime* rt_now = rt_if_created();
  if (rt_now != nullptr && rt_now->opts.abort_on_deadlock &&
      (r.kind == report_kind::deadlock || r.kind == report_kind::self_deadlock ||
       r.kind == report_kind::all_threads_blocked)) {
    return false;
  }
  if (rt_now != nullptr && rt_now->opts.halt_on_report) return false;
  expectations& e = registry();
  std::lock_guard<std::mutex> g(e.mu);
  bool claimed = false;
  for (expectation& x : e.live) {
    if (!matches(x, r)) continue;
    x.caught.push_back(r);
    claimed = true;
  }
  return claimed;
}

std::string describe(const expectation& x) {
  std::string s = std::string("expect_report(") + to_string(x.kind);
  if (!x.lock_substring.empty()) s += ", \"" + x.lock_substring + "\"";
  s += ") at ";
  s += x.where.file != nullptr ? x.where.file : "?";
  s += ":" + std::to_string(x.where.line);
  return s;
}

}  // namespace

bool order_ignored() noexcept { return t_ignore_depth != 0; }

void begin_ignore() noexcept { ++t_ignore_depth; }
void end_ignore() noexcept {
  if (t_ignore_depth > 0) --t_ignore_depth;
}

void forget_lock(lock_meta& m) noexcept {
  runtime& r = rt();
  if (!r.opts.enabled) return;
  forget_in_own_stack(m);
  // Its class's order goes too (else a named lock's class would keep what forget() dropped).
  if (const std::uint64_t node = r.graph.forget(m); node != 0) r.classes.forget_class_of(node);
}

std::uint64_t begin_expectation(report_kind kind, std::string_view lock_substring, site where) {
  runtime& r = rt();
  if (!r.opts.enabled) return 0;  // nothing is detected, so nothing is expected
  r.sink.set_claim(&claim);
  expectations& e = registry();
  std::lock_guard<std::mutex> g(e.mu);
  expectation x;
  x.id = e.next_id++;
  x.kind = kind;
  x.lock_substring = std::string(lock_substring);
  x.where = where;
  e.live.push_back(std::move(x));
  return e.live.back().id;
}

std::vector<report> expectation_caught(std::uint64_t id) {
  expectations& e = registry();
  std::lock_guard<std::mutex> g(e.mu);
  for (const expectation& x : e.live) {
    if (x.id == id) return x.caught;
  }
  return {};
}

bool end_expectation(std::uint64_t id, std::vector<report>* caught) {
  if (id == 0) return true;
  expectation x;
  {
    expectations& e = registry();
    std::lock_guard<std::mutex> g(e.mu);
    const auto it = std::find_if(e.live.begin(), e.live.end(), [id](const expectation& l) { return l.id == id; });
    if (it == e.live.end()) return true;
    x = std::move(*it);
    e.live.erase(it);
  }
  const bool met = !x.caught.empty();
  if (caught != nullptr) *caught = std::move(x.caught);
  if (met) return true;
  const std::string message = describe(x) + ": no such report was raised while it lived";
  if (const expectation_failure_handler h = g_failure_handler.load(std::memory_order_acquire); h != nullptr) {
    h(x.where.file != nullptr ? x.where.file : "?", static_cast<int>(x.where.line), message);
    return false;
  }
  runtime& r = rt();
  r.sink.print("lockgraph: " + message + "\n");
  r.sink.note_problem();
  return false;
}

std::uint64_t next_report_sequence() noexcept {
  runtime* r = rt_if_created();
  return r != nullptr ? r->sink.next_sequence() : 1;
}

expectation_failure_handler set_expectation_failure_handler(expectation_failure_handler h) noexcept {
  return g_failure_handler.exchange(h, std::memory_order_acq_rel);
}

}  // namespace lockgraph::detail

namespace lockgraph {

void reset() noexcept {
  detail::runtime& r = detail::rt();
  r.graph.forget_edges();
  r.classes.forget_edges();
  r.sink.forget_reports();
}

}  // namespace lockgraph
