// A Kaminsky-style race, measured: while a query waits on a silent upstream, an
// off-path attacker who forges the upstream's address and port perfectly, and knows the
// question, floods ringdns with a million answers to random ports and random IDs. Not
// one may be accepted (RFC 5452: random source ports and a random ID per query; the
// test's pool is 4 sockets per shard, the default 256; and the name's letters in a
// random case, DNS 0x20). A control test shows the measurement does see an acceptance
// when the attacker knows port, ID and spelling; another, that the right port and ID
// with the wrong spelling are rejected.
#include "integration/spoofing.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/netns.h"
#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/name.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

// Asks five more queries (IDs from `first_id`), answers each genuinely (so none waits
// behind another for the same question), and counts those that reached the upstream in
// random case.
int SpelledOfFive(StubClient& client, const SilentUpstream& upstream, std::uint16_t first_id) {
  int spelled = 0;
  for (std::uint16_t id = first_id; id < first_id + 5; ++id) {
    client.Ask(id);
    sockaddr_in from{};
    const Bytes query = upstream.Receive(from);
    if (query.empty()) {
      ADD_FAILURE() << "no query " << id;
      continue;
    }
    spelled += IsSpelled(query) ? 1 : 0;
    upstream.SendTo(Genuine(query), from);
    EXPECT_TRUE(IsGenuine(client.Answer(id))) << id;
  }
  return spelled;
}

std::pair<int, int> EphemeralPorts() {
  int low = 32768, high = 60999;
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d %d", &low, &high) != 2) low = 32768, high = 60999;
    std::fclose(f);
  }
  return {low, high};
}

TEST(Spoofing, EveryUpstreamSourcePortRotatesWithoutLosingAQuery) {
  // A shard retires one of its 4 upstream sockets every 500 ms here (each of 256 every
  // 125 ms by default), in turn, while fewer than half are retiring; a retired socket is
  // replaced by one on a fresh port once no query can be waiting on it (6 s). Steady
  // queries must see every port of the start go out of use and new ports take over
  // (about 8 s; 12 s allowed for a loaded sanitizer run), and every query is answered.
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(up.port()) + "\n}\n", 1,
      1024, 1, 500);
  UdpClient client;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  std::map<std::uint16_t, Clock::time_point> last_seen;  // by source port
  std::set<std::uint16_t> first_ports;                   // seen before the first retirement
  std::size_t ports_read = 0;
  const auto all_first_ports_retired = [&] {
    const auto quiet_since = Clock::now() - 1s;
    for (const std::uint16_t port : first_ports) {
      if (last_seen[port] > quiet_since) return false;
    }
    return last_seen.size() >= first_ports.size() + 2;
  };
  int answered = 0;
  std::uint16_t id = 0;
  while (Clock::now() < start + 12s && (first_ports.empty() || !all_first_ports_retired())) {
    client.SendTo(fwd.port(), MessageBuilder(++id, 0x0100).Question("www.example.", 1).bytes());
    answered += client.Receive(2s).has_value() ? 1 : 0;
    std::this_thread::sleep_for(20ms);
    const std::vector<std::uint16_t> ports = up.source_ports();
    for (; ports_read < ports.size(); ++ports_read) {
      last_seen[ports[ports_read]] = Clock::now();
      if (Clock::now() < start + 400ms) first_ports.insert(ports[ports_read]);
    }
  }
  EXPECT_EQ(answered, id);
  EXPECT_GE(first_ports.size(), 2u) << "too few queries before the first rotation";
  EXPECT_TRUE(all_first_ports_retired())
      << first_ports.size() << " ports at the start, " << last_seen.size() << " seen in all";
  EXPECT_GE(fwd.Stop().upstream_socket_rotations, 2u);
}

TEST(Spoofing, AnIdleShardKeepsRotatingItsPorts) {
  // No query at all: a port nobody sent from is still found by a scan of the host's UDP
  // ports (closed ones answer ICMP), so ports keep changing while the shard sleeps. Each
  // retired socket is replaced once no query could wait on it (6 s); 30 s at most here.
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(up.port()) + "\n}\n", 1,
      1024, 1, 200);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (fwd.daemon().totals().upstream_socket_rotations < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(fwd.Stop().upstream_socket_rotations, 2u);
  EXPECT_EQ(up.queries(), 0);
}

TEST(Spoofing, AMillionBlindForgedAnswersAreAllRejected) {
  // The flood sprays every ephemeral port on loopback: in the machine's own network it
  // would land on other tests' and programs' sockets.
  if (!EnterPrivateNetwork())
    GTEST_SKIP() << "needs CAP_SYS_ADMIN for a network namespace of its own";
  SilentUpstream upstream;
  // One attempt per query, a long read timeout: each query stays open to the flood.
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(upstream.port()) +
          " {\n  read_timeout 2s\n  max_connect_attempts 1\n  max_fails 0\n }\n}\n",
      2);
  constexpr int kAttempts = 1'000'000;
  constexpr std::size_t kBatch = 512;
  const auto [low, high] = EphemeralPorts();
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<int> port_of(low, high);
  std::uniform_int_distribution<int> id_of(0, 0xffff);

  StubClient client(fwd.port());
  int sent = 0;
  int forged_accepted = 0;
  std::uint16_t query_id = 1;
  while (sent < kAttempts) {
    client.Ask(query_id);
    std::this_thread::sleep_for(5ms);  // the query is on its way upstream
    // Up to 200 000 guesses per query (about a second), inside its 2 s.
    for (std::size_t round = 0; round < 200'000 / kBatch && sent < kAttempts; ++round) {
      std::vector<Bytes> packets(kBatch);
      std::vector<sockaddr_in> to(kBatch);
      std::vector<iovec> iov(kBatch);
      std::vector<mmsghdr> msgs(kBatch);
      for (std::size_t i = 0; i < kBatch; ++i) {
        packets[i] = Forged(static_cast<std::uint16_t>(id_of(rng)));
        to[i] = {};
        to[i].sin_family = AF_INET;
        to[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to[i].sin_port = htons(static_cast<std::uint16_t>(port_of(rng)));
        iov[i] = {packets[i].data(), packets[i].size()};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_name = &to[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(to[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      // From the upstream's own address and port: the attacker forges those perfectly.
      const int n = ::sendmmsg(upstream.fd(), msgs.data(), static_cast<unsigned>(kBatch), 0);
      ASSERT_GT(n, 0);
      sent += n;
    }
    const std::optional<Bytes> answer = client.Answer(query_id);
    ASSERT_TRUE(answer.has_value()) << "no answer (SERVFAIL expected) to query " << query_id;
    if (IsForged(answer)) ++forged_accepted;
    ++query_id;
  }
  const core::ShardCounters totals = fwd.Stop();
  std::printf(
      "forged answers sent: %d over %d queries; reached ringdns's sockets: %llu; accepted: %d\n",
      sent, query_id - 1, static_cast<unsigned long long>(totals.dropped_unsolicited.get()),
      forged_accepted);
  EXPECT_EQ(forged_accepted, 0);
  // The flood did reach ringdns (its 2 x 4 upstream sockets among the ephemeral
  // ports), and was turned away as unsolicited.
  EXPECT_GT(totals.dropped_unsolicited.get(), 0u);
}

TEST(Spoofing, TheMeasurementSeesAnAcceptedForgeryWhenPortAndIdAreKnown) {
  SilentUpstream upstream;
  Forwarder fwd(WaitingCorefile(upstream.port()));
  StubClient client(fwd.port());
  client.Ask(1);
  // An on-path attacker: it sees the query, so it knows ringdns's port and the ID ...
  sockaddr_in from{};
  const Bytes query = upstream.Receive(from);
  ASSERT_FALSE(query.empty());
  // ... and the case of the name (DNS 0x20), which it repeats.
  Bytes forged = Forged(wire::LoadU16(query.data()));
  EchoQuestionSpelling(query, forged);
  upstream.SendTo(forged, from);
  EXPECT_TRUE(IsForged(client.Answer(1)));
}

TEST(Spoofing, AForgeryWithTheRightPortAndIdButTheWrongCaseIsRejected) {
  // The attacker has guessed port and ID (or learned them) but not the case of the
  // name's 13 letters that ringdns chose for this query: its answer is dropped, and
  // ringdns asks again from a fresh port and ID, where the genuine answer is taken.
  // (The chance that the new spelling equals the old, 2^-13, fails the ID check first:
  // the ID differs too.)
  SilentUpstream upstream;
  Forwarder fwd(WaitingCorefile(upstream.port()));
  StubClient client(fwd.port());
  client.Ask(1);
  sockaddr_in from{};
  const Bytes query = upstream.Receive(from);
  ASSERT_FALSE(query.empty());
  upstream.SendTo(ForgedFolded(query), from);
  // The query again, another ID, from a fresh socket, spelled afresh: one fold proves
  // nothing about the upstream (a forger must not be able to switch 0x20 off).
  sockaddr_in again_from{};
  const Bytes again = upstream.Receive(again_from);
  ASSERT_FALSE(again.empty());
  EXPECT_NE(wire::LoadU16(again.data()), wire::LoadU16(query.data()));
  upstream.SendTo(Genuine(again), again_from);
  EXPECT_TRUE(IsGenuine(client.Answer(1)));
  // And the lucky guess switched nothing off: later queries still go out in random
  // case (all five plain by chance: 2^-65).
  EXPECT_GT(SpelledOfFive(client, upstream, 2), 0);
  EXPECT_EQ(fwd.Stop().dropped_case_mismatch.get(), 1u);
}

TEST(Spoofing, TwoLuckyForgeriesOnOneQueryNeitherSwitchCaseOffNorMakeTheQueryForgeable) {
  // The upstream has just echoed ringdns's spellings; then a forger who knows port and
  // ID (the worst case) lands a folded answer on both spelled attempts of one query, and
  // a third, plain, on the last port and ID, betting that the query is now asked plain.
  // It is not: it goes over TCP, where the genuine answer is taken; and the upstream
  // keeps 0x20.
  SilentUpstream upstream(/*tcp=*/true);
  // The warm-up teaches the estimator a round trip of microseconds; the attempts must
  // still outlast a slow (sanitized) test's reply, or a retry would take the forgeries.
  Forwarder fwd(WaitingCorefile(upstream.port()), 1,
                [](core::ShardOptions& o) { o.min_attempt_timeout_ms = 4000; });
  StubClient client(fwd.port());
  for (std::uint16_t id = 1; id <= 3; ++id) {  // all 3 in one case: 2^-36
    client.Ask(id);
    sockaddr_in from{};
    const Bytes query = upstream.Receive(from);
    ASSERT_FALSE(query.empty()) << id;
    upstream.SendTo(Genuine(query), from);
    ASSERT_TRUE(IsGenuine(client.Answer(id))) << id;
  }
  client.Ask(4);
  Bytes last;
  sockaddr_in last_from{};
  for (int fold = 1; fold <= 2; ++fold) {
    last = upstream.Receive(last_from);
    ASSERT_FALSE(last.empty()) << fold;
    upstream.SendTo(ForgedFolded(last), last_from);
  }
  upstream.SendTo(Forged(wire::LoadU16(last.data())), last_from);
  const Bytes over_tcp = upstream.ReceiveTcp();
  ASSERT_FALSE(over_tcp.empty());
  upstream.SendTcp(Genuine(over_tcp));
  EXPECT_TRUE(IsGenuine(client.Answer(4)));
  EXPECT_GT(SpelledOfFive(client, upstream, 5), 0);  // all five plain by chance: 2^-65
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.dropped_case_mismatch.get(), 2u);
  EXPECT_EQ(totals.case_tcp_retries.get(), 1u);
  EXPECT_EQ(totals.case_fallback_refused.get(), 1u);
}

}  // namespace
}  // namespace ringdns::testing
