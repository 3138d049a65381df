// lockgraph/gtest.hpp: GoogleTest integration. Including this header in any file of a test program
// installs a listener that fails the test during which lockgraph raised a report, naming the report
// (and its files with report_dir); link lockgraph::gtest_main instead of GTest::gtest_main to get the
// same with no include at all.
//
//   #include <lockgraph/gtest.hpp>
//
// With LOCKGRAPH_GTEST_QUIESCENT=1 in the environment, the listener also calls check_quiescent() at the
// end of each test and fails a test that ends with a lock held or a thread blocked.
// Define LOCKGRAPH_GTEST_NO_AUTO_INSTALL to install it yourself with install_gtest_listener().
// Which test is blamed:
//  - A report is blamed on the test during which it was raised (by its sequence number, so
//    lockgraph::reset() and reports swallowed by lockgraph::expect_report do not shift the count): an
//    inversion is reported by the acquisition that closes the cycle, i.e. by the test that introduced
//    it. A report raised between tests (a thread left running, a static destructor) fails no test; it
//    is printed, and counts for exitcode, as always.
//  - A quiescence problem (a lock left held, a thread left blocked) fails the test at whose end it is
//    first found, not every later test while it persists; once gone, it is blamed again if it recurs.
//  - An unmet lockgraph::expect_report fails the running test at the expectation's line.
#ifndef LOCKGRAPH_GTEST_HPP
#define LOCKGRAPH_GTEST_HPP

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>

#include "lockgraph/check.hpp"
#include "lockgraph/control.hpp"
#include "lockgraph/report.hpp"

namespace lockgraph {
namespace detail {
// Names the running test ("Suite.Name") in the edge log's first sightings (edge_log=DIR); nullptrs
// between tests.
#if !LOCKGRAPH_DISABLED
void set_gtest_test_name(const char* suite, const char* name) noexcept;
#else
inline void set_gtest_test_name(const char*, const char*) noexcept {}
#endif
}  // namespace detail

struct gtest_options {
  bool fail_on_report = true;  // a report raised during a test fails it
  // check_quiescent() at each test's end; problems fail the test. Default: LOCKGRAPH_GTEST_QUIESCENT=1.
  bool check_quiescent = quiescent_from_environment();

  static bool quiescent_from_environment() {
    const char* v = std::getenv("LOCKGRAPH_GTEST_QUIESCENT");
    return v != nullptr && std::string(v) == "1";
  }
};

class gtest_listener : public ::testing::EmptyTestEventListener {
 public:
  explicit gtest_listener(gtest_options options = {}) : options_(options) {
#if !LOCKGRAPH_DISABLED
    detail::set_expectation_failure_handler(&expectation_failed);
#endif
  }

  void OnTestStart(const ::testing::TestInfo& info) override {
    first_ = next_sequence();
    detail::set_gtest_test_name(info.test_suite_name(), info.name());  // for edge_log=DIR
  }

  // Listeners' OnTestEnd runs before GoogleTest prints the result, so a failure added here shows.
  void OnTestEnd(const ::testing::TestInfo&) override {
    const std::uint64_t end = next_sequence();
    if (options_.fail_on_report) {
      for (const report& r : reports()) {
        if (r.sequence < first_ || r.sequence >= end) continue;
        ADD_FAILURE() << "lockgraph raised a report during this test: " << r.summary << files_of(r);
      }
    }
    if (options_.check_quiescent) {
      std::set<std::string> now;
      for (const report& r : check_quiescent()) {
        now.insert(r.summary);
        if (blamed_.count(r.summary) != 0) continue;  // an earlier test's leak, blamed there
        ADD_FAILURE() << "lockgraph: not quiescent at the end of this test: " << r.summary << files_of(r);
      }
      blamed_ = std::move(now);
    }
    detail::set_gtest_test_name(nullptr, nullptr);
  }

 private:
  static std::string files_of(const report& r) {
    std::string s;
    for (const auto& f : r.files) s += (s.empty() ? " (files: " : ", ") + f;
    return s.empty() ? s : s + ")";
  }
  static std::uint64_t next_sequence() {
#if !LOCKGRAPH_DISABLED
    return detail::next_report_sequence();
#else
    return 0;
#endif
  }
  static void expectation_failed(const char* file, int line, const std::string& message) {
    ADD_FAILURE_AT(file, line) << "lockgraph: " << message;
  }

  gtest_options options_;
  std::uint64_t first_ = 0;
  std::set<std::string> blamed_;  // quiescence problems found at the last test's end
};

// Appends a gtest_listener to GoogleTest's listeners (GoogleTest owns it). Call before RUN_ALL_TESTS.
inline void install_gtest_listener(gtest_options options = {}) {
  ::testing::UnitTest::GetInstance()->listeners().Append(new gtest_listener(options));
}

#ifndef LOCKGRAPH_GTEST_NO_AUTO_INSTALL
namespace detail {
// One listener per program however many files include this header (an inline variable has one
// instance), installed during static initialization, before main() calls RUN_ALL_TESTS.
inline const bool gtest_listener_installed = [] {
  install_gtest_listener();
  return true;
}();
}  // namespace detail
#endif

}  // namespace lockgraph

#endif  // LOCKGRAPH_GTEST_HPP
