#include "signalbox/serve/api_refusals.h"

#include <fmt/format.h>

namespace signalbox {

std::string too_many_users_message(std::size_t limit, std::size_t asked) {
  return fmt::format("user_ids: at most {} user ids per request, got {}", limit, asked);
}

std::string_view ingest_off_message() {
  return "ingest over HTTP and gRPC is not configured: the config's ingest list has no "
         "{kind: http} entry (see docs/config.md#ingest)";
}

}  // namespace signalbox
