#pragma once

// A store and a snapshot that hand every call to the ones they wrap: a test derives from them
// and overrides the calls it changes or watches (Engine::Options::wrap_store).

#include <memory>
#include <utility>

#include "signalbox/store/store.h"

namespace signalbox::testing {

class ForwardingSnapshot : public StoreSnapshot {
 public:
  explicit ForwardingSnapshot(std::unique_ptr<StoreSnapshot> inner) : inner_(std::move(inner)) {}
  TimeMs high_water() const override { return inner_->high_water(); }
  TimeMs expired_through() const override { return inner_->expired_through(); }
  bool shows_no_event_after_high_water() const override {
    return inner_->shows_no_event_after_high_water();
  }
  void scan_events(std::uint64_t user_id, TimeMs from, TimeMs to,
                   const std::function<void(std::string_view)>& fn) override {
    inner_->scan_events(user_id, from, to, fn);
  }
  using StoreSnapshot::tiles;
  std::vector<StoredTile> tiles(std::uint64_t user_id, std::span<const std::uint64_t> state_ids,
                                const TileSelection& selection) override {
    return inner_->tiles(user_id, state_ids, selection);
  }
  std::vector<std::uint64_t> users(std::uint64_t from, std::size_t limit) override {
    return inner_->users(from, limit);
  }
  bool holds_user(std::uint64_t user_id) override { return inner_->holds_user(user_id); }
  void read_users_whole() override { inner_->read_users_whole(); }
  std::optional<std::uint64_t> tile_version(std::uint64_t user_id) override {
    return inner_->tile_version(user_id);
  }

 protected:
  StoreSnapshot& inner() { return *inner_; }

 private:
  std::unique_ptr<StoreSnapshot> inner_;
};

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}
  TimeMs high_water() const override { return inner_->high_water(); }
  TimeMs ids_expired_through() const override { return inner_->ids_expired_through(); }
  std::vector<bool> contains(std::span<const std::pair<std::uint64_t, std::string>> ids) override {
    return inner_->contains(ids);
  }
  void commit(const CommitBatch& batch) override { inner_->commit(batch); }
  std::unique_ptr<StoreSnapshot> snapshot() override { return inner_->snapshot(); }
  void expire(const RetentionPolicy& policy, ExpireOptions options) override {
    inner_->expire(policy, options);
  }
  bool continue_fold(std::size_t max_users) override { return inner_->continue_fold(max_users); }
  StoreStats stats() override { return inner_->stats(); }
  void check_ready() override { inner_->check_ready(); }
  void flush() override { inner_->flush(); }
  std::optional<std::string> read_note(std::string_view name) override {
    return inner_->read_note(name);
  }
  void write_note(std::string_view name, std::optional<std::string_view> value) override {
    inner_->write_note(name, value);
  }

 protected:
  Store& inner() { return *inner_; }

 private:
  std::unique_ptr<Store> inner_;
};

}  // namespace signalbox::testing
