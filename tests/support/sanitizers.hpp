// tests/support/sanitizers.hpp: which sanitizer this test binary is built with, for GCC and clang alike.
// GCC defines __SANITIZE_THREAD__ / __SANITIZE_ADDRESS__; clang 14 defines neither and answers
// __has_feature(thread_sanitizer) / __has_feature(address_sanitizer) instead.
//
//   #if LGTEST_TSAN ... #endif   LGTEST_TSAN, LGTEST_ASAN: 1 or 0
#ifndef LOCKGRAPH_TESTS_SUPPORT_SANITIZERS_HPP
#define LOCKGRAPH_TESTS_SUPPORT_SANITIZERS_HPP

#if defined(__has_feature)
#define LGTEST_HAS_FEATURE(x) __has_feature(x)
#else
#define LGTEST_HAS_FEATURE(x) 0
#endif

#if defined(__SANITIZE_THREAD__) || LGTEST_HAS_FEATURE(thread_sanitizer)
#define LGTEST_TSAN 1
#else
#define LGTEST_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__) || LGTEST_HAS_FEATURE(address_sanitizer)
#define LGTEST_ASAN 1
#else
#define LGTEST_ASAN 0
#endif

#endif  // LOCKGRAPH_TESTS_SUPPORT_SANITIZERS_HPP
