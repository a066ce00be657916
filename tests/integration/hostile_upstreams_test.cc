// Hostile upstreams beyond RFC 5452's forgeries (forward_udp_test.cc has wrong IDs,
// ports, questions, duplicates and malformed records): a compression loop inside an
// answer, TTLs of 2^31 and above, an answer larger than any receive buffer, and a
// truncated answer from an upstream with no TCP service (relayed: the client asks again
// over TCP). Each time the client gets one well-formed answer with its ID, nothing bad
// is cached, and ringdns serves on.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

std::string Upstream(const FakeUpstream& u) { return "127.0.0.1:" + std::to_string(u.port()); }

Bytes Query(std::uint16_t id, std::uint16_t udp_size = 0) {
  MessageBuilder m(id, wire::flag::kRd);
  m.Question("www.example.", wire::rrtype::kA);
  if (udp_size != 0) m.Opt(udp_size, 0);
  return m.bytes();
}

// The default answer (one A record, its TTL in the last record's fixed part) with edits.
Bytes WithTtl(const Bytes& query, std::uint32_t ttl) {
  Bytes out = EchoAnswer(query);
  wire::StoreU32(out.data() + out.size() - 10, ttl);
  return out;
}

wire::Result<wire::ResponseInfo> Walk(const std::optional<Bytes>& answer) {
  return wire::WalkResponse(*answer);
}

TEST(HostileUpstreams, ACompressionLoopInAnAnswerIsDroppedAndTheClientGetsServfail) {
  FakeUpstream up(Behaviour::kAnswer, [](const Bytes& query) {
    Bytes out = EchoAnswer(query);
    // The record's owner becomes a pointer to itself.
    const std::size_t owner = out.size() - 16;
    out[owner] = static_cast<std::uint8_t>(0xc0 | (owner >> 8));
    out[owner + 1] = static_cast<std::uint8_t>(owner);
    return out;
  });
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up) +
                " {\n  read_timeout 150ms\n  max_connect_attempts 2\n }\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), Query(0x1111));
  const std::optional<Bytes> answer = client.Receive(3s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data()), 0x1111);
  EXPECT_EQ(Walk(answer)->rcode, wire::rcode::kServFail);
  EXPECT_GE(fwd.Stop().dropped_malformed.get(), 1u);
}

TEST(HostileUpstreams, TtlsOfTwoToTheThirtyFirstAndAboveCountAsZeroAndAreNotCached) {
  // RFC 2181 section 8: a TTL with the top bit set is treated as zero.
  for (const std::uint32_t ttl : {0x80000000u, 0xffffffffu}) {
    SCOPED_TRACE(ttl);
    FakeUpstream up(Behaviour::kAnswer, [ttl](const Bytes& query) { return WithTtl(query, ttl); });
    Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache 30\n forward . " + Upstream(up) + "\n}\n");
    UdpClient client;
    for (std::uint16_t id = 1; id <= 2; ++id) {
      client.SendTo(fwd.port(), Query(id));
      const std::optional<Bytes> answer = client.Receive(2s);
      ASSERT_TRUE(answer.has_value());
      const wire::Result<wire::ResponseInfo> info = Walk(answer);
      ASSERT_TRUE(info);
      EXPECT_EQ(info->rcode, wire::rcode::kNoError);
      EXPECT_LT(info->min_ttl, 0x80000000u) << "never passed on as a huge TTL";
    }
    EXPECT_EQ(up.queries(), 2) << "not served from the cache";
  }
}

TEST(HostileUpstreams, AnAnswerLargerThanAnyBufferReachesTheClientTruncated) {
  // 6 000 octets over UDP, more than the 4 KiB receive buffers and than the client's
  // EDNS size: the client gets a well-formed truncated answer (TC) to retry over TCP.
  FakeUpstream up(Behaviour::kAnswer, [](const Bytes& query) {
    Bytes out = EchoAnswer(query);
    const Bytes record(out.end() - 16, out.end());
    for (int i = 1; i < 375; ++i) out.insert(out.end(), record.begin(), record.end());
    wire::StoreU16(out.data() + wire::header::kAnCount, 375);
    return out;
  });
  // The product's attempt-timeout floor: it also paces the redial after the refused TCP
  // retry (shard_tcp_upstream.cc), as in the two tests below.
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up) +
                    " {\n  read_timeout 300ms\n  max_connect_attempts 2\n }\n}\n",
                1, AdaptiveAttemptTimeouts);
  UdpClient client;
  client.SendTo(fwd.port(), Query(0x2222, 4096));
  const std::optional<Bytes> answer = client.Receive(6s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data()), 0x2222);
  EXPECT_LE(answer->size(), 4096u);
  const wire::Result<wire::ResponseInfo> info = Walk(answer);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->truncated()) << "relayed once the TCP retry is refused";
  client.SendTo(fwd.port(), Query(0x2223, 4096));
  EXPECT_TRUE(client.Receive(6s).has_value()) << "serves on";
}

Bytes TruncatedEmptyAnswer(const Bytes& query) {
  Bytes out = EchoAnswer(query);
  out.resize(out.size() - 16);
  wire::StoreU16(out.data() + wire::header::kAnCount, 0);
  out[2] |= 0x02;  // TC
  return out;
}

// A relayed truncation: NOERROR, TC, the client's ID and question, nothing else.
void ExpectTruncationOf(const std::optional<Bytes>& answer, std::uint16_t id) {
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data()), id);
  const wire::Result<wire::ResponseInfo> info = Walk(answer);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->truncated());
  EXPECT_EQ(info->rcode, wire::rcode::kNoError);
  EXPECT_EQ(info->counts[0], 0);
  const wire::Result<wire::QueryView> q = wire::ParseQuestion(*answer);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->qtype, wire::rrtype::kA);
}

TEST(HostileUpstreams, TruncatedAnswerFromAnUpstreamWithoutTcpIsRelayedAtOnce) {
  // TC set, and nothing listens for TCP on the upstream's port: ringdns's own retry over
  // TCP is refused. The client gets exactly one answer, TC (it asks again over TCP, as
  // it would through CoreDNS), long before the 5 s deadline a SERVFAIL would wait for.
  FakeUpstream up(Behaviour::kAnswer, TruncatedEmptyAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up) + "\n}\n", 1,
                AdaptiveAttemptTimeouts);
  UdpClient client;
  const auto start = std::chrono::steady_clock::now();
  client.SendTo(fwd.port(), Query(0x3333, 1232));
  const std::optional<Bytes> answer = client.Receive(7s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s) << "not at the deadline";
  ExpectTruncationOf(answer, 0x3333);
  EXPECT_TRUE(Walk(answer)->opt().present()) << "the query had an OPT";
  EXPECT_FALSE(client.Receive(300ms).has_value()) << "exactly one answer";
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.tc_retries, 1u);
  EXPECT_EQ(totals.tc_relayed, 1u);
}

TEST(HostileUpstreams, CoalescedClientsAllGetTheRelayedTruncation) {
  // With a cache, a second client asking the same question waits on the first query;
  // when its TCP retry fails, both get TC.
  FakeUpstream up(Behaviour::kAnswer, TruncatedEmptyAnswer, 100ms);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache 30\n forward . " + Upstream(up) + "\n}\n", 1,
                AdaptiveAttemptTimeouts);
  UdpClient first;
  UdpClient second;
  first.SendTo(fwd.port(), Query(0x4444));
  second.SendTo(fwd.port(), Query(0x5555));
  ExpectTruncationOf(first.Receive(7s), 0x4444);
  ExpectTruncationOf(second.Receive(7s), 0x5555);
  EXPECT_EQ(up.queries(), 1) << "the second client waited on the first query";
  EXPECT_EQ(fwd.Stop().tc_relayed, 2u);
}

}  // namespace
}  // namespace ringdns::testing
