#include "signalbox/materialize/source.h"

#include <fmt/format.h>

#include "signalbox/materialize/sources/table_source.h"

namespace signalbox {

std::unique_ptr<Source> make_source(const SourceConfig& config) {
  if (config.kind == "table") return TableSource::load(config);
  throw_config_error(config.where, fmt::format("sources.{}.kind", config.name),
                     fmt::format("unknown source kind \"{}\" (known: table)", config.kind));
}

}  // namespace signalbox
