#pragma once

#include <cstddef>
#include <string_view>

namespace signalbox {

// The routes of the HTTP API, as metric labels. kUnmatched collects requests no route took.
// kWebPage is the web page and its files (docs/web.md).
enum class Route {
  kEvents,
  kUserSignals,
  kBatchGet,
  kSignals,
  kHealthz,
  kReadyz,
  kMetrics,
  kUsers,
  kExplain,
  kUserReach,
  kWebPage,
  kUnmatched
};
inline constexpr std::size_t kRouteCount = 12;

// The route as written in the API reference, e.g. "/v1/users/{user_id}/signals".
std::string_view route_label(Route route);

}  // namespace signalbox
