#include "signalbox/materialize/sources/fasttext_source.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <fasttext/fasttext.h>
#include <fmt/format.h>

namespace signalbox {

std::unique_ptr<FastTextSource> FastTextSource::load(const SourceConfig& config) {
  const std::string model_key = fmt::format("sources.{}.model", config.name);
  if (config.model.empty()) {
    throw_config_error(config.where, model_key, "required for a fasttext source");
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(config.model, ec)) {
    throw_config_error(config.where, model_key,
                       fmt::format("\"{}\" is not a readable file", config.model.string()));
  }
  std::unique_ptr<FastTextSource> source(new FastTextSource);
  source->model_ = std::make_unique<fasttext::FastText>();
  try {
    source->model_->loadModel(config.model.string());
  } catch (const std::exception& e) {
    throw_config_error(config.where, model_key,
                       fmt::format("cannot load \"{}\": {}", config.model.string(), e.what()));
  }
  fasttext::Args args = source->model_->getArgs();
  if (args.model != fasttext::model_name::sup) {
    throw_config_error(
        config.where, model_key,
        fmt::format("\"{}\" is not a supervised (classifier) model", config.model.string()));
  }
  source->label_prefix_ = args.label;
  return source;
}

FastTextSource::~FastTextSource() = default;

void FastTextSource::check_field(const FieldRequest& request, const ConfigLocation& where) const {
  if (!request.field.empty()) throw_config_error(where, "field", "not used by a fasttext source");
  if (request.type != FeatureType::kStrings) {
    throw_config_error(where, "type", "a fasttext source gives strings");
  }
}

std::vector<std::pair<std::string, float>> FastTextSource::predict(const std::string& text, int top,
                                                                   double min_prob) const {
  std::vector<std::pair<std::string, float>> labels;
  // fastText would classify an empty line from its end-of-line token alone.
  if (std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); })) {
    return labels;
  }
  std::string line = text;
  std::replace(line.begin(), line.end(), '\n', ' ');
  line += '\n';
  std::istringstream in(line);
  std::vector<std::pair<fasttext::real, std::string>> predictions;
  model_->predictLine(in, predictions, top > 0 ? top : 1, static_cast<fasttext::real>(min_prob));
  labels.reserve(predictions.size());
  for (auto& [prob, label] : predictions) {
    if (label.starts_with(label_prefix_)) label.erase(0, label_prefix_.size());
    labels.emplace_back(std::move(label), prob);
  }
  return labels;
}

std::vector<std::vector<FeatureValue>> FastTextSource::lookup(
    std::span<const std::string> keys, std::span<const FieldRequest> fields) {
  std::vector<std::vector<FeatureValue>> result(keys.size());
  for (std::size_t k = 0; k < keys.size(); ++k) {
    result[k].resize(fields.size());
    for (std::size_t f = 0; f < fields.size(); ++f) {
      // Features of one source differ only in top and min_prob: reuse the previous answer.
      if (f > 0 && fields[f].top == fields[f - 1].top &&
          fields[f].min_prob == fields[f - 1].min_prob) {
        result[k][f] = result[k][f - 1];
        continue;
      }
      std::vector<std::string> labels;
      for (auto& [label, prob] : predict(keys[k], fields[f].top, fields[f].min_prob)) {
        labels.push_back(std::move(label));
      }
      result[k][f] = std::move(labels);
    }
  }
  return result;
}

}  // namespace signalbox
