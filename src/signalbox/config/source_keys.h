#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace signalbox {

// The keys the loader reads for a source of `kind` besides `kind` itself and the parameters
// its kind declares (docs/config.md#sources): the built-in kinds each use some of path, key and
// model, and require those (table: path, key; fasttext: model; redis: none); a kind registered
// in code may use any of them. The one place these are decided: the loader refuses a file key
// the kind does not use, and the source registry suggests among them for a misspelt key.
std::vector<std::string> source_entry_keys(std::string_view kind);

// Whether `kind` is a built-in source kind, whose file keys are all required.
bool is_builtin_source_kind(std::string_view kind);

}  // namespace signalbox
