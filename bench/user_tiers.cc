#include "user_tiers.h"

#include <algorithm>
#include <fstream>
#include <utility>

#include "signalbox/event/decode.h"

namespace signalbox::bench {

UserTiers user_tiers(std::map<std::uint64_t, std::size_t> events_per_user) {
  std::vector<std::pair<std::size_t, std::uint64_t>> by_count;
  for (auto [user, n] : events_per_user) by_count.emplace_back(n, user);
  std::sort(by_count.rbegin(), by_count.rend());
  UserTiers tiers;
  for (std::size_t i = 0; i < std::min<std::size_t>(3, by_count.size()); ++i)
    tiers.heavy.push_back(by_count[i].second);
  for (std::size_t i = by_count.size() / 2; i < by_count.size() && tiers.light.size() < 50; ++i)
    tiers.light.push_back(by_count[i].second);
  tiers.events_per_user = std::move(events_per_user);
  return tiers;
}

std::map<std::uint64_t, std::size_t> count_events_per_user(const std::string& ndjson_path) {
  std::map<std::uint64_t, std::size_t> per_user;
  std::ifstream in(ndjson_path);
  std::string line;
  EventDecoder decoder;
  Event e;
  Rejection error;
  while (std::getline(in, line))
    if (decoder.decode(line, &e, &error)) ++per_user[e.user_id];
  return per_user;
}

}  // namespace signalbox::bench
