#include "signalbox/store/rocksdb/holding_file_system.h"

#include <utility>

namespace signalbox {

void HoldingFileSystem::hold(bool on) {
  MutexLock lock(mutex_);
  holding_ = on;
}

std::vector<std::string> HoldingFileSystem::take_held() {
  MutexLock lock(mutex_);
  return std::exchange(held_, {});
}

rocksdb::IOStatus HoldingFileSystem::DeleteFile(const std::string& name,
                                                const rocksdb::IOOptions& options,
                                                rocksdb::IODebugContext* debug) {
  {
    MutexLock lock(mutex_);
    if (holding_ && name.size() > 4 && name.compare(name.size() - 4, 4, ".sst") == 0) {
      held_.push_back(name);
      return rocksdb::IOStatus::OK();
    }
  }
  return target()->DeleteFile(name, options, debug);
}

}  // namespace signalbox
