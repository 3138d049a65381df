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
// The test in which a report is raised is the one running when the detector raised it: an inversion
// is reported by the acquisition that closes the cycle, i.e. by the test that introduced it.
#ifndef LOCKGRAPH_GTEST_HPP
#define LOCKGRAPH_GTEST_HPP

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <string>

#include "lockgraph/check.hpp"
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
  explicit gtest_listener(gtest_options options = {}) : options_(options) {}

  void OnTestStart(const ::testing::TestInfo& info) override {
    seen_ = reports().size();
    detail::set_gtest_test_name(info.test_suite_name(), info.name());  // for edge_log=DIR
  }

  // Listeners' OnTestEnd runs before GoogleTest prints the result, so a failure added here shows.
  void OnTestEnd(const ::testing::TestInfo&) override {
    const std::vector<report> all = reports();
    if (options_.fail_on_report) {
      for (std::size_t i = seen_; i < all.size(); ++i) {
        ADD_FAILURE() << "lockgraph raised a report during this test: " << all[i].summary << files_of(all[i]);
      }
    }
    if (options_.check_quiescent) {
      for (const report& r : check_quiescent()) {
        ADD_FAILURE() << "lockgraph: not quiescent at the end of this test: " << r.summary << files_of(r);
      }
    }
    seen_ = reports().size();
    detail::set_gtest_test_name(nullptr, nullptr);
  }

 private:
  static std::string files_of(const report& r) {
    std::string s;
    for (const auto& f : r.files) s += (s.empty() ? " (files: " : ", ") + f;
    return s.empty() ? s : s + ")";
  }

  gtest_options options_;
  std::size_t seen_ = 0;
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
