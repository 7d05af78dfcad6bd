#pragma once

#include <stdexcept>
#include <string>

namespace signalbox {

// A problem with the user's configuration: the CLI exits with status 2. The message names the
// file, line and key where it can.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A request the service cannot answer as asked (unknown signal, bad user id, an as_of the
// online state cannot answer exactly). HTTP answers 400 with the message.
class QueryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Stored bytes that do not decode: a corrupt store or a format from an incompatible version.
class CorruptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The storage backend failed (I/O error, lock held by another process, server unreachable).
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace signalbox
