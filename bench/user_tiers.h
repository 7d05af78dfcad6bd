#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace signalbox::bench {

// The users a benchmark queries, picked by their number of events the same way by every
// program of bench/, so that their "heavy" and "light" rows are about the same users.
struct UserTiers {
  std::map<std::uint64_t, std::size_t> events_per_user;
  std::vector<std::uint64_t> heavy;  // the 3 most active users, most active first
  std::vector<std::uint64_t> light;  // 50 users from the median activity down
};

UserTiers user_tiers(std::map<std::uint64_t, std::size_t> events_per_user);

// Events per user of an NDJSON event file; lines that do not decode are skipped.
std::map<std::uint64_t, std::size_t> count_events_per_user(const std::string& ndjson_path);

}  // namespace signalbox::bench
