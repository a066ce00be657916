// The cache seen from a client: a repeated question reaches the upstream once, the hit
// carries the client's ID and spelling of the name, TTLs count down the entry's life,
// TTL 0 answers are asked every time, answers are never shared between server blocks
// nor between EDNS and non-EDNS clients, and another client's COOKIE never leaks.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/message.h"
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

TEST(CacheUdp, EdnsAndPlainClientsNeverShareAnEntry) {
  // The upstream echoes the query's OPT back, as a real server answers an EDNS query.
  FakeUpstream up(Behaviour::kAnswer, [](const Bytes& query) {
    const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
    MessageBuilder b(0, 0x8180);
    b.Question("www.example.", 1).AnswerAt(12, 1, 300, ARdata(192, 0, 2, 1));
    if (q && q->opt.present()) b.Opt(1232, 0);
    return b.bytes();
  });
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache\n forward . " + Upstream(up) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(),
                MessageBuilder(1, 0x0100).Question("www.example.", 1).Opt(1232, 0).bytes());
  ASSERT_TRUE(client.Receive(2s).has_value());
  client.SendTo(fwd.port(), MessageBuilder(2, 0x0100).Question("www.example.", 1).bytes());
  const std::optional<Bytes> plain = client.Receive(2s);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(wire::LoadU16(plain->data() + wire::header::kArCount), 0);  // no OPT (RFC 6891 7)
  EXPECT_EQ(up.queries(), 2);
}

TEST(CacheUdp, NoClientEverSeesAnotherClientsOrRingdnssCookie) {
  // The upstream echoes the COOKIE it got with a server cookie (RFC 7873): ringdns's
  // own, since the client's is ringdns's to answer.
  FakeUpstream up(Behaviour::kAnswer, [](const Bytes& query) {
    const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
    Bytes cookie;
    wire::ForEachOption(query, q->opt, [&](std::uint16_t code, std::span<const std::uint8_t> data) {
      if (code == wire::edns::kOptionCookie) cookie.assign(data.begin(), data.end());
    });
    const Bytes server = Hex("a1a2a3a4a5a6a7a8");
    cookie.insert(cookie.end(), server.begin(), server.end());
    Bytes option = Hex("000a");
    option.push_back(0);
    option.push_back(static_cast<std::uint8_t>(cookie.size()));
    option.insert(option.end(), cookie.begin(), cookie.end());
    return MessageBuilder(0, 0x8180)
        .Question("www.example.", 1)
        .AnswerAt(12, 1, 300, ARdata(192, 0, 2, 1))
        .Opt(1232, 0, option)
        .bytes();
  });
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache\n forward . " + Upstream(up) + "\n}\n");
  auto ask = [&](std::uint16_t id, const char* client_cookie) {
    UdpClient client;
    const Bytes option = Hex(std::string("000a 0008 ") + client_cookie);
    client.SendTo(
        fwd.port(),
        MessageBuilder(id, 0x0100).Question("www.example.", 1).Opt(1232, 0, option).bytes());
    return client.Receive(2s);
  };
  auto cookies = [](const Bytes& msg) {
    const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(msg);
    EXPECT_TRUE(info);
    int n = 0;
    wire::ForEachOption(msg, info->opt(),
                        [&](std::uint16_t code, auto) { n += code == wire::edns::kOptionCookie; });
    return n;
  };
  const std::optional<Bytes> first = ask(1, "0102030405060708");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(cookies(*first), 0);  // forwarded: the upstream answered ringdns's cookie
  const std::optional<Bytes> second = ask(2, "1112131415161718");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(cookies(*second), 0);  // a hit: the first client's cookie is not this one's
  EXPECT_EQ(wire::LoadU16(second->data() + wire::header::kAnCount), 1);
  EXPECT_EQ(up.queries(), 1);
}

// A query with an EDNS Client Subnet option (RFC 7871) asking for 192.0.2.0/24 or
// 198.51.100.0/24.
Bytes QueryFromSubnet(std::uint16_t id, std::uint8_t third_octet_net) {
  const Bytes ecs = third_octet_net == 2 ? Hex("0008 0007 0001 18 00 c00002")
                                         : Hex("0008 0007 0001 18 00 c63364");
  return MessageBuilder(id, 0x0100).Question("geo.example.", 1).Opt(1232, 0, ecs).bytes();
}

TEST(CacheUdp, AnswersForOneClientSubnetAreNotSharedWithAnother) {
  // The cache and coalescing are keyed on the ECS option: an answer made for one
  // subnet (and echoing it) never reaches a client of another.
  FakeUpstream up(Behaviour::kAnswer, AnswerWithTtl(300));
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache\n forward . " + Upstream(up) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), QueryFromSubnet(1, 2));
  ASSERT_TRUE(client.Receive(2s).has_value());
  client.SendTo(fwd.port(), QueryFromSubnet(2, 100));
  ASSERT_TRUE(client.Receive(2s).has_value());
  EXPECT_EQ(up.queries(), 2) << "the second subnet was answered from the first one's entry";
  client.SendTo(fwd.port(), QueryFromSubnet(3, 2));  // the first subnet again: cached
  ASSERT_TRUE(client.Receive(2s).has_value());
  EXPECT_EQ(up.queries(), 2);
  EXPECT_EQ(fwd.Stop().cache_hits, 1u);
}

}  // namespace
}  // namespace ringdns::testing
