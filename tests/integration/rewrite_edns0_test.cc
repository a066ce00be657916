// rewrite's edns0 rules over real sockets: the upstream sees the option; a client that
// sent no OPT gets none back, in an answer or an error; an answer made with the client's
// own data (its subnet) is neither cached nor shared, one with constant data is.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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

// What the upstream received: each query's options, in order.
struct Seen {
  std::mutex mu;
  std::vector<std::vector<std::pair<std::uint16_t, Bytes>>> options;

  std::vector<std::pair<std::uint16_t, Bytes>> last() {
    std::lock_guard lock(mu);
    return options.empty() ? std::vector<std::pair<std::uint16_t, Bytes>>{} : options.back();
  }
};

// Answers as a server with EDNS does: the echo answer, and the query's OPT (options and
// all) when it had one.
FakeUpstream::AnswerFn Recording(Seen& seen) {
  return [&seen](const Bytes& query) {
    Bytes out = EchoAnswer(query);
    const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
    std::vector<std::pair<std::uint16_t, Bytes>> options;
    if (q && q->opt.present()) {
      wire::ForEachOption(query, q->opt,
                          [&](std::uint16_t code, std::span<const std::uint8_t> data) {
                            options.emplace_back(code, Bytes(data.begin(), data.end()));
                          });
      out.insert(out.end(), query.begin() + q->opt.offset,
                 query.begin() + static_cast<long>(q->opt.end()));
      wire::StoreU16(out.data() + wire::header::kArCount, 1);
    }
    std::lock_guard lock(seen.mu);
    seen.options.push_back(std::move(options));
    return out;
  };
}

// The data of the option `code` among `options` (ringdns adds its own COOKIE beside it).
std::optional<Bytes> Find(const std::vector<std::pair<std::uint16_t, Bytes>>& options,
                          std::uint16_t code) {
  for (const auto& [c, data] : options) {
    if (c == code) return data;
  }
  return std::nullopt;
}

std::uint16_t RcodeOf(const Bytes& msg) { return wire::LoadU16(msg.data() + 2) & 0xf; }
std::uint16_t ArCount(const Bytes& msg) {
  return wire::LoadU16(msg.data() + wire::header::kArCount);
}

TEST(RewriteEdns0, TheUpstreamSeesTheOptionAndAClientWithoutEdnsGetsNoOpt) {
  Seen seen;
  FakeUpstream up(Behaviour::kAnswer, Recording(seen));
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n rewrite edns0 local set 0xffee 0x6869\n forward . " +
                Upstream(up) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("www.example.", 1).bytes());
  const std::optional<Bytes> answer = client.Receive(5s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), 0);
  EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kAnCount), 1);
  EXPECT_EQ(ArCount(*answer), 0) << "RFC 6891 section 7: no OPT to a client that sent none";
  EXPECT_EQ(Find(seen.last(), 0xffee), (Bytes{'h', 'i'}));

  // A client with EDNS keeps its OPT, and the upstream sees the option beside its own.
  client.SendTo(fwd.port(),
                MessageBuilder(2, 0x0100).Question("www.example.", 28).Opt(1232, 0).bytes());
  const std::optional<Bytes> with = client.Receive(5s);
  ASSERT_TRUE(with.has_value());
  EXPECT_EQ(ArCount(*with), 1);
  EXPECT_EQ(Find(seen.last(), 0xffee), (Bytes{'h', 'i'}));
  EXPECT_EQ(fwd.Stop().rewrites, 2u);
}

TEST(RewriteEdns0, AnErrorToAClientWithoutEdnsHasNoOptEither) {
  FakeUpstream up(Behaviour::kDrop);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n rewrite edns0 nsid set\n forward . " + Upstream(up) +
                " {\n  max_connect_attempts 1\n }\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), MessageBuilder(3, 0x0100).Question("www.example.", 1).bytes());
  const std::optional<Bytes> answer = client.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kServFail);
  EXPECT_EQ(ArCount(*answer), 0);
  const Bytes name = WireName("www.example.");
  EXPECT_EQ(answer->size(), 12 + name.size() + 4) << "the question alone";
}

TEST(RewriteEdns0, AnAnswerMadeForTheClientsSubnetIsNeitherCachedNorShared) {
  Seen seen;
  FakeUpstream up(Behaviour::kAnswer, Recording(seen), 200ms);
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n cache 30\n rewrite edns0 subnet set 24 56\n forward . " +
      Upstream(up) + "\n}\n");
  // Two at once (no coalescing), then a third after them (no cache hit).
  UdpClient a, b;
  a.SendTo(fwd.port(), MessageBuilder(4, 0x0100).Question("www.example.", 1).bytes());
  b.SendTo(fwd.port(), MessageBuilder(5, 0x0100).Question("www.example.", 1).bytes());
  ASSERT_TRUE(a.Receive(5s).has_value());
  ASSERT_TRUE(b.Receive(5s).has_value());
  a.SendTo(fwd.port(), MessageBuilder(6, 0x0100).Question("www.example.", 1).bytes());
  const std::optional<Bytes> third = a.Receive(5s);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(ArCount(*third), 0);
  EXPECT_EQ(up.queries(), 3);
  EXPECT_EQ(Find(seen.last(), 8), (Bytes{0, 1, 24, 0, 127, 0, 0}));
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.coalesced, 0u);
  EXPECT_EQ(totals.cache_hits, 0u);
}

TEST(RewriteEdns0, AnAnswerMadeWithConstantDataIsCached) {
  Seen seen;
  FakeUpstream up(Behaviour::kAnswer, Recording(seen));
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n cache 30\n rewrite edns0 local set 0xffee {qname}\n forward "
      ". " +
      Upstream(up) + "\n}\n");
  UdpClient client;
  for (std::uint16_t id = 7; id < 10; ++id) {
    client.SendTo(fwd.port(), MessageBuilder(id, 0x0100).Question("www.example.", 1).bytes());
    const std::optional<Bytes> answer = client.Receive(5s);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(ArCount(*answer), 0) << "the cached copy has no OPT either";
  }
  EXPECT_EQ(up.queries(), 1);
  const Bytes qname = {'w', 'w', 'w', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.'};
  EXPECT_EQ(Find(seen.last(), 0xffee), qname);
  EXPECT_EQ(fwd.Stop().cache_hits, 2u);
}

TEST(RewriteEdns0, AStageAnswerToAClientWithoutEdnsHasNoOpt) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n rewrite edns0 local set 0xffee 0xab\n"
      " template IN A tpl.example {\n  answer \"{{ .Name }} 60 IN A 192.0.2.9\"\n }\n"
      " forward . " +
      Upstream(up) + "\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), MessageBuilder(11, 0x0100).Question("a.tpl.example.", 1).bytes());
  const std::optional<Bytes> answer = client.Receive(5s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kAnCount), 1);
  EXPECT_EQ(ArCount(*answer), 0);
  EXPECT_EQ(up.queries(), 0);
}

TEST(RewriteEdns0, AQueryTheSubnetRuleLeavesAloneCannotFillTheCacheForOthers) {
  // The rule cannot edit a query whose OPT is not its last record; were the block
  // cached, that query's answer (made with no subnet) would be served to everyone.
  Seen seen;
  FakeUpstream up(Behaviour::kAnswer, Recording(seen));
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n cache 30\n rewrite edns0 subnet set 24 56\n forward . " +
      Upstream(up) + "\n}\n");
  UdpClient client;
  MessageBuilder planted(12, 0x0100);
  planted.Question("www.example.", 1).Opt(1232, 0).Additional("x.", 16, 0, Bytes{1, 'x'});
  client.SendTo(fwd.port(), planted.bytes());
  ASSERT_TRUE(client.Receive(5s).has_value());
  client.SendTo(fwd.port(),
                MessageBuilder(13, 0x0100).Question("www.example.", 1).Opt(1232, 0).bytes());
  ASSERT_TRUE(client.Receive(5s).has_value());
  EXPECT_EQ(up.queries(), 2);
  EXPECT_EQ(Find(seen.last(), 8), (Bytes{0, 1, 24, 0, 127, 0, 0}));
}

}  // namespace
}  // namespace ringdns::testing
