#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signalbox {

// One input file of a replay as it was when the replay read it: a file changed since (another
// size or modification time) is another input.
struct ReplayFile {
  std::string path;  // absolute
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;

  friend bool operator==(const ReplayFile&, const ReplayFile&) = default;
};

// What a replay reads, and so the order of its records: the files in the order given, and
// whether they were taken as presorted (read as given) or checked and sorted when needed.
// The same inputs give the same record order (the sort is by ts, file index, line number).
struct ReplayInputs {
  bool presorted = false;
  bool from_stdin = false;  // standard input is among the files: never the same input twice
  std::vector<ReplayFile> files;

  friend bool operator==(const ReplayInputs&, const ReplayInputs&) = default;
  // "3 files (a.ndjson, b.ndjson, ...)", for messages.
  std::string describe() const;
};

// Reads the identity of `files` ("-" for standard input). Throws std::runtime_error naming a
// file that cannot be read.
ReplayInputs identify_inputs(const std::vector<std::string>& files, bool presorted);

// Where a replay stands: its first `records` records in replay order (non-blank lines, in ts
// order when sorted) are stored. Kept in the store as the note kReplayCheckpointNote while a
// replay runs; a replay that finishes deletes it, so one found at start means a replay was
// interrupted.
struct ReplayCheckpoint {
  ReplayInputs inputs;
  std::uint64_t records = 0;

  std::string encode() const;
  // Throws std::runtime_error when `text` is not an encoded checkpoint.
  static ReplayCheckpoint decode(std::string_view text);
};

inline constexpr char kReplayCheckpointNote[] = "replay_checkpoint";

}  // namespace signalbox
