#pragma once

// std::mutex and std::shared_mutex with clang's thread-safety attributes, so that members can
// be declared SIGNALBOX_GUARDED_BY them and the lock rules are checked at compile time
// (common/thread_annotations.h); libstdc++'s own mutexes carry no attributes. Same semantics
// and cost as the std types they wrap. Lock them with MutexLock / ReaderLock / WriterLock;
// wait on them with std::condition_variable_any (both are BasicLockable).

#include <mutex>
#include <shared_mutex>

#include "signalbox/common/thread_annotations.h"

namespace signalbox {

class SIGNALBOX_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() SIGNALBOX_ACQUIRE() { mutex_.lock(); }
  void unlock() SIGNALBOX_RELEASE() { mutex_.unlock(); }
  bool try_lock() SIGNALBOX_TRY_ACQUIRE(true) { return mutex_.try_lock(); }

 private:
  std::mutex mutex_;
};

class SIGNALBOX_CAPABILITY("shared mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void lock() SIGNALBOX_ACQUIRE() { mutex_.lock(); }
  void unlock() SIGNALBOX_RELEASE() { mutex_.unlock(); }
  void lock_shared() SIGNALBOX_ACQUIRE_SHARED() { mutex_.lock_shared(); }
  void unlock_shared() SIGNALBOX_RELEASE_SHARED() { mutex_.unlock_shared(); }

 private:
  std::shared_mutex mutex_;
};

// Holds `mutex` from construction to destruction.
class SIGNALBOX_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) SIGNALBOX_ACQUIRE(mutex) : mutex_(mutex) { mutex_.lock(); }
  ~MutexLock() SIGNALBOX_RELEASE() { mutex_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mutex_;
};

// Holds `mutex` exclusively from construction to destruction.
class SIGNALBOX_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mutex) SIGNALBOX_ACQUIRE(mutex) : mutex_(mutex) {
    mutex_.lock();
  }
  ~WriterLock() SIGNALBOX_RELEASE() { mutex_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mutex_;
};

// Holds `mutex` shared from construction to destruction.
class SIGNALBOX_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mutex) SIGNALBOX_ACQUIRE_SHARED(mutex) : mutex_(mutex) {
    mutex_.lock_shared();
  }
  ~ReaderLock() SIGNALBOX_RELEASE() { mutex_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mutex_;
};

}  // namespace signalbox
