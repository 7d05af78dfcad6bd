// A full disk under the real `signalbox serve`: the test runs in a mount namespace of its own
// with a small tmpfs for the store, fills it with a ballast file below storage.reserve, and
// checks that ingest answers 503 (never 500, never a crash) with a log line saying why, that
// reads go on, and that once the ballast is gone writes go on by themselves; in the end every
// batch answered 200 (re-sending those answered 503) counts exactly once, also after a restart.

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include "server_process.h"
#include "traffic.h"
#include "world_yaml.h"

namespace signalbox::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kUsers = 20;

void write_text(const char* path, const std::string& text) {
  int fd = ::open(path, O_WRONLY);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: {}", path, std::strerror(errno)));
  ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    throw std::runtime_error(fmt::format("{}: {}", path, std::strerror(errno)));
}

// Enters a user and mount namespace of its own (as root, or as any user where unprivileged
// user namespaces are on) and mounts a tmpfs of `bytes` at `dir`, seen by this process and the
// servers it starts only.
void mount_small_disk(const fs::path& dir, std::size_t bytes) {
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
    throw std::runtime_error(fmt::format("unshare: {} (user namespaces are needed for this test)",
                                         std::strerror(errno)));
  write_text("/proc/self/setgroups", "deny");
  write_text("/proc/self/uid_map", fmt::format("0 {} 1", uid));
  write_text("/proc/self/gid_map", fmt::format("0 {} 1", gid));
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    throw std::runtime_error(fmt::format("mount --make-rprivate /: {}", std::strerror(errno)));
  fs::create_directories(dir);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, fmt::format("size={}", bytes).c_str()) != 0)
    throw std::runtime_error(fmt::format("mount tmpfs: {}", std::strerror(errno)));
}

std::uint64_t free_bytes(const fs::path& dir) { return fs::space(dir).available; }

// Writes zeros to `path` until the file system has at most `leave` bytes free, as another
// program filling the disk would.
void fill(const fs::path& path, std::uint64_t leave) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  std::string chunk(1 << 16, '\0');
  while (free_bytes(path.parent_path()) > leave + chunk.size())
    ASSERT_GT(::write(fd, chunk.data(), chunk.size()), 0) << std::strerror(errno);
  ::close(fd);
}

void ingest_on_a_disk_that_fills(World& world, const fs::path& disk, ServerProcess& server,
                                 const fs::path& config, std::uint16_t port);

TEST(DiskFull, IngestAnswers503ReadsGoOnAndWritesResumeWhenSpaceReturns) {
  World world(3 * kDayMs, {"1h", "1d", "3d", "10d", "40d"}, 99);
  const fs::path disk = world.dir() / "disk";
  mount_small_disk(disk, 48 << 20);
  struct Unmount {  // before the world's folder is removed, after the servers are gone
    fs::path dir;
    ~Unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
  } unmount{disk};
  world.config.storage.path = disk / "store";
  const std::uint16_t port = free_port();
  // Writes stop while less than 16 MiB are free.
  std::string yaml = config_yaml(world.config, port, 16 << 20);
  const std::string storage = "storage: { kind: rocksdb,";
  ASSERT_NE(yaml.find(storage), std::string::npos) << yaml;
  yaml.replace(yaml.find(storage), storage.size(), storage + " reserve: 16MiB,");
  const fs::path config = world.config.file;
  std::ofstream(config) << yaml;
  ServerProcess server(config, port, world.dir() / "serve.log");
  try {
    ingest_on_a_disk_that_fills(world, disk, server, config, port);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what() << "\nserver log:\n" << server.log();
  }
}

void ingest_on_a_disk_that_fills(World& world, const fs::path& disk, ServerProcess& server,
                                 const fs::path& config, std::uint16_t port) {
  HttpClient client(port);

  std::vector<RefEvent> reference;
  std::size_t serial = 0;
  TimeMs now = kStart;
  auto batch_body = [&](std::vector<Event>& batch) {
    batch.clear();
    for (int i = 0; i < 400; ++i)
      batch.push_back(world.make_event(kUsers, now + i * 1000, serial++));
    now += 400 * 1000;
    return events_body(batch, false);
  };
  auto taken = [&](const std::vector<Event>& batch) {
    for (const Event& e : batch) reference.push_back(world.to_ref(e));
  };

  std::vector<Event> batch;
  for (int b = 0; b < 5; ++b) {
    HttpAnswer answer = client.post("/v1/events", batch_body(batch));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    taken(batch);
  }

  // Another program leaves 4 MiB free: under the reserve, so writes are refused, while RocksDB
  // keeps room for its own flushes.
  fill(disk / "ballast", 4 << 20);
  std::vector<std::vector<Event>> refused;
  for (int b = 0; b < 400 && refused.empty(); ++b) {
    std::string body = batch_body(batch);
    HttpAnswer answer = client.post("/v1/events", body);
    ASSERT_TRUE(answer.status == 200 || answer.status == 503)
        << answer.status << " " << answer.body;
    if (answer.status == 200)
      taken(batch);
    else
      refused.push_back(batch);
  }
  ASSERT_FALSE(refused.empty()) << "writes were never refused with less than the reserve free";
  HttpAnswer again = client.post("/v1/events", events_body(refused.front(), false));
  EXPECT_EQ(again.status, 503u) << again.body;
  EXPECT_NE(again.body.find("storage unavailable"), std::string::npos) << again.body;
  EXPECT_NE(again.body.find("less than storage.reserve"), std::string::npos) << again.body;
  // Reads go on.
  HttpAnswer read = client.get(fmt::format("/v1/users/1000/signals?as_of={}", now));
  EXPECT_EQ(read.status, 200u) << read.body;
  EXPECT_NE(server.log().find("writes are refused until space is freed"), std::string::npos)
      << server.log();

  fs::remove(disk / "ballast");
  for (const auto& b : refused) {
    HttpAnswer answer;
    for (int attempt = 0; attempt < 100; ++attempt) {
      answer = client.post("/v1/events", events_body(b, false));
      if (answer.status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(answer.status, 200u) << "writes did not resume once space returned: " << answer.body;
    taken(b);
  }
  for (int b = 0; b < 3; ++b) {
    HttpAnswer answer = client.post("/v1/events", batch_body(batch));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    taken(batch);
  }

  // After a restart too, every batch answered 200 counts once.
  ASSERT_EQ(server.terminate(), 0) << server.log();
  ServerProcess restarted(config, port, world.dir() / "serve.log");
  HttpClient fresh(port);
  TimeMs head = now;
  for (std::uint64_t user = 1000; user < 1000 + kUsers; ++user) {
    HttpAnswer answer = fresh.get(fmt::format("/v1/users/{}/signals?as_of={}", user, head));
    ASSERT_EQ(answer.status, 200u) << answer.body;
    ASSERT_EQ(diff(world.served(reference, user, head), answer.json(), 1e-9), "")
        << "user " << user;
  }
}

}  // namespace
}  // namespace signalbox::testing
