// lockgraph/detail/config.hpp: build switches and attribute macros shared by every public header.
#ifndef LOCKGRAPH_DETAIL_CONFIG_HPP
#define LOCKGRAPH_DETAIL_CONFIG_HPP

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
