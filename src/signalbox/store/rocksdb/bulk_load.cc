#include "signalbox/store/rocksdb/bulk_load.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>

#include "signalbox/common/error.h"
#include "signalbox/store/rocksdb/check_status.h"

namespace signalbox {

namespace {

namespace fs = std::filesystem;

// Makes the entries of `folder` (files created, linked or removed in it) durable.
void sync_folder(const fs::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw StorageError(fmt::format("cannot open {}: {}", folder.string(),
                                   std::error_code(errno, std::generic_category()).message()));
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0)
    throw StorageError(fmt::format("cannot sync {}: {}", folder.string(),
                                   std::error_code(error, std::generic_category()).message()));
}

// The batch number and family of a file named "<batch>.<family>.sst", or batch 0.
std::pair<std::uint64_t, std::string> parse_file_name(const std::string& name) {
  std::uint64_t batch = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), batch);
  const std::string_view rest(end, static_cast<std::size_t>(name.data() + name.size() - end));
  if (error != std::errc() || !rest.starts_with('.') || !rest.ends_with(".sst")) return {0, ""};
  return {batch, std::string(rest.substr(1, rest.size() - 5))};
}

// Every key of table file `path`.
std::vector<std::string> keys_of(const fs::path& path) {
  rocksdb::SstFileReader reader{rocksdb::Options()};
  std::vector<std::string> keys;
  // A file cut short by a crash does not open: it was never ingested (ingestion needs it whole).
  if (!reader.Open(path.string()).ok()) return keys;
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  check_rocksdb(it->status(), fmt::format("read bulk-loaded file {}", path.string()));
  return keys;
}

}  // namespace

fs::path bulk_load_folder(const fs::path& store_path) { return store_path / "bulk"; }

BulkLoad::TableWriter::TableWriter(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                                   fs::path path)
    : family_(family), path_(std::move(path)) {
  rocksdb::Options options(db.GetDBOptions(), db.GetOptions(family));
  // SstFileWriter takes the last level's compression when there is one per level.
  options.compression_per_level.clear();
  options.compression = rocksdb::kNoCompression;
  writer_ = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), options, family);
  check_rocksdb(writer_->Open(path_.string()), fmt::format("create {}", path_.string()));
}

BulkLoad::TableWriter::~TableWriter() = default;

void BulkLoad::TableWriter::put(std::string_view key, std::string_view value) {
  check_rocksdb(writer_->Put(rocksdb::Slice(key.data(), key.size()),
                             rocksdb::Slice(value.data(), value.size())),
                fmt::format("write {}", path_.string()));
  ++keys_;
}

BulkLoad::File BulkLoad::TableWriter::finish() {
  if (keys_ == 0) {
    // SstFileWriter refuses to finish a file without keys; nothing of it is on disk to keep.
    writer_.reset();
    std::error_code ignored;
    fs::remove(path_, ignored);
    return File{family_, {}};
  }
  // Finish writes the footer and syncs the file.
  check_rocksdb(writer_->Finish(), fmt::format("finish {}", path_.string()));
  return File{family_, path_};
}

BulkLoad::BulkLoad(fs::path folder, std::uint64_t committed)
    : folder_(std::move(folder)), committed_(committed) {
  std::error_code ec;
  fs::create_directories(folder_, ec);
  if (ec) throw StorageError(fmt::format("cannot create {}: {}", folder_.string(), ec.message()));
}

fs::path BulkLoad::file_path(std::uint64_t batch, std::string_view family_name) const {
  return folder_ / fmt::format("{}.{}.sst", batch, family_name);
}

void BulkLoad::ingest(rocksdb::DB& db, std::span<const File> files) const {
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (const File& file : files) {
    if (file.path.empty()) continue;
    // RocksDB moves what it ingests (a hard link into the database's folder, then the name
    // given to it removed): it gets a second name, so that the first stays for recover().
    fs::path moved = file.path;
    moved += ".ingest";
    std::error_code ec;
    fs::remove(moved, ec);
    fs::create_hard_link(file.path, moved, ec);
    if (ec) throw StorageError(fmt::format("cannot link {}: {}", file.path.string(), ec.message()));
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = file.family;
    arg.external_files = {moved.string()};
    arg.options.move_files = true;
    // A copy would not share the name recover() knows an interrupted ingestion by.
    arg.options.failed_move_fall_back_to_copy = false;
    // The file's sequence number is kept in the MANIFEST, not written into the file.
    arg.options.write_global_seqno = false;
    args.push_back(std::move(arg));
  }
  if (args.empty()) return;
  sync_folder(folder_);
  check_rocksdb(db.IngestExternalFiles(args), "ingest bulk-loaded files");
}

void BulkLoad::committed(std::uint64_t batch, std::span<const File> files) {
  committed_ = batch;
  for (const File& file : files) {
    if (file.path.empty()) continue;
    // A file left behind (a failed removal, or a crash before it) goes at the next open: its
    // batch is committed.
    std::error_code ignored;
    fs::remove(file.path, ignored);
  }
}

std::set<std::pair<dev_t, ino_t>> BulkLoad::recover(const fs::path& folder, std::uint64_t committed,
                                                    const RemoveKeys& remove_keys) {
  std::set<std::pair<dev_t, ino_t>> identities;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return identities;
  std::vector<fs::path> entries;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, ec))
    entries.push_back(entry.path());
  if (ec) throw StorageError(fmt::format("cannot list {}: {}", folder.string(), ec.message()));
  for (const fs::path& path : entries) {
    struct stat status {};
    if (::stat(path.c_str(), &status) == 0) identities.emplace(status.st_dev, status.st_ino);
    const auto [batch, family] = parse_file_name(path.filename().string());
    if (batch > committed) remove_keys(family, keys_of(path));
  }
  for (const fs::path& path : entries) {
    fs::remove(path, ec);
    if (ec) throw StorageError(fmt::format("cannot remove {}: {}", path.string(), ec.message()));
  }
  if (!entries.empty()) sync_folder(folder);
  return identities;
}

}  // namespace signalbox
