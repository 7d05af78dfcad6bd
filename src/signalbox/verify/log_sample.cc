#include "signalbox/verify/log_sample.h"

#include <algorithm>
#include <map>
#include <utility>

#include "signalbox/common/hash.h"
#include "signalbox/eventlog/event_log_reader.h"

namespace signalbox {

namespace {

// The users with the smallest hashes seen so far, each with its span of events. A user that
// ends in the sample entered it at its first event and stayed (the bar only falls), so its
// span covers all its events.
class BottomK {
 public:
  BottomK(std::size_t k, std::uint64_t seed) : k_(k), seed_(seed) {}

  void add(std::uint64_t user_id, TimeMs ts) {
    if (k_ == 0) return;
    const Key key{
        hash64(std::string_view(reinterpret_cast<const char*>(&user_id), sizeof user_id), seed_),
        user_id};
    if (users_.size() == k_ && std::prev(users_.end())->first < key) return;
    auto [it, inserted] = users_.try_emplace(key, SampledUser{user_id, ts, ts});
    if (!inserted) {
      it->second.first_ts = std::min(it->second.first_ts, ts);
      it->second.last_ts = std::max(it->second.last_ts, ts);
      return;
    }
    if (users_.size() > k_) users_.erase(std::prev(users_.end()));
  }

  std::vector<SampledUser> by_user_id() const {
    std::vector<SampledUser> users;
    users.reserve(users_.size());
    for (const auto& entry : users_) users.push_back(entry.second);
    std::sort(users.begin(), users.end(),
              [](const SampledUser& a, const SampledUser& b) { return a.user_id < b.user_id; });
    return users;
  }

 private:
  using Key = std::pair<std::uint64_t, std::uint64_t>;  // (hash, user id): unique per user
  const std::size_t k_;
  const std::uint64_t seed_;
  std::map<Key, SampledUser> users_;
};

}  // namespace

LogSample sample_log_users(const std::vector<std::string>& files, std::size_t sample_size,
                           std::uint64_t seed, const DecodeOptions& decode) {
  LogSample sample;
  BottomK bottom(sample_size, seed);
  EventDecoder decoder(decode);
  Event event;
  Rejection error;
  std::vector<std::string_view> lines;
  for (const std::string& file : files) {
    EventLogReader reader(file);
    while (reader.next_lines(8192, lines)) {
      sample.lines += lines.size();
      for (std::string_view line : lines) {
        if (is_blank_line(line)) continue;
        if (!decoder.decode(line, &event, &error)) {
          ++sample.invalid_events;
          continue;
        }
        ++sample.valid_events;
        sample.log_end = std::max(sample.log_end.value_or(event.ts), event.ts);
        bottom.add(event.user_id, event.ts);
      }
    }
  }
  sample.users = bottom.by_user_id();
  return sample;
}

}  // namespace signalbox
