// The Signalbox C++ client: ingest events and read typed signals from a `signalbox serve` over
// gRPC (docs/grpc.md). Link the CMake target `signalbox_client`.
//
//   signalbox::Client client("127.0.0.1:9090");
//   signalbox::UserSignals user = client.get_signals(42, {"top_categories_7d"});
//   for (const auto& entry : user.find("top_categories_7d")->value.ranked()) ...
//
// Errors are thrown as signalbox::RpcError, carrying the gRPC status code and the server's
// message.

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace signalbox {

// gRPC status codes, by their standard numbers.
enum class StatusCode {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "INVALID_ARGUMENT" and so on.
const char* status_code_name(StatusCode code);

// A call that did not succeed: what() is "<CODE>: <server's message>"; message() is the
// server's message alone, which for INVALID_ARGUMENT starts with the parameter at fault.
class RpcError : public std::runtime_error {
 public:
  RpcError(StatusCode code, std::string message);
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_;
  std::string message_;
};

// One event to ingest: the fields of docs/events.md. The server validates it with the same
// rules as a JSON event; leave user_id, ts or action unset only to see the server reject it.
struct ClientEvent {
  std::optional<std::uint64_t> user_id;
  std::optional<std::int64_t> ts;  // milliseconds since the Unix epoch
  std::optional<std::string> action;
  std::optional<std::string> event_id;
  std::optional<std::string> item_id;
  std::optional<std::string> query;
  std::map<std::string, std::variant<std::string, double>> attrs;
};

// What became of the events of one ingest() call. Indexes count from 0 over all the events
// passed to that call, whatever the batching.
struct IngestSummary {
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  std::size_t duplicates = 0;
  // (index, message) of rejected events; the server lists at most 100 per request.
  std::vector<std::pair<std::size_t, std::string>> errors;
};

// One entry of a last_k list or last_session view.
struct RecentValue {
  std::string value;
  std::int64_t ts = 0;
  friend bool operator==(const RecentValue&, const RecentValue&) = default;
};

// One entry of a top_k view.
struct RankedEntry {
  std::string key;
  double value = 0;
  friend bool operator==(const RankedEntry&, const RankedEntry&) = default;
};

// One field of one sequence entry: absent (monostate), the ts, a number, a string, a strings
// feature or a vector feature.
using SequenceField = std::variant<std::monostate, std::int64_t, double, std::string,
                                   std::vector<std::string>, std::vector<float>>;

// A sequence signal: the newest events first, each with one value per field (in the order
// of `fields`, as written in the config).
struct Sequence {
  std::vector<std::string> fields;
  std::vector<std::vector<SequenceField>> entries;
  friend bool operator==(const Sequence&, const Sequence&) = default;
};

// A bucketize view's label.
struct Label {
  std::string text;
  friend bool operator==(const Label&, const Label&) = default;
};

// A custom aggregator's or view's result that has none of the typed shapes: its JSON text.
struct JsonText {
  std::string text;
  friend bool operator==(const JsonText&, const JsonText&) = default;
};

// One result of one signal window or view. A plain value type.
class SignalValue {
 public:
  // monostate: null (a mean over no events).
  using Data =
      std::variant<std::monostate, double, std::map<std::string, double>, std::vector<RecentValue>,
                   std::vector<RankedEntry>, std::vector<double>, JsonText, Sequence, Label>;

  SignalValue() = default;
  explicit SignalValue(Data data) : data_(std::move(data)) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(data_); }
  bool is_number() const { return std::holds_alternative<double>(data_); }
  bool is_map() const { return std::holds_alternative<std::map<std::string, double>>(data_); }
  bool is_recent() const { return std::holds_alternative<std::vector<RecentValue>>(data_); }
  bool is_ranked() const { return std::holds_alternative<std::vector<RankedEntry>>(data_); }
  bool is_vector() const { return std::holds_alternative<std::vector<double>>(data_); }
  bool is_json() const { return std::holds_alternative<JsonText>(data_); }
  bool is_sequence() const { return std::holds_alternative<Sequence>(data_); }
  bool is_label() const { return std::holds_alternative<Label>(data_); }

  // Each accessor requires the matching is_...(); otherwise it throws std::bad_variant_access.
  double number() const { return std::get<double>(data_); }
  const std::map<std::string, double>& map() const {
    return std::get<std::map<std::string, double>>(data_);
  }
  const std::vector<RecentValue>& recent() const {
    return std::get<std::vector<RecentValue>>(data_);
  }
  const std::vector<RankedEntry>& ranked() const {
    return std::get<std::vector<RankedEntry>>(data_);
  }
  const std::vector<double>& vector() const { return std::get<std::vector<double>>(data_); }
  const std::string& json() const { return std::get<JsonText>(data_).text; }
  const Sequence& sequence() const { return std::get<Sequence>(data_); }
  const std::string& label() const { return std::get<Label>(data_).text; }
  const Data& data() const { return data_; }

  friend bool operator==(const SignalValue&, const SignalValue&) = default;

 private:
  Data data_;
};

// One signal or view of one user: a signal with windows has one value per window (in config
// order) in `windows`; any other has its one value in `value`.
struct SignalResult {
  std::string name;
  bool windowed = false;
  SignalValue value;
  std::vector<std::pair<std::string, SignalValue>> windows;

  // The value of `window` ("7d", as written in the config), or nullptr.
  const SignalValue* window(const std::string& window) const;
};

// One user's signals as of one time.
struct UserSignals {
  std::uint64_t user_id = 0;
  std::int64_t as_of = 0;
  // Whether the store holds any event or state of the user, at any time: false tells a user
  // never seen (or whose data has all expired) from one without activity in the windows.
  // Absent when the server does not report it.
  std::optional<bool> seen;
  std::vector<SignalResult> signals;  // in the order asked for (config order when all)

  // The signal or view named `name`, or nullptr.
  const SignalResult* find(const std::string& name) const;
};

// A configured signal or view, as ListSignals describes it.
struct SignalInfo {
  std::string name;
  std::string aggregator;
  std::string group_by;
  std::string value;
  std::vector<std::pair<std::string, double>> actions;
  std::vector<std::string> windows;
  std::map<std::string, std::string> params;
};

struct ViewInfo {
  std::string name;
  std::string signal;
  std::string window;
  std::string transform;
  std::map<std::string, std::string> params;
};

struct SignalCatalog {
  std::vector<SignalInfo> signals;
  std::vector<ViewInfo> views;
};

struct ClientOptions {
  // Deadline of each call unless the call gives its own; zero: no deadline.
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  // get_signals() for many users sends BatchGetSignals calls of at most this many users (the
  // server refuses more than its limit, 1000 by default).
  std::size_t max_users_per_call = 500;
  // ingest() sends IngestEvents calls of at most this many events.
  std::size_t max_events_per_call = 1000;
  // Largest message accepted from the server.
  std::size_t max_receive_bytes = 64 * 1024 * 1024;
};

// Options of one call.
struct CallOptions {
  // The call's deadline, measured from when it starts (for a batched call, each request gets
  // it afresh); unset: ClientOptions::timeout. Zero or negative: already passed, so the call
  // fails DEADLINE_EXCEEDED without being sent.
  std::optional<std::chrono::milliseconds> timeout;
};

// A client of one Signalbox server over one gRPC channel, reused by every call (gRPC
// reconnects it as needed). Thread-safe: calls may run from many threads at once.
class Client {
 public:
  // `target` is host:port (or any gRPC target, e.g. "dns:///signalbox:9090"). Connects lazily:
  // an unreachable server shows as UNAVAILABLE on the first call.
  explicit Client(const std::string& target, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Ingests `events` in calls of at most max_events_per_call. Bad events are listed in the
  // summary, not thrown; a failed call throws RpcError, and the calls before it were taken.
  IngestSummary ingest(const std::vector<ClientEvent>& events, const CallOptions& call = {});

  // One user's signals and views named in `names` (all when empty), as of `as_of` (ms; the
  // server's clock when unset). Throws RpcError (INVALID_ARGUMENT for an unknown name).
  UserSignals get_signals(std::uint64_t user_id, const std::vector<std::string>& names = {},
                          std::optional<std::int64_t> as_of = std::nullopt,
                          const CallOptions& call = {});

  // Many users' signals, in order, split into BatchGetSignals calls of at most
  // max_users_per_call. All answers are as of one time: `as_of`, or when unset the time the
  // server chose for the first call.
  std::vector<UserSignals> get_signals(const std::vector<std::uint64_t>& user_ids,
                                       const std::vector<std::string>& names = {},
                                       std::optional<std::int64_t> as_of = std::nullopt,
                                       const CallOptions& call = {});

  // The configured signals and views.
  SignalCatalog list_signals(const CallOptions& call = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace signalbox
