#pragma once

// Clang's thread-safety analysis attributes (-Wthread-safety), as macros that vanish under
// other compilers. A member written `SIGNALBOX_GUARDED_BY(mutex_)` may only be touched with mutex_
// held, a function marked `SIGNALBOX_REQUIRES(mutex_)` only called with it held; clang checks both
// at compile time. The clang build of CI (scripts/configure-asan.sh) turns violations into errors.
// https://clang.llvm.org/docs/ThreadSafetyAnalysis.html describes each attribute.

#if defined(__clang__)
#define SIGNALBOX_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SIGNALBOX_THREAD_ANNOTATION(x)
#endif

#define SIGNALBOX_CAPABILITY(x) SIGNALBOX_THREAD_ANNOTATION(capability(x))
#define SIGNALBOX_SCOPED_CAPABILITY SIGNALBOX_THREAD_ANNOTATION(scoped_lockable)
#define SIGNALBOX_GUARDED_BY(x) SIGNALBOX_THREAD_ANNOTATION(guarded_by(x))
#define SIGNALBOX_PT_GUARDED_BY(x) SIGNALBOX_THREAD_ANNOTATION(pt_guarded_by(x))
#define SIGNALBOX_REQUIRES(...) SIGNALBOX_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define SIGNALBOX_REQUIRES_SHARED(...) \
  SIGNALBOX_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define SIGNALBOX_ACQUIRE(...) SIGNALBOX_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define SIGNALBOX_ACQUIRE_SHARED(...) \
  SIGNALBOX_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define SIGNALBOX_RELEASE(...) SIGNALBOX_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define SIGNALBOX_RELEASE_SHARED(...) \
  SIGNALBOX_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define SIGNALBOX_RELEASE_GENERIC(...) \
  SIGNALBOX_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define SIGNALBOX_TRY_ACQUIRE(...) SIGNALBOX_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define SIGNALBOX_EXCLUDES(...) SIGNALBOX_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define SIGNALBOX_NO_THREAD_SAFETY_ANALYSIS SIGNALBOX_THREAD_ANNOTATION(no_thread_safety_analysis)
