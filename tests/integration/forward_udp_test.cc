// The UDP forwarding path over real loopback sockets: routing by zone, answers byte for
// byte, answer validation against hostile upstreams (RFC 5452), failover and timeouts,
// and the RFC-mandated answers to bad queries. Upstreams are in-process fakes on
// 127.0.0.1; nothing leaves the machine.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/real_messages.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/message.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;
using wire::Result;

std::string Upstream(const FakeUpstream& u) { return "127.0.0.1:" + std::to_string(u.port()); }

Bytes Query(const char* qname, std::uint16_t qtype = wire::rrtype::kA, std::uint16_t id = 0x1234) {
  return MessageBuilder(id, wire::flag::kRd).Question(qname, qtype).bytes();
}

std::uint16_t Rcode(const Bytes& answer) {
  const Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  EXPECT_TRUE(info) << wire::ToString(info.error());
  return info ? info->rcode : 0xffff;
}

TEST(ForwardUdp, TutorialSrvAnswerArrivesByteForByteApartFromTheId) {
  // The upstream answers with nsd's real SRV answer (3 SRV, 3 A in the additional section).
  FakeUpstream remote(Behaviour::kAnswer, [](const Bytes&) { return Hex(kNsdSrvAnswer); });
  Forwarder fwd("remote.svc.cluster.local:{PORT} {\n bind 127.0.0.1\n forward . " +
                Upstream(remote) + "\n}\n");
  UdpClient client;
  Bytes query = Hex(kDigSrvQuery);
  wire::StoreU16(query.data(), 0xbeef);
  client.SendTo(fwd.port(), query);
  const std::optional<Bytes> answer = client.Receive(2s);
  ASSERT_TRUE(answer.has_value());
  Bytes expected = Hex(kNsdSrvAnswer);
  wire::StoreU16(expected.data(), 0xbeef);
  EXPECT_EQ(ToHex(*answer), ToHex(expected));
  // The upstream saw a different, unpredictable ID, never the client's.
  ASSERT_EQ(remote.ids().size(), 1u);
}

TEST(ForwardUdp, RoutesByLongestZoneAndRefusesUnservedZones) {
  FakeUpstream remote(Behaviour::kAnswer);
  FakeUpstream local(Behaviour::kAnswer);
  Forwarder fwd("remote.svc.cluster.local:{PORT} {\n bind 127.0.0.1\n forward . " +
                Upstream(remote) + "\n}\nsvc.cluster.local:{PORT} {\n bind 127.0.0.1\n forward . " +
                Upstream(local) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), Query("_couchbase._tcp.cb-example-srv.REMOTE.svc.cluster.local.",
                                  wire::rrtype::kSrv));
  ASSERT_TRUE(client.Receive(2s).has_value());
  client.SendTo(fwd.port(), Query("kubernetes.default.svc.cluster.local."));
  ASSERT_TRUE(client.Receive(2s).has_value());
  EXPECT_EQ(remote.queries(), 1);
  EXPECT_EQ(local.queries(), 1);
  client.SendTo(fwd.port(), Query("example.com."));
  const std::optional<Bytes> refused = client.Receive(2s);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(Rcode(*refused), wire::rcode::kRefused);
  EXPECT_EQ(wire::LoadU16(refused->data()), 0x1234);
  EXPECT_EQ(remote.queries() + local.queries(), 2);
}

TEST(ForwardUdp, EveryClientGetsItsOwnIdBack) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up) + "\n}\n", 2);
  UdpClient client;
  for (std::uint16_t id = 1; id <= 200; ++id) client.SendTo(fwd.port(), Query("a.example.", 1, id));
  std::vector<bool> seen(201, false);
  for (int i = 0; i < 200; ++i) {
    const std::optional<Bytes> answer = client.Receive(2s);
    ASSERT_TRUE(answer.has_value()) << "answer " << i;
    const std::uint16_t id = wire::LoadU16(answer->data());
    ASSERT_TRUE(id >= 1 && id <= 200 && !seen[id]) << id;
    seen[id] = true;
  }
  // The IDs upstream saw are not the clients' 1..200.
  int same = 0;
  for (std::uint16_t id : up.ids()) same += (id >= 1 && id <= 200) ? 1 : 0;
  EXPECT_LT(same, 10);
}

struct Hostile {
  const char* name;
  Behaviour behaviour;
  core::RelaxedCounter core::ShardCounters::*counter;
};

class HostileUpstream : public ::testing::TestWithParam<Hostile> {};

// A forged or wrong answer is never delivered: the client gets SERVFAIL once every
// attempt timed out, and the reject is counted.
TEST_P(HostileUpstream, AnswerIsRejectedAndTheClientGetsServfail) {
  const Hostile& h = GetParam();
  FakeUpstream up(h.behaviour);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up) +
                " {\n  read_timeout 150ms\n  max_connect_attempts 2\n }\n}\n");
  UdpClient client;
  const auto start = std::chrono::steady_clock::now();
  client.SendTo(fwd.port(), Query("www.example."));
  const std::optional<Bytes> answer = client.Receive(3s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(Rcode(*answer), wire::rcode::kServFail) << h.name;
  EXPECT_EQ(wire::LoadU16(answer->data()), 0x1234);
  // After its two 150 ms attempts, not at the 5 s query deadline (with room for a loaded
  // machine).
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(client.Receive(200ms).has_value()) << "exactly one answer";
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_GE((totals.*h.counter).get(), 1u) << h.name;
  EXPECT_EQ(totals.answers, 0u);
  EXPECT_EQ(totals.servfail_timeout, 1u);
}

INSTANTIATE_TEST_SUITE_P(Rfc5452, HostileUpstream,
                         ::testing::Values(Hostile{"wrong ID", Behaviour::kWrongId,
                                                   &core::ShardCounters::dropped_unsolicited},
                                           Hostile{"wrong source port", Behaviour::kWrongPort,
                                                   &core::ShardCounters::dropped_wrong_source},
                                           Hostile{"different question", Behaviour::kOtherQuestion,
                                                   &core::ShardCounters::dropped_mismatch},
                                           Hostile{"malformed answer", Behaviour::kMalformed,
                                                   &core::ShardCounters::dropped_malformed},
                                           Hostile{"no answer", Behaviour::kDrop,
                                                   &core::ShardCounters::retries}),
                         [](const ::testing::TestParamInfo<Hostile>& param) {
                           std::string name = param.param.name;
                           for (char& c : name) c = (c == ' ') ? '_' : c;
                           return name;
                         });

TEST(ForwardUdp, DuplicateAnswerReachesTheClientOnce) {
  FakeUpstream up(Behaviour::kTwice);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), Query("www.example."));
  ASSERT_TRUE(client.Receive(2s).has_value());
  EXPECT_FALSE(client.Receive(300ms).has_value());
  EXPECT_EQ(fwd.Stop().dropped_unsolicited, 1u);
}

TEST(ForwardUdp, FailsOverToTheNextUpstreamAfterReadTimeout) {
  FakeUpstream dead(Behaviour::kDrop);
  FakeUpstream alive(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(dead) + " " +
                Upstream(alive) + " {\n  policy sequential\n  read_timeout 200ms\n }\n}\n");
  UdpClient client;
  const auto start = std::chrono::steady_clock::now();
  client.SendTo(fwd.port(), Query("www.example."));
  const std::optional<Bytes> answer = client.Receive(3s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(Rcode(*answer), wire::rcode::kNoError);
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 1500ms);  // after the configured 200 ms, not the default 2 s
  EXPECT_EQ(dead.queries(), 1);
  EXPECT_EQ(alive.queries(), 1);
}

TEST(ForwardUdp, ServfailCarriesAnExtendedDnsErrorForEdnsClients) {
  FakeUpstream dead(Behaviour::kDrop);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(dead) +
                " {\n  read_timeout 100ms\n  max_connect_attempts 1\n }\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(),
                MessageBuilder(7, wire::flag::kRd).Question("a.example.", 1).Opt(1232, 0).bytes());
  const std::optional<Bytes> answer = client.Receive(2s);
  ASSERT_TRUE(answer.has_value());
  const Result<wire::ResponseInfo> info = wire::WalkResponse(*answer);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->rcode, wire::rcode::kServFail);
  std::uint16_t ede = 0xffff;
  wire::ForEachOption(*answer, info->opt(),
                      [&](std::uint16_t code, std::span<const std::uint8_t> d) {
                        if (code == wire::edns::kOptionExtendedError) ede = wire::LoadU16(d.data());
                      });
  EXPECT_EQ(ede, 22);  // No Reachable Authority (RFC 8914)
}

TEST(ForwardUdp, BadQueriesGetTheRfcMandatedAnswers) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up) + "\n}\n");
  UdpClient client;
  // Malformed but with a readable header: FORMERR (RFC 1035 section 4.1.1).
  client.SendTo(fwd.port(), Hex("abcd 0100 0002 0000 0000 0000 00 0001 0001"));
  std::optional<Bytes> a = client.Receive(2s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(wire::LoadU16(a->data()), 0xabcd);
  EXPECT_EQ(Rcode(*a), wire::rcode::kFormErr);
  // An opcode other than QUERY: NOTIMP.
  client.SendTo(fwd.port(), MessageBuilder(5, 0x2000).Question("a.example.", 1).bytes());
  a = client.Receive(2s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(Rcode(*a), wire::rcode::kNotImp);
  // EDNS version 1: BADVERS (RFC 6891 section 6.1.3).
  client.SendTo(fwd.port(),
                MessageBuilder(6, 0).Question("a.example.", 1).Opt(1232, 0x00010000).bytes());
  a = client.Receive(2s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(Rcode(*a), wire::rcode::kBadVers);
  // QR set, and shorter than a header: dropped without an answer.
  client.SendTo(fwd.port(), EchoAnswer(Query("a.example.")));
  client.SendTo(fwd.port(), Hex("abcd01"));
  EXPECT_FALSE(client.Receive(300ms).has_value());
  // The forwarder still serves.
  client.SendTo(fwd.port(), Query("a.example."));
  a = client.Receive(2s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(Rcode(*a), wire::rcode::kNoError);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.formerr, 1u);
  EXPECT_EQ(totals.notimp, 1u);
  EXPECT_EQ(totals.badvers, 1u);
  EXPECT_EQ(totals.dropped_qr, 1u);
  EXPECT_EQ(totals.dropped_short, 1u);
  EXPECT_EQ(up.queries(), 1);
}

TEST(ForwardUdp, LargeAnswerIsTruncatedToTheClientsUdpSize) {
  const auto big = [](const Bytes& query) {
    Bytes out = EchoAnswer(query);
    const Bytes record = Hex("c00c 0001 0001 0000003c 0004 c0000201");
    for (int i = 1; i < 60; ++i) out.insert(out.end(), record.begin(), record.end());
    wire::StoreU16(out.data() + wire::header::kAnCount, 60);
    return out;
  };
  FakeUpstream up(Behaviour::kAnswer, big);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), Query("www.example."));  // no EDNS: 512 octets at most
  std::optional<Bytes> a = client.Receive(2s);
  ASSERT_TRUE(a.has_value());
  EXPECT_LE(a->size(), 512u);
  const Result<wire::ResponseInfo> info = wire::WalkResponse(*a);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->truncated());
  EXPECT_EQ(info->counts[0], 0);
  // With EDNS 4096 the whole answer fits.
  client.SendTo(
      fwd.port(),
      MessageBuilder(9, wire::flag::kRd).Question("www.example.", 1).Opt(4096, 0).bytes());
  a = client.Receive(2s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(wire::WalkResponse(*a)->counts[0], 60);
}

TEST(ForwardUdp, FullInflightTableAnswersServfailAtOnce) {
  FakeUpstream slow(Behaviour::kAnswer, nullptr, 300ms);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(slow) + "\n}\n", 1,
                /*slots=*/2);
  UdpClient client;
  for (std::uint16_t id = 1; id <= 3; ++id) client.SendTo(fwd.port(), Query("a.example.", 1, id));
  // The third query finds no slot: SERVFAIL at once, long before the upstream answers
  // (300 ms): it is the first answer, whatever the machine's load.
  const std::optional<Bytes> first = client.Receive(2s);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(wire::LoadU16(first->data()), 3);
  EXPECT_EQ(Rcode(*first), wire::rcode::kServFail);
  for (int i = 0; i < 2; ++i) {
    const std::optional<Bytes> a = client.Receive(2s);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(Rcode(*a), wire::rcode::kNoError);
  }
  EXPECT_EQ(fwd.Stop().servfail_no_slot, 1u);
}

TEST(ForwardUdp, StopLetsInFlightQueriesFinish) {
  FakeUpstream slow(Behaviour::kAnswer, nullptr, 300ms);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(slow) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), Query("www.example."));
  // Stop only once the query is upstream (it answers 300 ms later): ten seconds at most.
  for (int i = 0; i < 1000 && slow.queries() == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(slow.queries(), 1);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.answers, 1u);
  const std::optional<Bytes> a = client.Receive(1s);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(Rcode(*a), wire::rcode::kNoError);
}

}  // namespace
}  // namespace ringdns::testing
