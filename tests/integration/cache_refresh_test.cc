// What the cache does beyond hits, seen from clients over real sockets: identical misses
// share one upstream query (coalescing), popular entries are refreshed before they
// expire (prefetch), and expired entries answer while the upstream is down
// (serve_stale, RFC 8767) until their window is over.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

// Answers with one A record of `ttl`, or SERVFAIL while `fail` is set.
FakeUpstream::AnswerFn Answer(std::uint32_t ttl, const std::atomic<bool>* fail = nullptr) {
  return [ttl, fail](const Bytes& query) {
    Bytes out = EchoAnswer(query);
    wire::StoreU32(out.data() + out.size() - 10, ttl);
    if (fail != nullptr && fail->load()) {
      out.resize(out.size() - 16);  // no record
      wire::StoreU16(out.data() + wire::header::kAnCount, 0);
      wire::StoreU16(out.data() + 2, static_cast<std::uint16_t>(wire::LoadU16(out.data() + 2) |
                                                                wire::rcode::kServFail));
    }
    return out;
  };
}

std::uint16_t RcodeOf(const Bytes& msg) { return wire::LoadU16(msg.data() + 2) & 0xf; }

std::uint32_t MinTtl(const Bytes& msg) {
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(msg);
  EXPECT_TRUE(info);
  return info ? info->min_ttl : 0;
}

// Sends one query for www.example. A and returns the answer (nullopt on timeout).
std::optional<Bytes> Ask(UdpClient& client, std::uint16_t port, std::uint16_t id,
                         std::chrono::milliseconds wait = 2s) {
  client.SendTo(port, MessageBuilder(id, 0x0100).Question("www.example.", 1).bytes());
  return client.Receive(wait);
}

TEST(Coalescing, HundredSimultaneousIdenticalMissesReachTheUpstreamOnce) {
  // The upstream takes 300 ms: every query below arrives while the first is out.
  FakeUpstream up(Behaviour::kAnswer, Answer(300), 300ms);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache\n forward . " + Upstream(up) + "\n}\n");
  std::vector<std::unique_ptr<UdpClient>> clients;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(std::make_unique<UdpClient>());
    // Each client spells the name its own way (DNS 0x20) and uses its own ID.
    const std::string name = i % 2 == 0 ? "www.example." : "WwW.ExAmple.";
    clients.back()->SendTo(
        fwd.port(),
        MessageBuilder(static_cast<std::uint16_t>(1000 + i), 0x0100).Question(name, 1).bytes());
  }
  for (int i = 0; i < 100; ++i) {
    const std::optional<Bytes> answer = clients[static_cast<std::size_t>(i)]->Receive(3s);
    ASSERT_TRUE(answer.has_value()) << "client " << i;
    EXPECT_EQ(wire::LoadU16(answer->data()), 1000 + i);
    const std::string name = i % 2 == 0 ? "www.example." : "WwW.ExAmple.";
    const Bytes wire_name = WireName(name);
    EXPECT_EQ(
        Bytes(answer->begin() + 12, answer->begin() + 12 + static_cast<long>(wire_name.size())),
        wire_name);
    EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kAnCount), 1);
  }
  EXPECT_EQ(up.queries(), 1);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.coalesced, 99u);
}

// rewrite: identical misses of a rewritten name coalesce too; each waiter gets the answer
// turned back to its own question (its spelling, its type), or SERVFAIL for it.
void AskRewrittenTwenty(FakeUpstream& up, std::uint16_t rcode, int queries) {
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n rewrite continue name exact www.example. "
      "a.much.longer.name.example.\n"
      " rewrite type TXT A\n cache\n forward . " +
      Upstream(up) + " {\n  max_connect_attempts 1\n }\n}\n");
  std::vector<std::unique_ptr<UdpClient>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<UdpClient>());
    const std::string name = i % 2 == 0 ? "www.example." : "WwW.ExAmple.";
    clients.back()->SendTo(fwd.port(), MessageBuilder(static_cast<std::uint16_t>(1000 + i), 0x0100)
                                           .Question(name, 16)
                                           .Opt(1232, 0)
                                           .bytes());
  }
  for (int i = 0; i < 20; ++i) {
    const std::optional<Bytes> answer = clients[static_cast<std::size_t>(i)]->Receive(4s);
    ASSERT_TRUE(answer.has_value()) << "client " << i;
    EXPECT_EQ(wire::LoadU16(answer->data()), 1000 + i);
    EXPECT_EQ(RcodeOf(*answer), rcode);
    const Bytes wire_name = WireName(i % 2 == 0 ? "www.example." : "WwW.ExAmple.");
    EXPECT_EQ(
        Bytes(answer->begin() + 12, answer->begin() + 12 + static_cast<long>(wire_name.size())),
        wire_name)
        << "client " << i;
    EXPECT_EQ(wire::LoadU16(answer->data() + 12 + wire_name.size()), 16) << "the client's type";
  }
  EXPECT_EQ(up.queries(), queries);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.coalesced, 19u);
  EXPECT_EQ(totals.rewrites, 20u);
}

TEST(Coalescing, RewrittenMissesCoalesceAndEachWaiterGetsItsOwnQuestion) {
  FakeUpstream up(Behaviour::kAnswer, Answer(300), 300ms);
  AskRewrittenTwenty(up, wire::rcode::kNoError, 1);
}

TEST(Coalescing, RewrittenWaitersGetServfailForTheirOwnQuestion) {
  FakeUpstream up(Behaviour::kDrop);
  AskRewrittenTwenty(up, wire::rcode::kServFail, 1);
}

TEST(Coalescing, ANameOnlyItsRewriteSendsToAForwardIsNeverShared) {
  // No forward takes a.corp.example. as asked, so it has no cache key: its A and AAAA
  // queries go upstream each, and each client gets the answer to its own type.
  FakeUpstream up(Behaviour::kAnswer, Answer(300), 300ms);
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n rewrite name suffix .corp.example. .internal.example.\n"
      " forward internal.example " +
      Upstream(up) + "\n}\n");
  UdpClient a, aaaa;
  a.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("a.corp.example.", 1).bytes());
  aaaa.SendTo(fwd.port(), MessageBuilder(2, 0x0100).Question("a.corp.example.", 28).bytes());
  for (auto [client, qtype] : {std::pair{&a, 1}, {&aaaa, 28}}) {
    const std::optional<Bytes> answer = client->Receive(3s);
    ASSERT_TRUE(answer.has_value()) << qtype;
    const Bytes name = WireName("a.corp.example.");
    EXPECT_EQ(wire::LoadU16(answer->data() + 12 + name.size()), qtype);
  }
  EXPECT_EQ(up.queries(), 2);
  EXPECT_EQ(fwd.Stop().coalesced, 0u);
}

TEST(Coalescing, WorksWithoutACacheAndFailsEveryWaiterWhenTheUpstreamIsDown) {
  FakeUpstream up(Behaviour::kDrop);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up) +
                " {\n  max_connect_attempts 1\n }\n}\n");
  std::vector<std::unique_ptr<UdpClient>> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(std::make_unique<UdpClient>());
    clients.back()->SendTo(
        fwd.port(),
        MessageBuilder(static_cast<std::uint16_t>(i), 0x0100).Question("www.example.", 1).bytes());
  }
  for (int i = 0; i < 10; ++i) {
    const std::optional<Bytes> answer = clients[static_cast<std::size_t>(i)]->Receive(4s);
    ASSERT_TRUE(answer.has_value()) << "client " << i;
    EXPECT_EQ(wire::LoadU16(answer->data()), i);
    EXPECT_EQ(RcodeOf(*answer), wire::rcode::kServFail);
  }
  EXPECT_EQ(up.queries(), 1);
}

TEST(Prefetch, PopularEntryIsRefreshedBeforeItExpires) {
  FakeUpstream up(Behaviour::kAnswer, Answer(2));
  // MINTTL 1 so a TTL-2 answer lives 2 s; refresh after 2 hits once half the life is gone.
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n cache {\n  success 1000 3600 1\n  prefetch 2 1m 50%\n }\n "
      "forward . " +
      Upstream(up) + "\n}\n");
  UdpClient client;
  ASSERT_TRUE(Ask(client, fwd.port(), 1).has_value());  // miss
  ASSERT_TRUE(Ask(client, fwd.port(), 2).has_value());  // hit 1
  ASSERT_TRUE(Ask(client, fwd.port(), 3).has_value());  // hit 2, but 2 s left of 2: too early
  EXPECT_EQ(up.queries(), 1);
  std::this_thread::sleep_for(1200ms);
  ASSERT_TRUE(Ask(client, fwd.port(), 4).has_value());  // hit 3, under 1 s left: prefetch
  for (int i = 0; i < 1000 && up.queries() < 2; ++i)
    std::this_thread::sleep_for(10ms);  // 10 s at most
  EXPECT_EQ(up.queries(), 2);
  // After the old entry's life, the refreshed one still answers from the cache.
  std::this_thread::sleep_for(1000ms);
  const std::optional<Bytes> late = Ask(client, fwd.port(), 5);
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(RcodeOf(*late), wire::rcode::kNoError);
  EXPECT_EQ(up.queries(), 2);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.cache_prefetches, 1u);
  EXPECT_EQ(totals.cache_hits, 4u);
}

TEST(ServeStale, ExpiredEntryAnswersWhileTheUpstreamIsDownUntilTheWindowEnds) {
  FakeUpstream up(Behaviour::kAnswer, Answer(1));
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n cache {\n  success 1000 3600 1\n  serve_stale 3s\n }\n "
      "forward . " +
      Upstream(up) + " {\n  max_connect_attempts 1\n }\n}\n");
  UdpClient client;
  ASSERT_TRUE(Ask(client, fwd.port(), 1).has_value());
  up.set_behaviour(Behaviour::kDrop);
  std::this_thread::sleep_for(1500ms);  // expired, inside the 3 s window
  const std::optional<Bytes> stale = Ask(client, fwd.port(), 2, 500ms);  // immediate: no wait
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(RcodeOf(*stale), wire::rcode::kNoError);
  EXPECT_EQ(wire::LoadU16(stale->data() + wire::header::kAnCount), 1);
  EXPECT_LE(MinTtl(*stale), 30u);
  // The stale answer triggered a background refresh, which the dead upstream ignored.
  for (int i = 0; i < 1000 && up.queries() < 2; ++i)
    std::this_thread::sleep_for(10ms);  // 10 s at most
  EXPECT_EQ(up.queries(), 2);
  std::this_thread::sleep_for(3000ms);  // the window is over
  const std::optional<Bytes> after = Ask(client, fwd.port(), 3, 4s);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(RcodeOf(*after), wire::rcode::kServFail);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.cache_stale, 1u);
  EXPECT_EQ(totals.cache_stale_refreshes, 1u);
}

TEST(ServeStale, VerifyAsksUpstreamFirstAndAStaleAnswerBeatsAServfail) {
  std::atomic<bool> fail{false};
  FakeUpstream up(Behaviour::kAnswer, Answer(1, &fail));
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n cache {\n  success 1000 3600 1\n  serve_stale 1h verify\n }\n "
      "forward . " +
      Upstream(up) + " {\n  max_connect_attempts 1\n }\n}\n");
  UdpClient client;
  ASSERT_TRUE(Ask(client, fwd.port(), 1).has_value());
  std::this_thread::sleep_for(1200ms);
  // Expired and the upstream is fine: verify gets a fresh answer from it.
  ASSERT_TRUE(Ask(client, fwd.port(), 2).has_value());
  EXPECT_EQ(up.queries(), 2);
  std::this_thread::sleep_for(1200ms);
  // Expired and the upstream says SERVFAIL: the stale answer is served instead...
  fail.store(true);
  std::optional<Bytes> answer = Ask(client, fwd.port(), 3);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kNoError);
  EXPECT_EQ(up.queries(), 3);
  // ...and the SERVFAIL was not cached over it: asked again, upstream then stale again.
  answer = Ask(client, fwd.port(), 4);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kNoError);
  EXPECT_EQ(up.queries(), 4);
  // Expired and the upstream is silent: the stale answer once the attempt times out.
  up.set_behaviour(Behaviour::kDrop);
  answer = Ask(client, fwd.port(), 5, 4s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kNoError);
  EXPECT_EQ(fwd.Stop().cache_stale, 3u);
}

TEST(ServeStale, VerifyAnswersStaleAtOnceWhenEveryUpstreamIsDownAndFailsFast) {
  // The production manifest's setting: both remote DNS servers gone, the health checks
  // have marked them down, failfast_all_unhealthy_upstreams. Verify has nobody to ask:
  // the stale answer comes at once, not a SERVFAIL.
  FakeUpstream up(Behaviour::kAnswer, Answer(1));
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n cache {\n  success 1000 3600 1\n  serve_stale 1h verify\n }\n "
      "forward . " +
      Upstream(up) + " {\n  max_fails 1\n  max_connect_attempts 2\n  read_timeout 100ms\n" +
      "  failfast_all_unhealthy_upstreams\n  health_check 10s\n }\n}\n");
  UdpClient client;
  ASSERT_TRUE(Ask(client, fwd.port(), 1).has_value());
  up.set_behaviour(Behaviour::kDrop);
  client.SendTo(fwd.port(), MessageBuilder(2, 0x0100).Question("other.example.", 1).bytes());
  ASSERT_TRUE(client.Receive(2s).has_value());  // its two timed-out attempts mark it down
  std::this_thread::sleep_for(1100ms);          // www.example. has expired
  const int asked = up.queries();
  const std::optional<Bytes> stale = Ask(client, fwd.port(), 3);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(RcodeOf(*stale), wire::rcode::kNoError);
  EXPECT_EQ(wire::LoadU16(stale->data() + wire::header::kAnCount), 1);
  // At once: nobody was asked, so there was no attempt to wait for (the counter says so,
  // not a stopwatch on a loaded machine).
  EXPECT_EQ(up.queries(), asked);
  EXPECT_EQ(fwd.Stop().cache_stale, 1u);
}

}  // namespace
}  // namespace ringdns::testing
