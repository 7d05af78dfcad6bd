// Reads a user's sequence features over gRPC and turns them into the tensors a sequence model
// takes, printing their shapes: for each field of the `history` sequence, a [k] column of
// integers, numbers or strings, a [k, d] float32 matrix for a vector feature, and a ragged
// [k, *] list for a strings feature; then the dwell quantiles.
//
//   sequence-model-client 127.0.0.1:9090 USER_ID

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <variant>
#include <vector>

#include "signalbox/client.h"

namespace {

// The shape of one field across the entries, as a model input would take it.
std::string column_shape(const signalbox::Sequence& sequence, std::size_t field) {
  const std::size_t k = sequence.entries.size();
  std::size_t dimension = 0, longest = 0, present = 0;
  std::string kind = "empty";
  for (const auto& entry : sequence.entries) {
    const signalbox::SequenceField& v = entry.at(field);
    if (std::holds_alternative<std::monostate>(v)) continue;
    ++present;
    if (const auto* vector = std::get_if<std::vector<float>>(&v)) {
      kind = "float32 matrix";
      dimension = std::max(dimension, vector->size());
    } else if (const auto* strings = std::get_if<std::vector<std::string>>(&v)) {
      kind = "ragged strings";
      longest = std::max(longest, strings->size());
    } else if (std::holds_alternative<std::int64_t>(v)) {
      kind = "int64 column";
    } else if (std::holds_alternative<double>(v)) {
      kind = "float64 column";
    } else {
      kind = "string column";
    }
  }
  std::string shape = "[" + std::to_string(k);
  if (kind == "float32 matrix") shape += ", " + std::to_string(dimension);
  if (kind == "ragged strings") shape += ", <=" + std::to_string(longest);
  return kind + " " + shape + "] (" + std::to_string(present) + " present)";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " HOST:PORT USER_ID\n";
    return 2;
  }
  const std::uint64_t user = std::strtoull(argv[2], nullptr, 10);
  try {
    signalbox::Client client(argv[1]);
    signalbox::UserSignals signals = client.get_signals(user, {"history", "dwell"});
    const signalbox::SignalResult* history = signals.find("history");
    const signalbox::SignalValue* window = history ? history->window("30d") : nullptr;
    if (!window || !window->is_sequence()) {
      std::cerr << "the server has no 30d sequence \"history\"\n";
      return 1;
    }
    const signalbox::Sequence& sequence = window->sequence();
    std::cout << "user " << user << ": history of " << sequence.entries.size() << " events\n";
    for (std::size_t f = 0; f < sequence.fields.size(); ++f)
      std::cout << "  " << sequence.fields[f] << ": " << column_shape(sequence, f) << "\n";
    if (const signalbox::SignalResult* dwell = signals.find("dwell")) {
      for (const auto& [name, value] : dwell->windows) {
        std::cout << "  dwell " << name << ":";
        if (value.is_map())
          for (const auto& [q, x] : value.map()) std::cout << " p" << q << "=" << x;
        std::cout << "\n";
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
