// The shards fitted under a container's memory limit (core/memory/budget.h): the limit
// read from cgroup v2 or v1, the bound a shard can reach, and what is scaled down, in
// which order, when the configured sizes would not fit.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "core/config/loader.h"
#include "core/daemon.h"
#include "core/descriptors.h"
#include "core/memory/budget.h"
#include "core/routes.h"
#include "testing/fake_cgroup.h"

namespace ringdns::core {
namespace {

using testing::FakeCgroup;

constexpr std::uint64_t kMiB = 1 << 20;

RouteTable Routes(const std::string& corefile) {
  absl::StatusOr<config::Config> config = config::ParseCorefile(corefile, "test/Corefile");
  EXPECT_TRUE(config.ok()) << config.status();
  absl::StatusOr<RouteTable> routes = BuildRoutes(*config);
  EXPECT_TRUE(routes.ok()) << routes.status();
  return std::move(*routes);
}

const char kTutorialWithCache[] =
    "remote.svc.cluster.local:5353 {\n forward . 10.1.17.2 10.1.46.2\n}\n"
    ".:5353 {\n cache 30\n forward . 172.20.0.10\n}\n";

TEST(Descriptors, TheSoftLimitIsRaisedToTheHardOne) {
  const std::uint64_t now = RaiseDescriptorLimit();
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(limit.rlim_cur, limit.rlim_max);
  EXPECT_GE(now, 1024u);
}

TEST(Descriptors, UpstreamSocketsAreLoweredToFitTwoGenerationsAndNeverBelowTheFloor) {
  const RouteTable routes = Routes(".:53 {\n forward . 127.0.0.1 ::1\n}\n");
  ASSERT_EQ(routes.upstream_family_count(), 2u);
  const ShardOptions wanted;               // 256 sockets per family, 1024 client connections
  constexpr std::uint64_t kPorts = 28232;  // Linux's default range
  // Enough room: unchanged.
  DescriptorFit fit = FitShardsToDescriptors(wanted, routes, 4, 1 << 20, kPorts);
  EXPECT_EQ(fit.upstream_sockets, wanted.upstream_sockets);
  EXPECT_TRUE(fit.warning.empty());
  // 4 shards, twice over during a reload, under 12000: each shard's 1024 connections
  // leave room for fewer sockets, as many as fit.
  fit = FitShardsToDescriptors(wanted, routes, 4, 12000, kPorts);
  EXPECT_LT(fit.upstream_sockets, wanted.upstream_sockets);
  EXPECT_GE(fit.upstream_sockets, kMinUpstreamSockets);
  ShardOptions lowered = wanted;
  lowered.upstream_sockets = fit.upstream_sockets;
  EXPECT_LE(2 * 4 * ShardDescriptors(lowered, routes) + kReservedDescriptors, 12000u);
  lowered.upstream_sockets += 2;
  EXPECT_GT(2 * 4 * ShardDescriptors(lowered, routes) + kReservedDescriptors, 12000u);
  EXPECT_NE(fit.warning.find("12000"), std::string::npos) << fit.warning;
  // Hopeless: the floor, and still a warning.
  fit = FitShardsToDescriptors(wanted, routes, 4, 1024, kPorts);
  EXPECT_EQ(fit.upstream_sockets, kMinUpstreamSockets);
  EXPECT_NE(fit.warning.find("may not open"), std::string::npos) << fit.warning;
  // Fewer wanted than the floor: never more than wanted.
  ShardOptions few = wanted;
  few.upstream_sockets = 4;
  EXPECT_EQ(FitShardsToDescriptors(few, routes, 4, 1024, kPorts).upstream_sockets, 4u);
}

TEST(Descriptors, ManyShardsTakeAQuarterOfTheEphemeralPortsAtMost) {
  const RouteTable routes = Routes(".:53 {\n forward . 127.0.0.1\n}\n");
  const ShardOptions wanted;
  // 64 shards x 2 generations x 1.5 (rotation) sockets of 256 would be 49 152 ports.
  const DescriptorFit fit = FitShardsToDescriptors(wanted, routes, 64, UINT64_MAX, 28232);
  EXPECT_LE(64u * 2 * fit.upstream_sockets * 3 / 2, 28232u / 4);
  EXPECT_GE(fit.upstream_sockets, kMinUpstreamSockets);
  EXPECT_NE(fit.warning.find("ephemeral port range"), std::string::npos) << fit.warning;
  EXPECT_EQ(FitShardsToDescriptors(wanted, routes, 2, UINT64_MAX, 28232).upstream_sockets, 256u);
}

TEST(Descriptors, BothFamiliesShareTheQuarterOfThePortRange) {
  // An IPv6 socket bound to :: takes its port in IPv4 too, and both families draw from
  // the one range: their sockets together stay within the quarter.
  const RouteTable routes = Routes(".:53 {\n forward . 127.0.0.1 ::1\n}\n");
  const ShardOptions wanted;
  const DescriptorFit fit = FitShardsToDescriptors(wanted, routes, 16, UINT64_MAX, 28232);
  EXPECT_LE(2u * 16 * 2 * fit.upstream_sockets * 3 / 2, 28232u / 4);
  EXPECT_NE(fit.warning.find("ephemeral port range"), std::string::npos) << fit.warning;
  EXPECT_EQ(HeldBy(wanted, routes, 1).ports, 2u * 256 * 3 / 2);
}

TEST(Descriptors, EveryGenerationAliveAtOnceFitsHoweverFastReloadsCome) {
  // 8 shards forwarding to both families: the quarter of Linux's default port range
  // binds (256 sockets per family per shard would not fit twice).
  const RouteTable routes = Routes(".:53 {\n forward . 127.0.0.1 ::1\n}\n");
  const ShardOptions wanted;
  constexpr std::uint64_t kLimit = 1 << 20, kPorts = 28232;
  constexpr int kShards = 8;
  const auto fit = [&](const HeldByShards& running) {
    ShardOptions fitted = wanted;
    fitted.upstream_sockets =
        FitShardsToDescriptors(wanted, routes, kShards, kLimit, kPorts, running).upstream_sockets;
    return std::pair{fitted.upstream_sockets, HeldBy(fitted, routes, kShards)};
  };
  const auto [start_sockets, start_held] = fit({});
  ASSERT_LT(start_sockets, wanted.upstream_sockets);
  // Reloads that come before any old shard has drained: each new generation takes what
  // the running ones leave, so all alive at once stay within both limits, until one
  // gets the floor (and a warning).
  HeldByShards running = start_held;
  bool floored = false;
  for (int generation = 1; generation < 6 && !floored; ++generation) {
    const auto [sockets, held] = fit(running);
    floored = sockets == kMinUpstreamSockets;
    if (floored) break;
    running += held;
    EXPECT_LE(running.ports, kPorts / kPortShare) << generation;
    EXPECT_LE(running.descriptors + kReservedDescriptors, kLimit) << generation;
  }
  EXPECT_TRUE(floored);
  // Then reloads that each come after the old shards have drained: beside the floored
  // generation, and then each beside its predecessor, every one gets about the
  // start-up size again, never more (else it would leave its successor the floor).
  HeldByShards current = fit(running).second;
  for (int reload = 0; reload < 5; ++reload) {
    const auto [sockets, held] = fit(current);
    EXPECT_LE(sockets, start_sockets) << reload;
    EXPECT_GE(sockets * 10, start_sockets * 9) << reload;
    current = held;
  }
}

TEST(Descriptors, ThePortRangeIsReadAndDefaultsToLinuxs) {
  const std::string path = ::testing::TempDir() + "/ip_local_port_range";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("10000\t10999\n", f);
    std::fclose(f);
  }
  EXPECT_EQ(EphemeralPortCount(path), 1000u);
  EXPECT_EQ(EphemeralPortCount("/nonexistent"), 28232u);
}

TEST(CgroupMemoryLimit, ReadsV2AndV1AndTreatsUnlimitedAsNone) {
  FakeCgroup none;
  EXPECT_EQ(CgroupMemoryLimit(none.root()), 0u);
  FakeCgroup v2;
  v2.Write("memory.max", "67108864\n");
  EXPECT_EQ(CgroupMemoryLimit(v2.root()), 64 * kMiB);
  FakeCgroup v2_max;
  v2_max.Write("memory.max", "max\n");
  EXPECT_EQ(CgroupMemoryLimit(v2_max.root()), 0u);
  FakeCgroup v1;
  v1.Write("memory/memory.limit_in_bytes", "134217728\n");
  EXPECT_EQ(CgroupMemoryLimit(v1.root()), 128 * kMiB);
  FakeCgroup v1_unlimited;
  v1_unlimited.Write("memory/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(CgroupMemoryLimit(v1_unlimited.root()), 0u);
}

TEST(ShardMemoryBound, CountsTheCacheAndTheBuffers) {
  const RouteTable plain = Routes(".:5353 {\n forward . 127.0.0.1\n}\n");
  const RouteTable cached = Routes(kTutorialWithCache);
  const ShardOptions options;
  const std::uint64_t without = Shard::MemoryBound(options, plain);
  const std::uint64_t with = Shard::MemoryBound(options, cached);
  // Query and answer rings alone are 8 MiB and 8.6 MiB.
  EXPECT_GT(without, 16 * kMiB);
  // cache 30: 9 984 success and 9 984 denial entries of 1 232 octets and more.
  EXPECT_GT(with - without, 2 * 9984 * 1232u);
  ShardOptions half = options;
  half.cache_percent = 50;
  EXPECT_LT(Shard::MemoryBound(half, cached), with);
}

std::uint64_t Bound(const RouteTable& routes, const ShardOptions& o) {
  return Shard::MemoryBound(o, routes);
}

TEST(FitShardsToMemory, LeavesTheSizesAloneWithoutALimitOrWhenTheyFit) {
  const RouteTable routes = Routes(kTutorialWithCache);
  const ShardOptions wanted;
  for (const std::uint64_t limit : {std::uint64_t{0}, std::uint64_t{4096} * kMiB}) {
    const MemoryFit fit = FitShardsToMemory(
        wanted, 2, limit, [&](const ShardOptions& o) { return Bound(routes, o); });
    EXPECT_TRUE(fit.fits);
    EXPECT_TRUE(fit.note.empty()) << fit.note;
    EXPECT_EQ(fit.options.cache_percent, 100u);
    EXPECT_EQ(fit.options.query_buffers, wanted.query_buffers);
  }
}

TEST(FitShardsToMemory, ALargeCacheShrinksBeforeAnyBuffer) {
  // 200 000 entries (about 260 MB a shard) against 30 MB of buffers and tables.
  const RouteTable routes = Routes(
      ".:5353 {\n cache 30 {\n  success 100000\n  denial 100000\n }\n"
      " forward . 127.0.0.1\n}\n");
  const ShardOptions wanted;
  const auto bound = [&](const ShardOptions& o) { return Bound(routes, o); };
  const MemoryFit fit = FitShardsToMemory(wanted, 2, 512 * kMiB, bound);
  EXPECT_TRUE(fit.fits) << fit.note;
  EXPECT_LT(fit.options.cache_percent, 100u);
  EXPECT_EQ(fit.options.query_buffers, wanted.query_buffers);
  EXPECT_EQ(fit.options.slots, wanted.slots);
  EXPECT_LE(fit.shard_bound * 2, ShardBudget(512 * kMiB));
  EXPECT_NE(fit.note.find("memory limit 512.0 MiB: 2 shards"), std::string::npos) << fit.note;
}

TEST(FitShardsToMemory, ASmallPodGetsSmallerBuffersAndCacheAndTooSmallOneIsToldSo) {
  const RouteTable routes = Routes(kTutorialWithCache);
  const ShardOptions wanted;
  const auto bound = [&](const ShardOptions& o) { return Bound(routes, o); };
  // A 64 MiB pod with two shards.
  const MemoryFit small = FitShardsToMemory(wanted, 2, 64 * kMiB, bound);
  EXPECT_TRUE(small.fits) << small.note;
  EXPECT_LT(small.options.query_buffers, wanted.query_buffers);
  EXPECT_LE(small.shard_bound * 2, ShardBudget(64 * kMiB));
  EXPECT_NE(small.note.find("scaled to fit"), std::string::npos) << small.note;
  // Too small for sizes that still serve: the floors, and the note says so.
  const MemoryFit tiny = FitShardsToMemory(wanted, 2, 8 * kMiB, bound);
  EXPECT_FALSE(tiny.fits);
  EXPECT_EQ(tiny.options.query_buffers, 256u);
  EXPECT_EQ(tiny.options.cache_percent, 1u);
  EXPECT_NE(tiny.note.find("still over"), std::string::npos) << tiny.note;
}

// A port on 127.0.0.1 that was free a moment ago.
std::uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(Daemon, FitsItsShardsToTheContainersMemoryLimit) {
  FakeCgroup pod;
  pod.Write("memory.max", std::to_string(64 * kMiB) + "\n");
  // The upstream is never asked: nothing queries this daemon.
  absl::StatusOr<config::Config> config =
      config::ParseCorefile(".:" + std::to_string(FreePort()) +
                                " {\n bind 127.0.0.1\n cache 30\n forward . 127.0.0.1:9\n}\n",
                            "test/Corefile");
  ASSERT_TRUE(config.ok()) << config.status();
  DaemonOptions options;
  options.shards = 2;
  options.cgroup_root = pod.root();
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(*config, options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  EXPECT_TRUE((*daemon)->memory_fit().fits);
  EXPECT_FALSE((*daemon)->memory_fit().note.empty());
  EXPECT_LT((*daemon)->memory_fit().options.cache_percent, 100u);
  (*daemon)->RequestStop();
  (*daemon)->Wait();
}

}  // namespace
}  // namespace ringdns::core
