#pragma once

// Thread-safety annotations: which mutex guards a member, which locks a function needs or takes.
// Under Clang they expand to its thread-safety attributes, and Clang builds check them at compile
// time with -Wthread-safety (CMakeLists.txt adds the flag for Clang). Under other compilers (GCC,
// which builds the presets) they expand to nothing and only document the locking.
//
// The checks need the mutex to be declared a capability; libstdc++'s std::mutex is not, so
// annotated members are guarded by cairn::Mutex (base/mutex.h). Reference:
// https://clang.llvm.org/docs/ThreadSafetyAnalysis.html

#if defined(__clang__)
#define CAIRN_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CAIRN_THREAD_ANNOTATION(x)
#endif

// On a class: instances are a capability (a lock), named `x` in diagnostics.
#define CAPABILITY(x) CAIRN_THREAD_ANNOTATION(capability(x))
// On an RAII class that acquires a capability in its constructor and releases it in its
// destructor.
#define SCOPED_CAPABILITY CAIRN_THREAD_ANNOTATION(scoped_lockable)

// On a member: reading or writing it requires holding `x`.
#define GUARDED_BY(x) CAIRN_THREAD_ANNOTATION(guarded_by(x))
// On a pointer member: the pointer may be used freely, the pointee only while holding `x`.
#define PT_GUARDED_BY(x) CAIRN_THREAD_ANNOTATION(pt_guarded_by(x))

// On a mutex member: it must be acquired after (before) the listed mutexes.
#define ACQUIRED_AFTER(...) CAIRN_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) CAIRN_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))

// On a function: callers must hold (must not hold) the listed capabilities.
#define REQUIRES(...) CAIRN_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) CAIRN_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) CAIRN_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// On a function: it acquires (releases) the listed capabilities, or `this` when none is listed.
#define ACQUIRE(...) CAIRN_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) CAIRN_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) CAIRN_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) CAIRN_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
// On a function returning bool: it acquires the capability when it returns `result`.
#define TRY_ACQUIRE(...) CAIRN_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))

// On a function: it aborts unless the capability is held, so the analysis may assume it is.
#define ASSERT_CAPABILITY(x) CAIRN_THREAD_ANNOTATION(assert_capability(x))
// On a function: it returns a reference to the capability `x`.
#define RETURN_CAPABILITY(x) CAIRN_THREAD_ANNOTATION(lock_returned(x))

// On a function: skip the analysis of its body. Say why next to each use.
#define NO_THREAD_SAFETY_ANALYSIS CAIRN_THREAD_ANNOTATION(no_thread_safety_analysis)
