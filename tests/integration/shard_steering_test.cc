// Several shards, one cache as the clients see it: every UDP query comes from a new
// source port (as stub resolvers send them), and still a name cached on one shard is
// found, counts its TTL down, and is asked upstream once, whatever its spelling.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/netns.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

std::string Corefile(const FakeUpstream& up) {
  return ".:{PORT} {\n bind 127.0.0.1\n cache 300\n forward . 127.0.0.1:" +
         std::to_string(up.port()) + "\n}\n";
}

// The query echoed with QR and one A record with TTL 300.
Bytes AnswerTtl300(const Bytes& query) {
  Bytes out = EchoAnswer(query);
  wire::StoreU32(out.data() + out.size() - 10, 300);
  return out;
}

// NXDOMAIN with the zone's SOA (negative TTL 60) for a query without EDNS.
Bytes NxDomain(const Bytes& query) {
  // The header and question only: the query's OPT (ringdns's COOKIE) stays behind.
  const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
  Bytes out(query.begin(),
            query.begin() + static_cast<std::ptrdiff_t>(q ? q->question_end : query.size()));
  out[2] = 0x81;
  out[3] = 0x83;
  wire::StoreU16(out.data() + 8, 1);   // NSCOUNT
  wire::StoreU16(out.data() + 10, 0);  // ARCOUNT
  const Bytes owner = WireName("example.");
  out.insert(out.end(), owner.begin(), owner.end());
  const Bytes soa = SoaRdata("ns.example.", "admin.example.", 1, 3600, 600, 86400, 60);
  const std::uint8_t fixed[10] = {0,
                                  6,
                                  0,
                                  1,
                                  0,
                                  0,
                                  0,
                                  60,
                                  static_cast<std::uint8_t>(soa.size() >> 8),
                                  static_cast<std::uint8_t>(soa.size())};
  out.insert(out.end(), fixed, fixed + 10);
  out.insert(out.end(), soa.begin(), soa.end());
  return out;
}

// Asks `name` from a new socket (a new source port); the answer.
std::optional<Bytes> AskFromNewPort(std::uint16_t port, const std::string& name, std::uint16_t id) {
  UdpClient client;
  client.SendTo(port, MessageBuilder(id, 0x0100).Question(name, 1).bytes());
  return client.Receive(5s);
}

// The same from a new socket to `address`:port (another loopback address).
std::optional<Bytes> AskAt(const char* address, std::uint16_t port, const std::string& name,
                           std::uint16_t id) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const timeval wait{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &to.sin_addr);
  const Bytes query = MessageBuilder(id, 0x0100).Question(name, 1).bytes();
  ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  Bytes answer(1500);
  const ssize_t n = ::recv(fd, answer.data(), answer.size(), 0);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  answer.resize(static_cast<std::size_t>(n));
  return answer;
}

// Whether a UDP socket is bound to `address`:port (binding it without SO_REUSEPORT fails).
bool UdpPortHeld(const char* address, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &at.sin_addr);
  const bool held = ::bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof(at)) != 0;
  ::close(fd);
  return held;
}

class ShardSteering : public ::testing::TestWithParam<int> {};

TEST_P(ShardSteering, ANameAskedFromManyPortsReachesTheUpstreamOnce) {
  FakeUpstream up(Behaviour::kAnswer, AnswerTtl300);
  Forwarder fwd(Corefile(up), GetParam());
  EXPECT_TRUE(fwd.daemon().udp_steered());
  for (std::uint16_t id = 1; id <= 24; ++id)
    ASSERT_TRUE(AskFromNewPort(fwd.port(), "www.example.", id).has_value());
  EXPECT_EQ(up.queries(), 1);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.cache_hits, 23u);
}

TEST_P(ShardSteering, EverySpellingSharesOneEntry) {
  FakeUpstream up(Behaviour::kAnswer, AnswerTtl300);
  Forwarder fwd(Corefile(up), GetParam());
  std::uint16_t id = 1;
  for (const char* name : {"www.example.", "WWW.EXAMPLE.", "wWw.ExAmPlE.", "Www.Example."}) {
    for (int round = 0; round < 4; ++round)
      ASSERT_TRUE(AskFromNewPort(fwd.port(), name, id++).has_value());
  }
  EXPECT_EQ(up.queries(), 1);
}

TEST_P(ShardSteering, TtlsCountDownAcrossClients) {
  FakeUpstream up(Behaviour::kAnswer, AnswerTtl300);
  Forwarder fwd(Corefile(up), GetParam());
  ASSERT_TRUE(AskFromNewPort(fwd.port(), "www.example.", 1).has_value());
  std::this_thread::sleep_for(2100ms);  // at least two whole seconds pass
  for (std::uint16_t id = 2; id <= 9; ++id) {
    const std::optional<Bytes> hit = AskFromNewPort(fwd.port(), "www.example.", id);
    ASSERT_TRUE(hit.has_value());
    const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(*hit);
    ASSERT_TRUE(info);
    EXPECT_LE(info->min_ttl, 298u)
        << "a client was answered from a cache that had not counted down";
  }
  EXPECT_EQ(up.queries(), 1);
}

TEST_P(ShardSteering, NxdomainIsCachedAcrossClients) {
  FakeUpstream up(Behaviour::kAnswer, NxDomain);
  Forwarder fwd(Corefile(up), GetParam());
  for (std::uint16_t id = 1; id <= 12; ++id) {
    const std::optional<Bytes> answer = AskFromNewPort(fwd.port(), "missing.example.", id);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ((*answer)[3] & 0x0f, 3) << "NXDOMAIN";
  }
  EXPECT_EQ(up.queries(), 1);
}

TEST_P(ShardSteering, ABurstOfIdenticalMissesCostsOneUpstreamQuery) {
  // The upstream answers 300 ms late, so the burst is all in flight at once: the copies
  // must wait behind one upstream query (coalescing), which needs them on one shard.
  FakeUpstream up(Behaviour::kAnswer, AnswerTtl300, 300ms);
  Forwarder fwd(Corefile(up), GetParam());
  std::vector<std::unique_ptr<UdpClient>> clients;
  const Bytes query = MessageBuilder(7, 0x0100).Question("burst.example.", 1).bytes();
  for (int i = 0; i < 100; ++i) {
    clients.push_back(std::make_unique<UdpClient>());
    clients.back()->SendTo(fwd.port(), query);
  }
  for (auto& client : clients) ASSERT_TRUE(client->Receive(5s).has_value());
  EXPECT_EQ(up.queries(), 1);
}

TEST_P(ShardSteering, DistinctNamesSpreadOverTheShards) {
  FakeUpstream up(Behaviour::kAnswer, AnswerTtl300);
  Forwarder fwd(Corefile(up), GetParam());
  for (int n = 0; n < 64; ++n) {
    ASSERT_TRUE(
        AskFromNewPort(fwd.port(), "name-" + std::to_string(n) + ".example.", 1).has_value());
  }
  // Every shard served some (an empty one among 4: probability 4 x (3/4)^64): the names,
  // not one socket, decide.
  const std::string metrics = fwd.daemon().Metrics();
  fwd.Stop();
  for (int shard = 0; shard < GetParam(); ++shard) {
    const std::string idle = "ringdns_queries_total{shard=\"" + std::to_string(shard) + "\"} 0\n";
    EXPECT_EQ(metrics.find(idle), std::string::npos) << idle;
  }
  EXPECT_EQ(up.queries(), 64);
}

// Each listener address is its own SO_REUSEPORT group; socket i is shard i's in every
// one, so a name belongs to one shard whichever address it is asked on, also for a
// listener a reload adds.
TEST_P(ShardSteering, ANameBelongsToOneShardOnEveryListener) {
  FakeUpstream up(Behaviour::kAnswer, AnswerTtl300);
  const std::string forward =
      " cache 300\n forward . 127.0.0.1:" + std::to_string(up.port()) + "\n}\n";
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1 127.0.0.2\n" + forward, GetParam());
  std::uint16_t id = 1;
  for (int n = 0; n < 16; ++n) {
    const std::string name = "name-" + std::to_string(n) + ".example.";
    ASSERT_TRUE(AskAt("127.0.0.1", fwd.port(), name, id++).has_value());
    ASSERT_TRUE(AskAt("127.0.0.2", fwd.port(), name, id++).has_value());
  }
  EXPECT_EQ(up.queries(), 16);
  ASSERT_TRUE(fwd.Reload(".:{PORT} {\n bind 127.0.0.1 127.0.0.2 127.0.0.3\n" + forward).ok());
  for (int n = 0; n < 16; ++n) {
    const std::string name = "name-" + std::to_string(n) + ".example.";
    ASSERT_TRUE(AskAt("127.0.0.3", fwd.port(), name, id++).has_value());
    ASSERT_TRUE(AskAt("127.0.0.2", fwd.port(), name, id++).has_value());
  }
  EXPECT_EQ(up.queries(), 16) << "a name was asked again: its cache is on another shard";
}

// A name that is most of the traffic is handed to the kernel's hash once the balancer
// has seen a second of it: every shard then asks for it once and answers it from its own
// cache, and the other names stay steered.
TEST_P(ShardSteering, APopularNameIsSpreadOverEveryShard) {
  FakeUpstream up(Behaviour::kAnswer, AnswerTtl300);
  Forwarder fwd(Corefile(up), GetParam(), [](core::DaemonOptions& options) {
    options.hot_name_min_qps = 20;  // reached under the sanitizers too
    options.shard.hot_name_sample_every = 1;
  });
  const Bytes popular = MessageBuilder(1, 0x0100).Question("popular.example.", 1).bytes();
  int cold = 0;
  const auto shards = GetParam();
  // Bounded: each round takes milliseconds; the balancer decides once a second.
  for (int round = 0; round < 400 && up.queries() < cold + shards; ++round) {
    std::vector<std::unique_ptr<UdpClient>> clients;
    for (int i = 0; i < 40; ++i) {
      clients.push_back(std::make_unique<UdpClient>());
      clients.back()->SendTo(fwd.port(), popular);
    }
    for (auto& client : clients) ASSERT_TRUE(client->Receive(5s).has_value());
    ASSERT_TRUE(
        AskFromNewPort(fwd.port(), "cold-" + std::to_string(cold++) + ".example.", 2).has_value());
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(up.queries(), cold + shards) << "the popular name was not asked once per shard";
  // Every shard answers it now, and cold names are still asked once.
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(
        AskFromNewPort(fwd.port(), "cold-" + std::to_string(cold) + ".example.", 3).has_value());
  ++cold;
  EXPECT_EQ(up.queries(), cold + shards);
}

// Joins the generations replaced by reloads (as ringdns's control loop does each second).
void ReapAll(Forwarder& fwd) {
  for (int i = 0; i < 1000 && fwd.daemon().retiring() > 0; ++i) {
    fwd.daemon().ReapRetired();
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(fwd.daemon().retiring(), 0u);
}

// A listener a reload removes and a later reload restores, the old shards gone or still
// draining: served, and a name still has one shard on every listener. (Binding N new
// sockets behind the N old ones would send the restored listener's queries to sockets
// nobody reads; closing old ones would reorder the group.)
TEST_P(ShardSteering, AListenerRemovedAndRestoredKeepsItsShards) {
  FakeUpstream up(Behaviour::kAnswer, AnswerTtl300);
  const std::string forward =
      " cache 300\n forward . 127.0.0.1:" + std::to_string(up.port()) + "\n}\n";
  const std::string both = ".:{PORT} {\n bind 127.0.0.1 127.0.0.2\n" + forward;
  const std::string one = ".:{PORT} {\n bind 127.0.0.1\n" + forward;
  Forwarder fwd(both, GetParam());
  for (const bool reap : {false, true}) {
    ASSERT_TRUE(fwd.Reload(one).ok());
    if (reap) ReapAll(fwd);
    ASSERT_TRUE(fwd.Reload(both).ok());
    if (reap) ReapAll(fwd);
    const int before = up.queries();
    std::uint16_t id = 1;
    for (int n = 0; n < 16; ++n) {
      const std::string name = "name-" + std::to_string(n) + (reap ? ".reaped." : ".draining.");
      ASSERT_TRUE(AskAt("127.0.0.2", fwd.port(), name, id++).has_value())
          << "the restored listener was not served";
      ASSERT_TRUE(AskAt("127.0.0.1", fwd.port(), name, id++).has_value());
    }
    EXPECT_EQ(up.queries() - before, 16) << "a name was asked again: its cache is on another shard";
  }
  // Removed and reaped: nothing holds the address any more.
  ASSERT_TRUE(fwd.Reload(one).ok());
  ReapAll(fwd);
  EXPECT_FALSE(UdpPortHeld("127.0.0.2", fwd.port())) << "a removed listener's sockets stayed bound";
}

// A reload that fails (the new configuration cannot bind) closes the sockets it opened
// and leaves the groups as they were.
TEST_P(ShardSteering, AFailedReloadLeavesTheGroupsAsTheyWere) {
  FakeUpstream up(Behaviour::kAnswer, AnswerTtl300);
  const std::string forward =
      " cache 300\n forward . 127.0.0.1:" + std::to_string(up.port()) + "\n}\n";
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n" + forward, GetParam());
  // 192.0.2.1 is no address of this host: the new shards cannot bind it.
  if (!UdpPortHeld("192.0.2.1", fwd.port()))
    GTEST_SKIP() << "this host binds addresses it does not have";
  EXPECT_FALSE(fwd.Reload(".:{PORT} {\n bind 127.0.0.1 127.0.0.3 192.0.2.1\n" + forward).ok());
  EXPECT_FALSE(UdpPortHeld("127.0.0.3", fwd.port())) << "the failed reload left its sockets bound";
  ASSERT_TRUE(fwd.Reload(".:{PORT} {\n bind 127.0.0.1 127.0.0.3\n" + forward).ok());
  std::uint16_t id = 1;
  for (int n = 0; n < 16; ++n) {
    const std::string name = "name-" + std::to_string(n) + ".example.";
    ASSERT_TRUE(AskAt("127.0.0.3", fwd.port(), name, id++).has_value());
    ASSERT_TRUE(AskAt("127.0.0.1", fwd.port(), name, id++).has_value());
  }
  EXPECT_EQ(up.queries(), 16);
}

INSTANTIATE_TEST_SUITE_P(Shards, ShardSteering, ::testing::Values(2, 4),
                         [](const ::testing::TestParamInfo<int>& shards) {
                           return std::to_string(shards.param) + "Shards";
                         });

// Steering is all or nothing: a group that refuses the program (here a reload adds a
// listener while net.core.optmem_max is too small for it) leaves every group to the
// kernel's hash, and udp_steered() says so. Run in a network namespace of the test's
// own (Linux 6.9+ keeps optmem_max per namespace).
TEST(ShardSteeringFallback, AGroupThatRefusesTheProgramTakesEveryGroupBackToTheKernel) {
  if (!EnterPrivateNetwork() || !SetOptmemMax("131072")) {
    GTEST_SKIP() << "no network namespace with its own optmem_max here (Linux < 6.9)";
  }
  FakeUpstream up(Behaviour::kAnswer, AnswerTtl300);
  const std::string forward =
      " cache 300\n forward . 127.0.0.1:" + std::to_string(up.port()) + "\n}\n";
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n" + forward, 2);
  ASSERT_TRUE(fwd.daemon().udp_steered());
  ASSERT_TRUE(SetOptmemMax("4096"));
  ASSERT_TRUE(fwd.Reload(".:{PORT} {\n bind 127.0.0.1 127.0.0.2\n" + forward).ok());
  ASSERT_TRUE(SetOptmemMax("131072"));
  EXPECT_FALSE(fwd.daemon().udp_steered());
  EXPECT_NE(fwd.daemon().udp_steering().find("optmem_max"), std::string::npos)
      << fwd.daemon().udp_steering();
  // 127.0.0.1's group went back to the kernel too: from 24 ports a name reaches both
  // shards (all on one: probability 2 x 2^-24).
  for (std::uint16_t id = 1; id <= 24; ++id)
    ASSERT_TRUE(AskAt("127.0.0.1", fwd.port(), "www.example.", id));
  EXPECT_EQ(up.queries(), 2);
  fwd.Stop();
}

}  // namespace
}  // namespace ringdns::testing
