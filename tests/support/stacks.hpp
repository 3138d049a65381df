// tests/support/stacks.hpp: what this build's stack backend can show (LOCKGRAPH_STACKTRACE, see
// README.md "Stack traces"), for tests that check symbolized stacks.
//
//   LGTEST_REQUIRE_INLINE_FRAMES();  // first statement of a TEST: skipped unless the backend is libdw
//   LGTEST_REQUIRE_SOURCE_LINES();   // skipped unless it prints file:line (libdw or boost)
#ifndef LOCKGRAPH_TESTS_SUPPORT_STACKS_HPP
#define LOCKGRAPH_TESTS_SUPPORT_STACKS_HPP

#include <gtest/gtest.h>

#include <string_view>

#ifndef LOCKGRAPH_TEST_STACKTRACE
#error "LOCKGRAPH_TEST_STACKTRACE (the stack backend CMake chose) is set by tests/CMakeLists.txt"
#endif

namespace lgtest {
inline constexpr std::string_view kStackBackend = LOCKGRAPH_TEST_STACKTRACE;
}  // namespace lgtest

#define LGTEST_REQUIRE_INLINE_FRAMES()                                                                   \
  if (::lgtest::kStackBackend != "libdw")                                                                \
  GTEST_SKIP() << "needs inlined frames with file:line (LOCKGRAPH_STACKTRACE=libdw); this build uses " \
               << ::lgtest::kStackBackend

#define LGTEST_REQUIRE_SOURCE_LINES()                                                                  \
  if (::lgtest::kStackBackend != "libdw" && ::lgtest::kStackBackend != "boost")                        \
  GTEST_SKIP() << "needs file:line in stacks (LOCKGRAPH_STACKTRACE=libdw or boost); this build uses " \
               << ::lgtest::kStackBackend

#endif  // LOCKGRAPH_TESTS_SUPPORT_STACKS_HPP
