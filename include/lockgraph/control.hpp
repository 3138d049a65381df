// lockgraph/control.hpp: steering the detector from code and tests.
//
//   lockgraph::forget(mu);                 // mu's node and edges leave the graph (Abseil's ForgetDeadlockInfo)
//   { lockgraph::ignore_scope safe; ... }  // this thread's acquisitions here add no lock-order edges
//   lockgraph::reset();                    // test fixtures: no edges, no reports, as at start
//   {
//     lockgraph::expect_report expected(lockgraph::report_kind::lock_order_inversion, "accounts");
//     ... code that inverts on purpose ...
//   }                                      // fails here if no such report came; swallows it if it did
//
// Everything here is thread-safe. Built with LOCKGRAPH_DISABLED=1 every function does nothing and an
// expect_report never fails (nothing is detected, so nothing can be expected).
#ifndef LOCKGRAPH_CONTROL_HPP
#define LOCKGRAPH_CONTROL_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lockgraph/detail/config.hpp"
#include "lockgraph/report.hpp"
#if !LOCKGRAPH_DISABLED
#include "lockgraph/detail/lock_meta.hpp"
#endif

namespace lockgraph {

#if !LOCKGRAPH_DISABLED

namespace detail {
void forget_lock(lock_meta& m) noexcept;
// The members of the lockgraph lock types that the free functions below need (friend of each type).
struct lock_access {
  template <class Lock>
  static lock_meta& meta(Lock& l) noexcept {
    return l.lockgraph_meta();
  }
};
void begin_ignore() noexcept;
void end_ignore() noexcept;
std::uint64_t begin_expectation(report_kind kind, std::string_view lock_substring, site where);
// Ends it; true if it was met. Its caught reports go to *caught.
bool end_expectation(std::uint64_t id, std::vector<report>* caught);
std::vector<report> expectation_caught(std::uint64_t id);
// The sequence number the next report raised will carry (report::sequence): GoogleTest's listener
// attributes reports to tests by it.
std::uint64_t next_report_sequence() noexcept;
// Where an unmet expectation goes (GoogleTest's listener installs ADD_FAILURE_AT); nullptr: one line
// on stderr (or log_path), counted for exitcode like a report. Returns the previous handler.
using expectation_failure_handler = void (*)(const char* file, int line, const std::string& message);
expectation_failure_handler set_expectation_failure_handler(expectation_failure_handler h) noexcept;
}  // namespace detail

// Forgets everything lockgraph learned about `lock` (any lockgraph lock type, a lock_annotation, or a
// lockgraph::tbb mutex): its node and every lock-order edge into or out of it leave the graph, as if
// it had been destroyed, and reported cycles through it are forgotten (so they are checked afresh). The
// lock keeps working and gets a new node when it is next nested with another. Order that went through
// it while a thread held both its neighbours is kept (a -> lock -> c, taken as a held stack, leaves
// a -> c), as when a lock is destroyed. The calling thread's own holds of `lock` move to its new node;
// another thread that holds it right now records no edges out of it until it releases it.
template <class Lock>
void forget(Lock& lock) noexcept {
  detail::forget_lock(detail::lock_access::meta(lock));
}

// Forgets every lock-order edge and every report so far, for test fixtures: reports() is empty again,
// a problem reported before is reported again when it recurs, and new orders are learnt afresh. Locks
// keep their nodes; locks held right now stay held (their unlocks, and nesting under them, work as
// before). Not undone: the exit status (a report raised before still makes exitcode=N apply: use
// expect_report for reports raised on purpose) and report files already written.
void reset() noexcept;

// While one lives, the calling thread's blocking acquisitions add no lock-order edges and so raise no
// lock_order_inversion: for code known to be safe by a rule lockgraph cannot see (an order proved by
// other means, a lock taken during single-threaded start-up). Nests; applies to the constructing
// thread only, and must be destroyed on that thread.
// Still checked inside: self_deadlock, deadlock (a circular wait that is happening), bad_unlock,
// unreleased_lock, long_wait, assertions. The held stack is kept as usual, so a lock taken inside and
// released after (or the reverse) works, and locks taken after the scope ends while one taken inside
// is still held get their edges from it. Not recorded: the order through a lock taken inside the scope
// (held [a] outside, b inside, c after the scope: b -> c is recorded, a -> c is not).
class ignore_scope {
 public:
  ignore_scope() noexcept { detail::begin_ignore(); }
  ~ignore_scope() { detail::end_ignore(); }
  ignore_scope(const ignore_scope&) = delete;
  ignore_scope& operator=(const ignore_scope&) = delete;
};

// A scoped expectation that a report of `kind` is raised (on any thread) while this object lives, and,
// with `lock_substring`, that one of the report's lock labels contains it. For tests of a program's own
// lock discipline: a test that builds an inversion on purpose, a misuse, a long wait.
//  - Every matching report raised while it lives is swallowed: not printed, no files, not in reports(),
//    not handed to the report handler, not counted for exitcode, the gate or the GoogleTest listener;
//    caught() returns them. The sink does not remember it as seen either: the same problem raised again
//    later, outside any expectation, is reported (a cycle is not raised again while it lives: the graph
//    keeps its closing edge, until reset() or forget() clears it).
//  - Destroyed without having caught one, it fails: under GoogleTest (lockgraph/gtest.hpp's listener or
//    lockgraph::gtest_main) as a test failure at the expectation's line; otherwise as one line
//    "lockgraph: expect_report(<kind>, "<substring>") at file:line: no such report was raised while it
//    lived" on stderr (or log_path), counted for exitcode=N like a report.
//  - Reports that end the process are never swallowed: deadlock, self_deadlock and all_threads_blocked
//    while abort_on_deadlock=1 (the default), and any report with halt_on_report=1 still stops it.
//  - With checking off (enabled=0) or compiled out, it neither swallows nor fails.
// Several may live at once (nested, or on several threads): a report goes to every one it matches.
class expect_report {
 public:
  explicit expect_report(report_kind kind, std::string_view lock_substring = {},
                         detail::site where = detail::site::current())
      : id_(detail::begin_expectation(kind, lock_substring, where)) {}
  ~expect_report() { end(); }
  expect_report(const expect_report&) = delete;
  expect_report& operator=(const expect_report&) = delete;

  // The matching reports caught so far (after end(): all of them).
  std::vector<report> caught() const { return ended_ ? caught_ : detail::expectation_caught(id_); }
  // True once a matching report was caught.
  bool met() const { return !caught().empty() || (ended_ && met_); }
  // Ends the expectation now (the destructor does nothing more): fails as above if unmet. Returns met().
  bool end() {
    if (!ended_) {
      ended_ = true;
      met_ = detail::end_expectation(id_, &caught_);
    }
    return met_;
  }

 private:
  std::uint64_t id_;
  bool ended_ = false;
  bool met_ = false;
  std::vector<report> caught_;
};

#else  // LOCKGRAPH_DISABLED

template <class Lock>
void forget(Lock&) noexcept {}
inline void reset() noexcept {}
class ignore_scope {
 public:
  ignore_scope() noexcept {}
  ~ignore_scope() {}
  ignore_scope(const ignore_scope&) = delete;
  ignore_scope& operator=(const ignore_scope&) = delete;
};
class expect_report {
 public:
  explicit expect_report(report_kind, std::string_view = {}) {}
  expect_report(const expect_report&) = delete;
  expect_report& operator=(const expect_report&) = delete;
  std::vector<report> caught() const { return {}; }
  bool met() const { return true; }
  bool end() { return true; }
};

#endif

}  // namespace lockgraph

#endif  // LOCKGRAPH_CONTROL_HPP
