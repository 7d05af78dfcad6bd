#include "signalbox/grpc/results.h"

#include <algorithm>

namespace signalbox {

namespace {

using Shape = ResultTranslator::Shape;

Shape aggregator_shape(const std::string& aggregator) {
  if (aggregator == "count" || aggregator == "sum" || aggregator == "decayed_count" ||
      aggregator == "distinct_count" || aggregator == "min" || aggregator == "max" ||
      aggregator == "avg" || aggregator == "stddev")
    return Shape::kNumberOrMap;
  if (aggregator == "last_k") return Shape::kRecent;
  if (aggregator == "mean") return Shape::kVector;
  if (aggregator == "top_frequent") return Shape::kRanked;
  if (aggregator == "sequence") return Shape::kSequence;
  if (aggregator == "quantile") return Shape::kQuantiles;
  return Shape::kAuto;
}

Shape transform_shape(const std::string& transform) {
  if (transform == "top_k") return Shape::kRanked;
  if (transform == "normalize") return Shape::kNumberOrMap;
  if (transform == "last_session") return Shape::kRecent;
  if (transform == "ratio") return Shape::kNumberOrMap;
  if (transform == "bucketize") return Shape::kLabel;
  return Shape::kAuto;
}

// An object with exactly the members `a` and `b` (in any order), or nullptr members.
bool pair_object(const Value& v, std::string_view a, std::string_view b, const Value** va,
                 const Value** vb) {
  if (!v.is_object() || v.object().size() != 2) return false;
  *va = v.find(a);
  *vb = v.find(b);
  return *va && *vb;
}

bool is_recent_list(const Value::Array& items) {
  return std::all_of(items.begin(), items.end(), [](const Value& item) {
    const Value *value, *ts;
    return pair_object(item, "value", "ts", &value, &ts) && value->is_string() && ts->is_number();
  });
}

bool is_ranked_list(const Value::Array& items) {
  return std::all_of(items.begin(), items.end(), [](const Value& item) {
    const Value *key, *value;
    return pair_object(item, "key", "value", &key, &value) && key->is_string() &&
           value->is_number();
  });
}

bool is_vector(const Value::Array& items) {
  return std::all_of(items.begin(), items.end(), [](const Value& v) { return v.is_number(); });
}

bool is_number_map(const Value::Object& members) {
  return std::all_of(members.begin(), members.end(),
                     [](const auto& member) { return member.second.is_number(); });
}

void fill_recent(const Value::Array& items, v1::Result* out) {
  v1::RecentList* list = out->mutable_recent();
  for (const Value& item : items) {
    v1::RecentValue* entry = list->add_items();
    entry->set_value(item.find("value")->string());
    entry->set_ts(static_cast<std::int64_t>(item.find("ts")->number()));
  }
}

void fill_ranked(const Value::Array& items, v1::Result* out) {
  v1::RankedList* list = out->mutable_ranked();
  for (const Value& item : items) {
    v1::RankedEntry* entry = list->add_items();
    entry->set_key(item.find("key")->string());
    entry->set_value(item.find("value")->number());
  }
}

void fill_vector(const Value::Array& items, v1::Result* out) {
  v1::Vector* vector = out->mutable_vector();
  for (const Value& v : items) vector->add_values(v.number());
}

void fill_sequence_value(const Value& v, const std::string& field, v1::SequenceValue* out) {
  if (v.is_number()) {
    if (field == "ts") {
      out->set_integer(static_cast<std::int64_t>(v.number()));
    } else {
      out->set_number(v.number());
    }
  } else if (v.is_string()) {
    out->set_text(v.string());
  } else if (v.is_array()) {
    const Value::Array& items = v.array();
    // A vector feature is numbers; a strings feature (possibly empty) strings.
    if (!items.empty() && items.front().is_number()) {
      auto* values = out->mutable_vector()->mutable_values();
      values->Reserve(static_cast<int>(items.size()));
      for (const Value& x : items) values->Add(static_cast<float>(x.number()));
    } else {
      auto* values = out->mutable_strings()->mutable_values();
      for (const Value& x : items)
        if (x.is_string()) values->Add(std::string(x.string()));
    }
  }
}

bool is_sequence(const Value::Array& items, const std::vector<std::string>& fields) {
  return !fields.empty() && std::all_of(items.begin(), items.end(), [&](const Value& item) {
    return item.is_object() && item.object().size() == fields.size();
  });
}

void fill_sequence(const Value::Array& items, const std::vector<std::string>& fields,
                   v1::Result* out) {
  v1::SequenceList* list = out->mutable_sequence();
  for (const std::string& field : fields) list->add_fields(field);
  for (const Value& item : items) {
    v1::SequenceEntry* entry = list->add_entries();
    for (const std::string& field : fields) {
      v1::SequenceValue* value = entry->add_values();
      if (const Value* v = item.find(field)) fill_sequence_value(*v, field, value);
    }
  }
}

// Quantiles with no event to count are null in JSON and left out of the map.
bool fill_quantiles(const Value& value, v1::Result* out) {
  if (!value.is_object()) return false;
  for (const auto& [key, v] : value.object())
    if (!v.is_null() && !v.is_number()) return false;
  auto* entries = out->mutable_map()->mutable_entries();
  for (const auto& [key, v] : value.object())
    if (v.is_number()) (*entries)[key] = v.number();
  return true;
}

std::string text(const Value* v) { return v && v->is_string() ? v->string() : std::string(); }

void fill_params(const Value* params, google::protobuf::Map<std::string, std::string>* out) {
  if (!params || !params->is_object()) return;
  for (const auto& [key, value] : params->object())
    (*out)[key] = value.is_string() ? value.string() : value.to_json();
}

}  // namespace

ResultTranslator::ResultTranslator(const Config& config) {
  for (const SignalConfig& s : config.signals) {
    Kind kind{!s.windows.empty(), aggregator_shape(s.aggregator), {}};
    if (auto fields = s.params.find("fields");
        kind.shape == Shape::kSequence && fields != s.params.end())
      kind.fields = fields->second.items;
    kinds_[s.name] = std::move(kind);
  }
  for (const ViewConfig& v : config.views)
    kinds_[v.name] = Kind{false, transform_shape(v.transform), {}};
}

void ResultTranslator::result(const Value& value, Shape shape, v1::Result* out,
                              const std::vector<std::string>& fields) {
  out->Clear();
  if (value.is_null()) return;  // kind unset: null
  if (shape == Shape::kQuantiles && fill_quantiles(value, out)) return;
  if (shape == Shape::kLabel && value.is_string()) return out->set_label(value.string());
  if (value.is_number()) {
    out->set_number(value.number());
    return;
  }
  if (value.is_object() && is_number_map(value.object())) {
    auto* entries = out->mutable_map()->mutable_entries();
    for (const auto& [key, v] : value.object()) (*entries)[key] = v.number();
    return;
  }
  if (value.is_array()) {
    const Value::Array& items = value.array();
    // An empty list takes the expected shape; an unknown one is only typed when non-empty.
    bool guess = shape == Shape::kAuto && !items.empty();
    if ((shape == Shape::kRecent || guess) && is_recent_list(items)) return fill_recent(items, out);
    if ((shape == Shape::kRanked || guess) && is_ranked_list(items)) return fill_ranked(items, out);
    if ((shape == Shape::kVector || guess) && is_vector(items)) return fill_vector(items, out);
    if (shape == Shape::kSequence && is_sequence(items, fields))
      return fill_sequence(items, fields, out);
  }
  out->set_json(value.to_json());
}

void ResultTranslator::user_signals(std::uint64_t user_id, const Value& answer,
                                    v1::UserSignals* out) const {
  out->set_user_id(user_id);
  if (const Value* as_of = answer.find("as_of"))
    out->set_as_of(static_cast<std::int64_t>(as_of->number()));
  if (const Value* seen = answer.find("seen")) out->set_seen(*seen == Value(true));
  const Value* signals = answer.find("signals");
  if (!signals || !signals->is_object()) return;
  const Value* complete_since = answer.find("complete_since");
  const Value* incomplete = answer.find("incomplete");
  for (const auto& [name, value] : signals->object()) {
    v1::SignalResult* signal = out->add_signals();
    signal->set_name(name);
    if (const Value* since = complete_since ? complete_since->find(name) : nullptr)
      signal->set_complete_since(static_cast<std::int64_t>(since->number()));
    const Value* incomplete_windows = incomplete ? incomplete->find(name) : nullptr;
    auto window_incomplete = [&](const std::string& window) {
      if (!incomplete_windows || !incomplete_windows->is_array()) return false;
      const Value::Array& windows = incomplete_windows->array();
      return std::find(windows.begin(), windows.end(), Value(window)) != windows.end();
    };
    auto it = kinds_.find(name);
    Kind kind = it == kinds_.end() ? Kind{} : it->second;
    if (kind.windowed && value.is_object()) {
      v1::WindowedResults* windowed = signal->mutable_windowed();
      for (const auto& [window, result] : value.object()) {
        v1::WindowedResult* w = windowed->add_windows();
        w->set_window(window);
        w->set_incomplete(window_incomplete(window));
        ResultTranslator::result(result, kind.shape, w->mutable_result(), kind.fields);
      }
    } else {
      signal->set_incomplete(incomplete_windows != nullptr);
      ResultTranslator::result(value, kind.shape, signal->mutable_result(), kind.fields);
    }
  }
}

void ResultTranslator::list_signals(const Value& described, v1::ListSignalsResponse* out) {
  if (const Value* signals = described.find("signals"); signals && signals->is_array()) {
    for (const Value& s : signals->array()) {
      v1::SignalInfo* info = out->add_signals();
      info->set_name(text(s.find("name")));
      info->set_aggregator(text(s.find("aggregator")));
      if (const Value* since = s.find("complete_since"))
        info->set_complete_since(static_cast<std::int64_t>(since->number()));
      if (const Value* building = s.find("bootstrapping"))
        info->set_bootstrapping(*building == Value(true));
      info->set_group_by(text(s.find("group_by")));
      info->set_value(text(s.find("value")));
      if (const Value* actions = s.find("actions"); actions && actions->is_object()) {
        for (const auto& [action, weight] : actions->object()) {
          v1::ActionWeight* a = info->add_actions();
          a->set_action(action);
          a->set_weight(weight.number());
        }
      }
      if (const Value* windows = s.find("windows"); windows && windows->is_array()) {
        for (const Value& w : windows->array()) info->add_windows(text(&w));
      }
      fill_params(s.find("params"), info->mutable_params());
    }
  }
  if (const Value* views = described.find("views"); views && views->is_array()) {
    for (const Value& v : views->array()) {
      v1::ViewInfo* info = out->add_views();
      info->set_name(text(v.find("name")));
      info->set_signal(text(v.find("signal")));
      info->set_window(text(v.find("window")));
      info->set_transform(text(v.find("transform")));
      fill_params(v.find("params"), info->mutable_params());
    }
  }
}

}  // namespace signalbox
