// lockgraph/detail/config.hpp: build switches and attribute macros shared by every public header.
#ifndef LOCKGRAPH_DETAIL_CONFIG_HPP
#define LOCKGRAPH_DETAIL_CONFIG_HPP

// The public headers need C++17 (MSVC reports its language level in _MSVC_LANG; __cplusplus stays
// 199711L there unless /Zc:__cplusplus). Below that, one clear error and nothing after it: the include
// of a file that does not exist is fatal on every compiler, so no cascade of errors follows.
#if defined(_MSVC_LANG)
#define LOCKGRAPH_DETAIL_CPLUSPLUS _MSVC_LANG
#else
#define LOCKGRAPH_DETAIL_CPLUSPLUS __cplusplus
#endif
#if LOCKGRAPH_DETAIL_CPLUSPLUS < 201703L
#error "lockgraph needs C++17 or later: compile with -std=c++17 (MSVC: /std:c++17) or newer"
#include "lockgraph/detail/(compilation stopped: lockgraph needs C++17, see the error above)"
#endif

// LOCKGRAPH_DISABLED=1 (set by the CMake option LOCKGRAPH_DISABLE) turns every lockgraph type into
// its std:: twin: no detector code is compiled into the caller and none is linked.
#ifndef LOCKGRAPH_DISABLED
#define LOCKGRAPH_DISABLED 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define LOCKGRAPH_PREDICT_TRUE(x) (__builtin_expect(!!(x), 1))
#define LOCKGRAPH_PREDICT_FALSE(x) (__builtin_expect(!!(x), 0))
#define LOCKGRAPH_ALWAYS_INLINE inline __attribute__((always_inline))
#define LOCKGRAPH_NOINLINE __attribute__((noinline))
#define LOCKGRAPH_COLD __attribute__((cold, noinline))
#else
#define LOCKGRAPH_PREDICT_TRUE(x) (x)
#define LOCKGRAPH_PREDICT_FALSE(x) (x)
#define LOCKGRAPH_ALWAYS_INLINE inline
#define LOCKGRAPH_NOINLINE
#define LOCKGRAPH_COLD
#endif

// Construction-site labels for unnamed locks. __builtin_FILE/__builtin_LINE work as default
// arguments in C++17 with GCC and Clang, where std::source_location may be missing.
#if defined(__GNUC__) || defined(__clang__)
#define LOCKGRAPH_CALLER_FILE __builtin_FILE()
#define LOCKGRAPH_CALLER_LINE __builtin_LINE()
#else
#define LOCKGRAPH_CALLER_FILE "?"
#define LOCKGRAPH_CALLER_LINE 0
#endif

#endif  // LOCKGRAPH_DETAIL_CONFIG_HPP
