#include "signalbox/serve/route.h"

#include <array>

namespace signalbox {

std::string_view route_label(Route route) {
  static constexpr std::array<std::string_view, kRouteCount> kLabels = {
      "/v1/events",
      "/v1/users/{user_id}/signals",
      "/v1/signals:batchGet",
      "/v1/signals",
      "/healthz",
      "/readyz",
      "/metrics",
      "/v1/users",
      "/v1/users/{user_id}/explain",
      "/v1/users/{user_id}/reach",
      "/",
      "unmatched"};
  return kLabels[static_cast<std::size_t>(route)];
}

}  // namespace signalbox
