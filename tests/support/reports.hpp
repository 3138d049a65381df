// tests/support/reports.hpp: helpers that turn lockgraph reports into strings, so expectations read
// at a glance (in the spirit of Abseil's Path(2, 9) == "2 4 8 16 9").
//
// report_watch remembers how many reports existed when it was created, so a test only looks at the
// reports it raised itself. (ctest runs every test in its own process, where the list starts empty;
// running the whole binary in one process still works with these helpers.)
#ifndef LOCKGRAPH_TESTS_SUPPORT_REPORTS_HPP
#define LOCKGRAPH_TESTS_SUPPORT_REPORTS_HPP

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "lockgraph/report.hpp"

namespace lgtest {

// "a => b => c => a" (the report's cycle, in the order the report gives it).
inline std::string cycle_of(const lockgraph::report& r) {
  std::string s;
  for (const auto& l : r.locks) s += l + " => ";
  return s + (r.locks.empty() ? "" : r.locks.front());
}

// The cycle rotated so that its smallest label comes first, as "a => b => c => a". Two reports of
// the same cycle compare equal whichever lock the detector started from; the order is kept.
inline std::string canonical_cycle(const lockgraph::report& r) {
  if (r.locks.empty()) return "";
  std::vector<std::string> locks = r.locks;
  std::rotate(locks.begin(), std::min_element(locks.begin(), locks.end()), locks.end());
  lockgraph::report copy;
  copy.locks = locks;
  return cycle_of(copy);
}

// The cycle rotated so that it starts at `first` (unchanged if `first` is not in it).
inline std::vector<std::string> cycle_from(const lockgraph::report& r, const std::string& first) {
  std::vector<std::string> locks = r.locks;
  const auto it = std::find(locks.begin(), locks.end(), first);
  if (it != locks.end()) std::rotate(locks.begin(), it, locks.end());
  return locks;
}

// "lock_order_inversion self_deadlock" (kinds in order, space-separated).
inline std::string kinds_of(const std::vector<lockgraph::report>& reps) {
  std::string s;
  for (const auto& r : reps) s += (s.empty() ? "" : " ") + std::string(lockgraph::to_string(r.kind));
  return s;
}

// Labels of r.held, comma-separated: "a, b(shared), c(try)".
inline std::string held_of(const lockgraph::report& r) {
  std::string s;
  for (const auto& h : r.held) {
    s += (s.empty() ? "" : ", ") + h.lock;
    if (h.shared) s += "(shared)";
    if (h.try_acquired) s += "(try)";
  }
  return s;
}

// Reports raised since this object was created. With instance_scope_only, cycles of lock classes
// ("scope": "class") are left out: for tests of the per-lock graph whose named locks die and come back
// under the same names (their classes, and the class graph's order, outlive them, as in lockdep).
class report_watch {
 public:
  explicit report_watch(bool instance_scope_only = false)
      : base_(lockgraph::reports().size()), instance_scope_only_(instance_scope_only) {}
  std::vector<lockgraph::report> fresh() const {
    std::vector<lockgraph::report> all = lockgraph::reports();
    all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(std::min(base_, all.size())));
    if (instance_scope_only_) std::erase_if(all, [](const lockgraph::report& r) { return r.scope == "class"; });
    return all;
  }
  std::size_t count() const { return fresh().size(); }
  std::string kinds() const { return kinds_of(fresh()); }

 private:
  std::size_t base_;
  bool instance_scope_only_;
};

}  // namespace lgtest

#endif  // LOCKGRAPH_TESTS_SUPPORT_REPORTS_HPP
