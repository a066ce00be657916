// The cache seen from a client: a repeated question reaches the upstream once, the hit
// carries the client's ID and spelling of the name, TTL 0 answers are asked every time,
// and answers are never shared between server blocks.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

std::string Upstream(const FakeUpstream& u) { return "127.0.0.1:" + std::to_string(u.port()); }

// The query echoed with QR and one A record with `ttl`.
FakeUpstream::AnswerFn AnswerWithTtl(std::uint32_t ttl) {
  return [ttl](const Bytes& query) {
    Bytes out = EchoAnswer(query);
    wire::StoreU32(out.data() + out.size() - 10, ttl);  // the record's TTL field
    return out;
  };
}

TEST(CacheUdp, RepeatedQuestionReachesTheUpstreamOnce) {
  FakeUpstream up(Behaviour::kAnswer, AnswerWithTtl(300));
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache\n forward . " + Upstream(up) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("www.example.", 1).bytes());
  ASSERT_TRUE(client.Receive(2s).has_value());
  client.SendTo(fwd.port(), MessageBuilder(2, 0x0100).Question("WWW.Example.", 1).bytes());
  const std::optional<Bytes> hit = client.Receive(2s);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(wire::LoadU16(hit->data()), 2);  // the client's ID
  EXPECT_EQ(Bytes(hit->begin() + 12, hit->begin() + 25), WireName("WWW.Example."));  // its case
  EXPECT_EQ(up.queries(), 1);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.cache_hits, 1u);
  EXPECT_EQ(totals.cache_inserts, 1u);
}

TEST(CacheUdp, TtlZeroAnswersAreAskedEveryTime) {
  FakeUpstream up(Behaviour::kAnswer, AnswerWithTtl(0));
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache\n forward . " + Upstream(up) + "\n}\n");
  UdpClient client;
  for (std::uint16_t id = 1; id <= 3; ++id) {
    client.SendTo(fwd.port(), MessageBuilder(id, 0x0100).Question("www.example.", 1).bytes());
    ASSERT_TRUE(client.Receive(2s).has_value());
  }
  EXPECT_EQ(up.queries(), 3);
}

TEST(CacheUdp, TtlsDecreaseWhileCached) {
  FakeUpstream up(Behaviour::kAnswer, AnswerWithTtl(300));
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache\n forward . " + Upstream(up) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("www.example.", 1).bytes());
  ASSERT_TRUE(client.Receive(2s).has_value());
  std::this_thread::sleep_for(2100ms);
  client.SendTo(fwd.port(), MessageBuilder(2, 0x0100).Question("www.example.", 1).bytes());
  const std::optional<Bytes> hit = client.Receive(2s);
  ASSERT_TRUE(hit.has_value());
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(*hit);
  ASSERT_TRUE(info);
  EXPECT_GE(info->min_ttl, 297u);
  EXPECT_LE(info->min_ttl, 298u);
  EXPECT_EQ(up.queries(), 1);
}

TEST(CacheUdp, AnswersAreNeverSharedBetweenServerBlocks) {
  FakeUpstream a(Behaviour::kAnswer, AnswerWithTtl(300));
  FakeUpstream b(Behaviour::kAnswer, AnswerWithTtl(300));
  // Two blocks on one port: a.example. and everything else, each with its own cache.
  Forwarder fwd("a.example:{PORT} {\n bind 127.0.0.1\n cache\n forward . " + Upstream(a) +
                "\n}\n.:{PORT} {\n bind 127.0.0.1\n cache\n forward . " + Upstream(b) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("x.a.example.", 1).bytes());
  ASSERT_TRUE(client.Receive(2s).has_value());
  client.SendTo(fwd.port(), MessageBuilder(2, 0x0100).Question("x.b.example.", 1).bytes());
  ASSERT_TRUE(client.Receive(2s).has_value());
  EXPECT_EQ(a.queries(), 1);
  EXPECT_EQ(b.queries(), 1);
}

}  // namespace
}  // namespace ringdns::testing
