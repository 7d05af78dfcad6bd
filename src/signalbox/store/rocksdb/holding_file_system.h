#pragma once

#include <string>
#include <vector>

#include <rocksdb/file_system.h>

#include "signalbox/common/mutex.h"

namespace signalbox {

// A RocksDB FileSystem that, while holding, keeps the table files (*.sst) RocksDB deletes and
// lists them instead. DB::Open deletes every table file its MANIFEST does not list; holding
// during the open lets the store check them first: orphans of a flush or compaction that a
// crash interrupted (their data is stored elsewhere) may go, but a table file holding data the
// store does not have means a damaged MANIFEST, and must be kept. Thread-safe.
class HoldingFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  using rocksdb::FileSystemWrapper::FileSystemWrapper;

  const char* Name() const override { return "signalbox.HoldingFileSystem"; }

  // Starts or stops holding deletions of table files.
  void hold(bool on);
  // The table files whose deletion was held since the last call.
  std::vector<std::string> take_held();

  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override;

 private:
  Mutex mutex_;
  bool holding_ = false;
  std::vector<std::string> held_ SIGNALBOX_GUARDED_BY(mutex_);
};

}  // namespace signalbox
