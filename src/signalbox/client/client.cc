#include "signalbox/client.h"

#include <algorithm>

#include <grpcpp/grpcpp.h>

#include "signalbox/v1/signalbox.grpc.pb.h"

namespace signalbox {

namespace {

constexpr const char* kCodeNames[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

void check(const grpc::Status& status) {
  if (!status.ok())
    throw RpcError(static_cast<StatusCode>(status.error_code()), status.error_message());
}

SequenceField to_field(const v1::SequenceValue& v) {
  switch (v.kind_case()) {
    case v1::SequenceValue::kInteger:
      return v.integer();
    case v1::SequenceValue::kNumber:
      return v.number();
    case v1::SequenceValue::kText:
      return v.text();
    case v1::SequenceValue::kStrings:
      return std::vector<std::string>(v.strings().values().begin(), v.strings().values().end());
    case v1::SequenceValue::kVector:
      return std::vector<float>(v.vector().values().begin(), v.vector().values().end());
    case v1::SequenceValue::KIND_NOT_SET:
      break;
  }
  return {};
}

Sequence to_sequence(const v1::SequenceList& list) {
  Sequence out;
  out.fields.assign(list.fields().begin(), list.fields().end());
  out.entries.reserve(list.entries_size());
  for (const v1::SequenceEntry& entry : list.entries()) {
    std::vector<SequenceField>& values = out.entries.emplace_back();
    values.reserve(entry.values_size());
    for (const v1::SequenceValue& v : entry.values()) values.push_back(to_field(v));
  }
  return out;
}

SignalValue to_value(const v1::Result& r) {
  switch (r.kind_case()) {
    case v1::Result::kNumber:
      return SignalValue(r.number());
    case v1::Result::kMap:
      return SignalValue(
          std::map<std::string, double>(r.map().entries().begin(), r.map().entries().end()));
    case v1::Result::kRecent: {
      std::vector<RecentValue> items;
      items.reserve(r.recent().items_size());
      for (const v1::RecentValue& item : r.recent().items())
        items.push_back(RecentValue{item.value(), item.ts()});
      return SignalValue(std::move(items));
    }
    case v1::Result::kRanked: {
      std::vector<RankedEntry> items;
      items.reserve(r.ranked().items_size());
      for (const v1::RankedEntry& item : r.ranked().items())
        items.push_back(RankedEntry{item.key(), item.value()});
      return SignalValue(std::move(items));
    }
    case v1::Result::kVector:
      return SignalValue(
          std::vector<double>(r.vector().values().begin(), r.vector().values().end()));
    case v1::Result::kJson:
      return SignalValue(JsonText{r.json()});
    case v1::Result::kSequence:
      return SignalValue(to_sequence(r.sequence()));
    case v1::Result::kLabel:
      return SignalValue(Label{r.label()});
    case v1::Result::KIND_NOT_SET:
      break;
  }
  return SignalValue();
}

UserSignals to_user(const v1::UserSignals& u) {
  UserSignals out;
  out.user_id = u.user_id();
  out.as_of = u.as_of();
  if (u.has_seen()) out.seen = u.seen();
  out.signals.reserve(u.signals_size());
  for (const v1::SignalResult& s : u.signals()) {
    SignalResult result;
    result.name = s.name();
    if (s.has_windowed()) {
      result.windowed = true;
      for (const v1::WindowedResult& w : s.windowed().windows())
        result.windows.emplace_back(w.window(), to_value(w.result()));
    } else {
      result.value = to_value(s.result());
    }
    out.signals.push_back(std::move(result));
  }
  return out;
}

void to_proto(const ClientEvent& e, v1::Event* out) {
  if (e.user_id) out->set_user_id(*e.user_id);
  if (e.ts) out->set_ts(*e.ts);
  if (e.action) out->set_action(*e.action);
  if (e.event_id) out->set_event_id(*e.event_id);
  if (e.item_id) out->set_item_id(*e.item_id);
  if (e.query) out->set_query(*e.query);
  for (const auto& [name, value] : e.attrs) {
    v1::AttrValue& attr = (*out->mutable_attrs())[name];
    if (const auto* s = std::get_if<std::string>(&value))
      attr.set_string_value(*s);
    else
      attr.set_number_value(std::get<double>(value));
  }
}

}  // namespace

const char* status_code_name(StatusCode code) {
  int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kCodeNames[i] : "UNKNOWN";
}

RpcError::RpcError(StatusCode code, std::string message)
    : std::runtime_error(std::string(status_code_name(code)) + ": " + message),
      code_(code),
      message_(std::move(message)) {}

const SignalValue* SignalResult::window(const std::string& name) const {
  for (const auto& [w, value] : windows)
    if (w == name) return &value;
  return nullptr;
}

const SignalResult* UserSignals::find(const std::string& name) const {
  for (const SignalResult& s : signals)
    if (s.name == name) return &s;
  return nullptr;
}

struct Client::Impl {
  ClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Signalbox::Stub> stub;

  // A fresh context per RPC: gRPC forbids reusing one.
  void prepare(grpc::ClientContext& context, const CallOptions& call) const {
    std::chrono::milliseconds timeout = call.timeout ? *call.timeout : options.timeout;
    if (call.timeout || timeout.count() > 0)
      context.set_deadline(std::chrono::system_clock::now() + timeout);
  }
};

Client::Client(const std::string& target, ClientOptions options) : impl_(new Impl) {
  impl_->options = options;
  impl_->options.max_users_per_call = std::max<std::size_t>(1, options.max_users_per_call);
  impl_->options.max_events_per_call = std::max<std::size_t>(1, options.max_events_per_call);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<std::size_t>(options.max_receive_bytes, std::numeric_limits<int>::max())));
  impl_->channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  impl_->stub = v1::Signalbox::NewStub(impl_->channel);
}

Client::~Client() = default;

IngestSummary Client::ingest(const std::vector<ClientEvent>& events, const CallOptions& call) {
  IngestSummary summary;
  const std::size_t step = impl_->options.max_events_per_call;
  for (std::size_t first = 0; first < events.size(); first += step) {
    std::size_t last = std::min(events.size(), first + step);
    v1::IngestEventsRequest request;
    request.mutable_events()->Reserve(static_cast<int>(last - first));
    for (std::size_t i = first; i < last; ++i) to_proto(events[i], request.add_events());
    v1::IngestEventsResponse response;
    grpc::ClientContext context;
    impl_->prepare(context, call);
    check(impl_->stub->IngestEvents(&context, request, &response));
    summary.accepted += response.accepted();
    summary.rejected += response.rejected();
    summary.duplicates += response.duplicates();
    for (const v1::EventError& error : response.errors())
      summary.errors.emplace_back(first + error.index(), error.error());
  }
  return summary;
}

UserSignals Client::get_signals(std::uint64_t user_id, const std::vector<std::string>& names,
                                std::optional<std::int64_t> as_of, const CallOptions& call) {
  v1::GetSignalsRequest request;
  request.set_user_id(user_id);
  for (const std::string& name : names) request.add_names(name);
  if (as_of) request.set_as_of(*as_of);
  v1::UserSignals response;
  grpc::ClientContext context;
  impl_->prepare(context, call);
  check(impl_->stub->GetSignals(&context, request, &response));
  return to_user(response);
}

std::vector<UserSignals> Client::get_signals(const std::vector<std::uint64_t>& user_ids,
                                             const std::vector<std::string>& names,
                                             std::optional<std::int64_t> as_of,
                                             const CallOptions& call) {
  std::vector<UserSignals> out;
  out.reserve(user_ids.size());
  const std::size_t step = impl_->options.max_users_per_call;
  for (std::size_t first = 0; first < user_ids.size(); first += step) {
    std::size_t last = std::min(user_ids.size(), first + step);
    v1::BatchGetSignalsRequest request;
    for (std::size_t i = first; i < last; ++i) request.add_user_ids(user_ids[i]);
    for (const std::string& name : names) request.add_names(name);
    if (as_of) request.set_as_of(*as_of);
    v1::BatchGetSignalsResponse response;
    grpc::ClientContext context;
    impl_->prepare(context, call);
    check(impl_->stub->BatchGetSignals(&context, request, &response));
    for (const v1::UserSignals& u : response.results()) out.push_back(to_user(u));
    // Later calls use the first call's time, so every answer is as of the same moment.
    if (!as_of && !out.empty()) as_of = out.front().as_of;
  }
  return out;
}

SignalCatalog Client::list_signals(const CallOptions& call) {
  v1::ListSignalsResponse response;
  grpc::ClientContext context;
  impl_->prepare(context, call);
  check(impl_->stub->ListSignals(&context, v1::ListSignalsRequest(), &response));
  SignalCatalog catalog;
  for (const v1::SignalInfo& s : response.signals()) {
    SignalInfo info{s.name(), s.aggregator(), s.group_by(), s.value(), {}, {}, {}};
    for (const v1::ActionWeight& a : s.actions()) info.actions.emplace_back(a.action(), a.weight());
    info.windows.assign(s.windows().begin(), s.windows().end());
    info.params.insert(s.params().begin(), s.params().end());
    catalog.signals.push_back(std::move(info));
  }
  for (const v1::ViewInfo& v : response.views()) {
    ViewInfo info{v.name(), v.signal(), v.window(), v.transform(), {}};
    info.params.insert(v.params().begin(), v.params().end());
    catalog.views.push_back(std::move(info));
  }
  return catalog;
}

}  // namespace signalbox
