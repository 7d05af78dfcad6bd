#include "signalbox/backfill/flat_table.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace signalbox {

struct FlatTable::Node {
  // In the order first met until settled, then in column order.
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> children;
  std::unordered_map<std::string, std::size_t> position;  // of each key in `children`
  bool map = false;   // its children are the keys of a result's map
  double weight = 0;  // the sum of |numbers| learnt beneath it

  Node& child(const std::string& key) {
    auto [it, added] = position.try_emplace(key, children.size());
    if (added) children.emplace_back(key, std::make_unique<Node>());
    return *children[it->second].second;
  }
};

namespace {

using Node = FlatTable::Node;

double weight_of(const Value& v) {
  if (v.is_number()) return std::abs(v.number());
  double sum = 0;
  if (v.is_object())
    for (const auto& [key, x] : v.object()) sum += weight_of(x);
  return sum;
}

// Follows `v` down to its leaves.
void learn_value(Node& node, const Value& v) {
  node.weight += weight_of(v);
  if (!v.is_object()) return;
  for (const auto& [key, x] : v.object()) learn_value(node.child(key), x);
}

// The result of one signal window, or of a signal or view without windows: an object there is
// a map whose keys may be ranked.
void learn_result(Node& node, const Value& v) {
  if (v.is_object()) node.map = true;
  learn_value(node, v);
}

// Keeps, under each map node of one signal, the keys `chosen` in that order (adding the keys
// a window never had, as leaves).
void keep_keys(Node& map, const std::vector<std::string>& chosen) {
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> kept;
  kept.reserve(chosen.size());
  for (const std::string& key : chosen) {
    auto it = map.position.find(key);
    kept.emplace_back(key, it == map.position.end() ? std::make_unique<Node>()
                                                    : std::move(map.children[it->second].second));
  }
  map.children = std::move(kept);
  map.position.clear();
  for (std::size_t i = 0; i < map.children.size(); ++i) map.position[map.children[i].first] = i;
}

void settle_signal(Node& signal, std::optional<std::size_t> top_keys) {
  std::vector<Node*> maps;
  if (signal.map) {
    maps.push_back(&signal);
  } else {
    for (auto& [window, node] : signal.children)
      if (node->map) maps.push_back(node.get());
  }
  if (maps.empty()) return;
  std::unordered_map<std::string, double> weights;
  for (Node* map : maps)
    for (const auto& [key, node] : map->children) weights[key] += node->weight;
  std::vector<std::pair<std::string, double>> keys(weights.begin(), weights.end());
  if (top_keys) {
    std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (keys.size() > *top_keys) keys.resize(*top_keys);
  } else {
    std::sort(keys.begin(), keys.end());
  }
  std::vector<std::string> chosen;
  chosen.reserve(keys.size());
  for (auto& [key, weight] : keys) chosen.push_back(std::move(key));
  for (Node* map : maps) keep_keys(*map, chosen);
}

void add_columns(const Node& node, const std::string& name, std::vector<std::string>& out) {
  if (node.children.empty()) {
    out.push_back(name);
    return;
  }
  for (const auto& [key, child] : node.children) add_columns(*child, name + "." + key, out);
}

std::string cell(const Value& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.string();
  return v.to_json();
}

// The cells beneath `node` for `v`: absent (nullptr) in an object that is there reads 0, under
// a value that is not an object reads empty.
void add_cells(const Node& node, const Value* v, bool in_object, std::vector<std::string>& out) {
  if (node.children.empty()) {
    out.push_back(v ? cell(*v) : in_object ? "0" : "");
    return;
  }
  const bool object = v && v->is_object();
  for (const auto& [key, child] : node.children)
    add_cells(*child, object ? v->find(key) : nullptr, object, out);
}

}  // namespace

FlatTable::FlatTable(std::set<std::string> windowed, std::optional<std::size_t> top_keys)
    : windowed_(std::move(windowed)),
      top_keys_(top_keys),
      fields_(std::make_unique<Node>()),
      signals_(std::make_unique<Node>()) {}

FlatTable::~FlatTable() = default;

void FlatTable::learn(const Value& answer) {
  if (settled_) throw std::logic_error("FlatTable::learn after columns() or row()");
  if (!answer.is_object()) return;
  for (const auto& [field, value] : answer.object()) {
    if (field != "signals") {
      fields_->child(field);
      continue;
    }
    if (!value.is_object()) continue;
    for (const auto& [name, result] : value.object()) {
      Node& signal = signals_->child(name);
      if (windowed_.count(name) && result.is_object()) {
        for (const auto& [window, window_result] : result.object())
          learn_result(signal.child(window), window_result);
      } else {
        learn_result(signal, result);
      }
    }
  }
}

void FlatTable::settle() {
  if (settled_) return;
  settled_ = true;
  for (auto& [name, signal] : signals_->children) settle_signal(*signal, top_keys_);
}

std::vector<std::string> FlatTable::columns() {
  settle();
  std::vector<std::string> out;
  for (const auto& [field, node] : fields_->children) out.push_back(field);
  for (const auto& [name, signal] : signals_->children) add_columns(*signal, name, out);
  return out;
}

std::vector<std::string> FlatTable::row(const Value& answer) {
  settle();
  std::vector<std::string> out;
  for (const auto& [field, node] : fields_->children) {
    const Value* v = answer.find(field);
    out.push_back(v ? cell(*v) : "");
  }
  const Value* signals = answer.find("signals");
  const bool object = signals && signals->is_object();
  for (const auto& [name, signal] : signals_->children)
    add_cells(*signal, object ? signals->find(name) : nullptr, object, out);
  return out;
}

}  // namespace signalbox
