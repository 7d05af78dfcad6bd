#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "signalbox/config/config.h"
#include "signalbox/materialize/source.h"

namespace fasttext {
class FastText;
}

namespace signalbox {

// A supervised fastText model as a source (docs/config.md, `kind: fasttext`): the key (a query) is
// classified and its labels, most probable first and without the `__label__` prefix, are
// the feature's strings. A feature keeps its `top` labels (1 when 0) whose probability is at
// least `min_prob`. The text goes to the model as written, newlines read as spaces, so it
// must be normalised the way the training data was.
//
// Safe for concurrent lookup() calls without locking: fastText's predictLine() is const and
// keeps its scratch state per call (fastText 0.9.2).
class FastTextSource : public Source {
 public:
  // Loads the model at `config.model`. Throws ConfigError naming sources.<name>.model when
  // it cannot be read or is not a supervised model.
  static std::unique_ptr<FastTextSource> load(const SourceConfig& config);
  ~FastTextSource() override;
  FastTextSource(const FastTextSource&) = delete;
  FastTextSource& operator=(const FastTextSource&) = delete;

  // Accepts only `strings` features without a field.
  void check_field(const FieldRequest& request, const ConfigLocation& where) const override;

  std::vector<std::vector<FeatureValue>> lookup(std::span<const std::string> keys,
                                                std::span<const FieldRequest> fields) override;

  // The labels of `text` with their probabilities, most probable first.
  std::vector<std::pair<std::string, float>> predict(const std::string& text, int top,
                                                     double min_prob) const;

 private:
  FastTextSource() = default;

  std::unique_ptr<fasttext::FastText> model_;
  std::string label_prefix_;  // "__label__" unless the model was trained with another -label
};

}  // namespace signalbox
