// quiescence.cpp: see quiescence.hpp.
#include "runtime/quiescence.hpp"

#include <string>

#include "report/fingerprint.hpp"
#include "threads/misuse.hpp"
#include "threads/wait_for_graph.hpp"
#include "threads/watchdog.hpp"

namespace lockgraph::detail {

std::vector<report> quiescence_problems(runtime& r) {
  std::vector<problem> found = locks_held_now("at check_quiescent()");
  for (const orphan& o : orphans()) {
    found.push_back(unreleased_problem(o.holder, {o.held}, "after it exited (at check_quiescent())", {}));
  }
  const std::int64_t now = steady_now_ns();
  for (const waiting_thread& w : waiting_threads()) {
    problem p;
    if (!long_wait_problem(w, now, &p)) continue;
    p.when = "at check_quiescent()";
    found.push_back(std::move(p));
  }
  std::vector<report> out;
  for (const problem& p : found) {
    report built = build_report(p);
    built.fingerprint = fingerprint_of(built);
    // A suppressed problem is not raised (raise() counts its rule's hit) and not returned either.
    if (!r.sink.suppressed(built)) out.push_back(std::move(built));
    r.sink.raise(p);
  }
  return out;
}

}  // namespace lockgraph::detail
