// lockgraph/thread_annotations.hpp: Clang Thread Safety Analysis attributes, LOCKGRAPH_-prefixed.
//
// The attributes are clang's standard ones, so code that already uses its own GUARDED_BY (Abseil's,
// Chromium's, LLVM's or a hand-written one) keeps working with lockgraph types: every lockgraph lock is a
// capability ("mutex") and its lock/try_lock/unlock members are annotated. These macros are for code
// that has none of its own:
//
//   lockgraph::mutex mu;
//   int balance LOCKGRAPH_GUARDED_BY(mu);
//   void deposit(int n) LOCKGRAPH_EXCLUDES(mu) { lockgraph::mutex_lock l(mu); balance += n; }
//
// Build with clang and -Wthread-safety to have them checked. On other compilers they expand to nothing.
// See https://clang.llvm.org/docs/ThreadSafetyAnalysis.html for their meaning.
#ifndef LOCKGRAPH_THREAD_ANNOTATIONS_HPP
#define LOCKGRAPH_THREAD_ANNOTATIONS_HPP

#if defined(__clang__) && defined(__has_attribute)
#if __has_attribute(capability) && __has_attribute(assert_capability) && __has_attribute(release_generic_capability)
#define LOCKGRAPH_THREAD_ANNOTATION_(x) __attribute__((x))
#endif
#endif
#ifndef LOCKGRAPH_THREAD_ANNOTATION_
#define LOCKGRAPH_THREAD_ANNOTATION_(x)
#endif

// On a class: its objects are capabilities; `x` names the kind in diagnostics ("mutex").
#define LOCKGRAPH_CAPABILITY(x) LOCKGRAPH_THREAD_ANNOTATION_(capability(x))
// On a class: an RAII object that acquires in its constructor and releases in its destructor.
#define LOCKGRAPH_SCOPED_CAPABILITY LOCKGRAPH_THREAD_ANNOTATION_(scoped_lockable)

// On data: reading needs `x` held (shared or exclusive), writing needs it exclusive.
#define LOCKGRAPH_GUARDED_BY(x) LOCKGRAPH_THREAD_ANNOTATION_(guarded_by(x))
// On a pointer: the pointed-to data is guarded by `x` (the pointer itself is not).
#define LOCKGRAPH_PT_GUARDED_BY(x) LOCKGRAPH_THREAD_ANNOTATION_(pt_guarded_by(x))
// On a lock: a declared order (checked only with -Wthread-safety-beta; lockgraph checks the real one).
#define LOCKGRAPH_ACQUIRED_BEFORE(...) LOCKGRAPH_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define LOCKGRAPH_ACQUIRED_AFTER(...) LOCKGRAPH_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))

// On functions: the caller must hold the capabilities (exclusive / at least shared).
#define LOCKGRAPH_REQUIRES(...) LOCKGRAPH_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define LOCKGRAPH_REQUIRES_SHARED(...) LOCKGRAPH_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
// The function acquires / releases the capabilities (none named: `this`).
#define LOCKGRAPH_ACQUIRE(...) LOCKGRAPH_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define LOCKGRAPH_ACQUIRE_SHARED(...) LOCKGRAPH_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
#define LOCKGRAPH_RELEASE(...) LOCKGRAPH_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define LOCKGRAPH_RELEASE_SHARED(...) LOCKGRAPH_THREAD_ANNOTATION_(release_shared_capability(__VA_ARGS__))
#define LOCKGRAPH_RELEASE_GENERIC(...) LOCKGRAPH_THREAD_ANNOTATION_(release_generic_capability(__VA_ARGS__))
// The function acquires when it returns the first argument (true), e.g. LOCKGRAPH_TRY_ACQUIRE(true).
#define LOCKGRAPH_TRY_ACQUIRE(...) LOCKGRAPH_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
#define LOCKGRAPH_TRY_ACQUIRE_SHARED(...) LOCKGRAPH_THREAD_ANNOTATION_(try_acquire_shared_capability(__VA_ARGS__))
// The caller must not hold the capabilities (the function takes them itself).
#define LOCKGRAPH_EXCLUDES(...) LOCKGRAPH_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
// After the call the analysis assumes the capability is held (the function checks it at run time).
#define LOCKGRAPH_ASSERT_CAPABILITY(x) LOCKGRAPH_THREAD_ANNOTATION_(assert_capability(x))
#define LOCKGRAPH_ASSERT_SHARED_CAPABILITY(x) LOCKGRAPH_THREAD_ANNOTATION_(assert_shared_capability(x))
// The function returns a reference to the capability `x`.
#define LOCKGRAPH_RETURN_CAPABILITY(x) LOCKGRAPH_THREAD_ANNOTATION_(lock_returned(x))
// Turns the analysis off inside one function body.
#define LOCKGRAPH_NO_THREAD_SAFETY_ANALYSIS LOCKGRAPH_THREAD_ANNOTATION_(no_thread_safety_analysis)

#endif  // LOCKGRAPH_THREAD_ANNOTATIONS_HPP
