// DNS cookies towards upstreams (RFC 7873): every UDP query carries ringdns's own client
// cookie for that upstream (never the client's), an upstream's server cookie is learnt
// and sent back, and once an upstream has shown cookies an answer without ours is a
// forgery. Against forging test upstreams, and against real ones: Knot with mod-cookies
// (BADCOOKIE on first contact), nsd with answer-cookie, and nsd without.
#include "wire/cookie.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "core/upstream/cookie_jar.h"
#include "integration/forwarder.h"
#include "integration/spoofing.h"
#include "testing/knot.h"
#include "testing/message_builder.h"
#include "testing/nsd.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

// The COOKIE a query to the upstream carried; status kNone when it had none.
wire::FoundCookie CookieOfQuery(const Bytes& query) {
  const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
  EXPECT_TRUE(q) << "ringdns sent an unsound query";
  return q ? wire::FindCookie(query, q->opt) : wire::FoundCookie{};
}

int CookiesIn(const Bytes& answer) {
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  EXPECT_TRUE(info);
  int n = 0;
  if (info)
    wire::ForEachOption(answer, info->opt(),
                        [&](std::uint16_t code, auto) { n += code == wire::edns::kOptionCookie; });
  return n;
}

Bytes CookieOption(std::span<const std::uint8_t> client, const Bytes& server) {
  Bytes option = Hex("000a");
  option.push_back(0);
  option.push_back(static_cast<std::uint8_t>(client.size() + server.size()));
  option.insert(option.end(), client.begin(), client.end());
  option.insert(option.end(), server.begin(), server.end());
  return option;
}

// `answer` with an OPT holding `option` (no OPT before).
Bytes WithOpt(Bytes answer, const Bytes& option, std::uint16_t rcode_high = 0) {
  const Bytes opt = MessageBuilder(0, 0).Opt(1232, std::uint32_t{rcode_high} << 24, option).bytes();
  answer.insert(answer.end(), opt.begin() + wire::header::kSize, opt.end());
  wire::StoreU16(
      answer.data() + wire::header::kArCount,
      static_cast<std::uint16_t>(wire::LoadU16(answer.data() + wire::header::kArCount) + 1));
  return answer;
}

// Attempts wait 4 s, as long as the corefile's read_timeout: an answer the test sends
// late (a sanitized build) is never overtaken by a retry.
void Patient(core::ShardOptions& o) { o.min_attempt_timeout_ms = 4000; }

const Bytes kServerCookie = Hex("01000000 5f5e1000 0102030405060708");

// The genuine answer to `query`, with the client cookie it carried and a server cookie.
Bytes GenuineWithCookie(const Bytes& query) {
  const wire::FoundCookie cookie = CookieOfQuery(query);
  EXPECT_EQ(cookie.status, wire::FoundCookie::Status::kOk);
  return WithOpt(Genuine(query), CookieOption(cookie.client, kServerCookie));
}

// Query 1 answered genuinely with a server cookie: from now on ringdns expects its own.
bool UpstreamShowsCookies(StubClient& client, const SilentUpstream& upstream) {
  client.Ask(1);
  sockaddr_in from{};
  const Bytes first = upstream.Receive(from);
  if (first.empty()) return false;
  upstream.SendTo(GenuineWithCookie(first), from);
  return IsGenuine(client.Answer(1));
}

TEST(Cookies, EveryUdpQueryCarriesRingdnsOwnCookieAndTheServerCookieOnceLearnt) {
  SilentUpstream upstream;
  Forwarder fwd(WaitingCorefile(upstream.port()), 1, Patient);
  UdpClient client;
  const Bytes client_cookie = Hex("000a 0008 a1a2a3a4a5a6a7a8");
  client.SendTo(fwd.port(),
                MessageBuilder(1, 0x0100).Question(kVictim, 1).Opt(1232, 0, client_cookie).bytes());
  sockaddr_in from{};
  const Bytes first = upstream.Receive(from);
  ASSERT_FALSE(first.empty());
  const wire::FoundCookie sent = CookieOfQuery(first);
  ASSERT_EQ(sent.status, wire::FoundCookie::Status::kOk);
  EXPECT_TRUE(sent.server.empty());
  EXPECT_NE(Bytes(sent.client.begin(), sent.client.end()),
            Hex("a1a2a3a4a5a6a7a8"));  // ringdns's, not the client's
  upstream.SendTo(GenuineWithCookie(first), from);
  const std::optional<Bytes> answer = client.Receive(3s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(CookiesIn(*answer), 0);  // ringdns's cookie is nobody else's business

  // A client without EDNS: the OPT ringdns added for its cookie goes, and comes out again.
  StubClient stub(fwd.port());
  stub.Ask(2);
  const Bytes second = upstream.Receive(from);
  ASSERT_FALSE(second.empty());
  const wire::FoundCookie again = CookieOfQuery(second);
  ASSERT_EQ(again.status, wire::FoundCookie::Status::kOk);
  EXPECT_EQ(Bytes(again.client.begin(), again.client.end()),
            Bytes(sent.client.begin(), sent.client.end()));
  EXPECT_EQ(Bytes(again.server.begin(), again.server.end()), kServerCookie);  // learnt
  upstream.SendTo(GenuineWithCookie(second), from);
  const std::optional<Bytes> plain = stub.Answer(2);
  ASSERT_TRUE(IsGenuine(plain));
  EXPECT_EQ(wire::LoadU16(plain->data() + wire::header::kArCount), 0);  // RFC 6891 section 7
}

TEST(Cookies, ACookielessForgeryIsRejectedOnceTheUpstreamHasShownCookies) {
  SilentUpstream upstream(/*tcp=*/true);
  Forwarder fwd(WaitingCorefile(upstream.port()), 1, Patient);
  StubClient client(fwd.port());
  ASSERT_TRUE(UpstreamShowsCookies(client, upstream));
  sockaddr_in from{};

  // An attacker who knows port, ID and spelling, but not the cookie: dropped, and the
  // query asked over TCP, where only the upstream can answer.
  client.Ask(2);
  const Bytes second = upstream.Receive(from);
  ASSERT_FALSE(second.empty());
  Bytes forged = Forged(wire::LoadU16(second.data()));
  EchoQuestionSpelling(second, forged);
  upstream.SendTo(forged, from);
  const Bytes over_tcp = upstream.ReceiveTcp();
  ASSERT_FALSE(over_tcp.empty());
  upstream.SendTcp(Genuine(over_tcp));
  EXPECT_TRUE(IsGenuine(client.Answer(2)));
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.dropped_cookie_missing.get(), 1u);
  EXPECT_EQ(totals.cookie_tcp_retries.get(), 1u);
  EXPECT_EQ(totals.cookies_given_up.get(), 0u);
}

TEST(Cookies, AnAnswerWithAnotherClientCookieIsDroppedAndTheQueryAskedOverTcp) {
  SilentUpstream upstream(/*tcp=*/true);
  Forwarder fwd(WaitingCorefile(upstream.port()), 1, Patient);
  StubClient client(fwd.port());
  client.Ask(1);
  sockaddr_in from{};
  const Bytes query = upstream.Receive(from);
  ASSERT_FALSE(query.empty());
  // Before ringdns has seen any cookie from the upstream: a guessed one is still wrong.
  Bytes forged = Forged(wire::LoadU16(query.data()));
  EchoQuestionSpelling(query, forged);
  upstream.SendTo(WithOpt(forged, CookieOption(Hex("0001020304050607"), kServerCookie)), from);
  const Bytes over_tcp = upstream.ReceiveTcp();
  ASSERT_FALSE(over_tcp.empty());
  upstream.SendTcp(Genuine(over_tcp));
  EXPECT_TRUE(IsGenuine(client.Answer(1)));
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.dropped_cookie_mismatch.get(), 1u);
  EXPECT_EQ(totals.cookie_tcp_retries.get(), 1u);
}

TEST(Cookies, AnUpstreamThatAnswersWithAnotherClientsCookieIsGivenUpAndEveryQueryAnswered) {
  // A cache in front of the upstream that kept the cookie of the client it first
  // answered (dnsdist without cookie hashing, some home routers).
  FakeUpstream up(
      Behaviour::kAnswer,
      [](const Bytes& query) {
        const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
        if (!q || !q->opt.present()) return EchoAnswer(query);
        return WithOpt(EchoAnswer(query), CookieOption(Hex("0001020304050607"), kServerCookie));
      },
      0ms, FakeUpstream::Transports::kUdpAndTcp);
  Forwarder fwd(WaitingCorefile(up.port()), 1, Patient);
  StubClient client(fwd.port());
  for (std::uint16_t id = 1; id <= 6; ++id) {
    client.Ask(id);
    const std::optional<Bytes> answer = client.Answer(id);
    ASSERT_TRUE(answer.has_value()) << id;
    EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kAnCount), 1) << id;
  }
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.dropped_cookie_mismatch.get(), core::CookieJar::kMissesToForget);
  EXPECT_EQ(totals.cookie_tcp_retries.get(), core::CookieJar::kMissesToForget);
  EXPECT_EQ(totals.cookies_given_up.get(), 1u);
  EXPECT_EQ(up.tcp_queries(), core::CookieJar::kMissesToForget);  // then plain UDP again
}

TEST(Cookies, WhenTheTcpCheckFailsTheQueryGoesOverUdpWithoutTheCookie) {
  // No TCP: the port number held, never listened on, so connections are refused. (Bound
  // after the UDP port, its TCP twin was sometimes taken: by a connection in TIME_WAIT.)
  SilentUpstream upstream(SilentUpstream::kRefusingTcp);
  Forwarder fwd(WaitingCorefile(upstream.port()), 1, Patient);
  StubClient client(fwd.port());
  ASSERT_TRUE(UpstreamShowsCookies(client, upstream));
  sockaddr_in from{};
  client.Ask(2);
  const Bytes second = upstream.Receive(from);
  ASSERT_FALSE(second.empty());
  upstream.SendTo(Genuine(second), from);  // without the cookie: a check over TCP, refused
  const Bytes again = upstream.Receive(from);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(CookieOfQuery(again).status, wire::FoundCookie::Status::kNone);
  EXPECT_EQ(wire::LoadU16(again.data() + wire::header::kArCount), 0);  // as the client asked
  upstream.SendTo(Genuine(again), from);
  EXPECT_TRUE(IsGenuine(client.Answer(2)));
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.cookie_tcp_failures.get(), 1u);
}

TEST(Cookies, AQueryWithAnotherAdditionalRecordGoesAsItCame) {
  // A TSIG must stay the last record, counted in ARCOUNT as signed: ringdns adds no OPT
  // to a query that has other additional records (an A record stands in for it here).
  SilentUpstream upstream;
  Forwarder fwd(WaitingCorefile(upstream.port()), 1, Patient);
  UdpClient client;
  const Bytes query = MessageBuilder(1, 0x0100)
                          .Question(kVictim, 1)
                          .Additional("key.example.", 1, 0, ARdata(192, 0, 2, 7))
                          .bytes();
  client.SendTo(fwd.port(), query);
  sockaddr_in from{};
  const Bytes sent = upstream.Receive(from);
  ASSERT_EQ(sent.size(), query.size());
  EXPECT_EQ(Bytes(sent.begin() + 2, sent.begin() + 12),
            Bytes(query.begin() + 2, query.begin() + 12));
  const std::size_t question_end = 12 + WireName(kVictim).size() + 4;
  EXPECT_EQ(Bytes(sent.begin() + static_cast<std::ptrdiff_t>(question_end), sent.end()),
            Bytes(query.begin() + static_cast<std::ptrdiff_t>(question_end), query.end()));
  // And its answer comes back as it is, whatever its OPT holds (a COOKIE turned into
  // PADDING would break the signature after it).
  Bytes answer = MessageBuilder(wire::LoadU16(sent.data()), 0x8180)
                     .Question(kVictim, 1)
                     .Answer(kVictim, 1, 300, kGenuineAddress)
                     .Opt(1232, 0, CookieOption(Hex("0102030405060708"), kServerCookie))
                     .Additional("key.example.", 1, 0, ARdata(192, 0, 2, 7))
                     .bytes();
  EchoQuestionSpelling(sent, answer);
  upstream.SendTo(answer, from);
  const std::optional<Bytes> got = client.Receive(3s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(Bytes(got->begin() + static_cast<std::ptrdiff_t>(question_end), got->end()),
            Bytes(answer.begin() + static_cast<std::ptrdiff_t>(question_end), answer.end()));
}

TEST(Cookies, BadCookieIsAskedAgainOnceWithTheNewServerCookieThenOverTcp) {
  SilentUpstream upstream(/*tcp=*/true);
  Forwarder fwd(WaitingCorefile(upstream.port()), 1, Patient);
  StubClient client(fwd.port());
  client.Ask(1);
  sockaddr_in from{};
  Bytes query = upstream.Receive(from);
  ASSERT_FALSE(query.empty());
  // BADCOOKIE (23 = 1 << 4 | 7): the header's RCODE 7, the OPT's extended RCODE 1.
  auto bad_cookie = [](const Bytes& q) {
    Bytes header_only =
        MessageBuilder(wire::LoadU16(q.data()), 0x8187).Question(kVictim, 1).bytes();
    EchoQuestionSpelling(q, header_only);
    return WithOpt(header_only, CookieOption(CookieOfQuery(q).client, kServerCookie), 1);
  };
  upstream.SendTo(bad_cookie(query), from);
  query = upstream.Receive(from);
  ASSERT_FALSE(query.empty());
  EXPECT_EQ(Bytes(CookieOfQuery(query).server.begin(), CookieOfQuery(query).server.end()),
            kServerCookie);
  upstream.SendTo(bad_cookie(query), from);  // again: over TCP now
  const Bytes over_tcp = upstream.ReceiveTcp();
  ASSERT_FALSE(over_tcp.empty());
  upstream.SendTcp(Genuine(over_tcp));
  EXPECT_TRUE(IsGenuine(client.Answer(1)));
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.cookie_retries.get(), 1u);
  EXPECT_EQ(totals.cookie_tcp_retries.get(), 1u);
}

TEST(Cookies, AnUpstreamWithoutEdnsIsAskedAgainWithoutTheOptAddedForTheCookie) {
  // RFC 6891 section 7: a server that knows no EDNS answers FORMERR, without an OPT.
  FakeUpstream up(Behaviour::kAnswer, [](const Bytes& query) {
    const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
    if (q && q->opt.present()) {
      Bytes formerr = MessageBuilder(0, 0x8181).Question(kVictim, 1).bytes();
      EchoQuestionSpelling(query, formerr);
      return formerr;
    }
    return EchoAnswer(query);
  });
  Forwarder fwd(WaitingCorefile(up.port()), 1, Patient);
  StubClient client(fwd.port());
  for (std::uint16_t id = 1; id <= 3; ++id) {
    client.Ask(id);
    const std::optional<Bytes> answer = client.Answer(id);
    ASSERT_TRUE(answer.has_value()) << id;
    EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kFlags) & 0xf, wire::rcode::kNoError)
        << id;
    EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kAnCount), 1) << id;
  }
  // Only the first query pays: the upstream gets no cookies, and no OPT, after it.
  EXPECT_EQ(fwd.Stop().cookie_formerr_retries.get(), 1u);
  EXPECT_EQ(up.queries(), 4);
}

// Asks `name` through ringdns, with or without EDNS, and returns the answer.
std::optional<Bytes> Ask(std::uint16_t port, std::uint16_t id, const std::string& name, bool edns) {
  UdpClient client;
  MessageBuilder query(id, 0x0100);
  query.Question(name, wire::rrtype::kSrv);
  if (edns) query.Opt(1232, 0, Hex("000a 0008 0102030405060708"));
  client.SendTo(port, query.bytes());
  return client.Receive(3s);
}

void ExpectSrvAnswer(const std::optional<Bytes>& answer, bool edns) {
  ASSERT_TRUE(answer.has_value());
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(*answer);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->rcode, wire::rcode::kNoError);
  EXPECT_EQ(info->counts[0], 3);
  EXPECT_EQ(info->opt().present(), edns);
  EXPECT_EQ(CookiesIn(*answer), 0);
}

constexpr char kSrvName[] = "_couchbase._tcp.cb-example-srv.remote.svc.cluster.local.";

std::string ForwardTo(std::uint16_t port) {
  return ".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(port) + "\n}\n";
}

TEST(Cookies, KnotWithCookiesSaysBadCookieFirstAndEveryQueryIsAnswered) {
  Knot knot({{"remote.svc.cluster.local.", ZonesDir() + "/remote.svc.cluster.local.zone"}},
            /*cookies=*/true);
  if (!knot.available()) GTEST_SKIP() << knot.error();
  Forwarder fwd(ForwardTo(knot.port()), 1);
  for (std::uint16_t id = 1; id <= 6; ++id)
    ExpectSrvAnswer(Ask(fwd.port(), id, kSrvName, id % 2 == 0), id % 2 == 0);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.cookie_retries.get(), 1u);  // first contact only: the server cookie is kept
  EXPECT_EQ(totals.cookie_tcp_retries.get(), 0u);
  EXPECT_EQ(totals.dropped_cookie_mismatch.get() + totals.dropped_cookie_missing.get(), 0u);
}

TEST(Cookies, NsdWithAndWithoutCookiesAnswersEveryQuery) {
  for (const bool cookies : {true, false}) {
    Nsd nsd({{"remote.svc.cluster.local.", ZonesDir() + "/remote.svc.cluster.local.zone"}},
            cookies ? "  answer-cookie: yes\n" : "");
    if (!nsd.available()) GTEST_SKIP() << nsd.error();
    Forwarder fwd(ForwardTo(nsd.port()), 1);
    for (std::uint16_t id = 1; id <= 6; ++id)
      ExpectSrvAnswer(Ask(fwd.port(), id, kSrvName, id % 2 == 0), id % 2 == 0);
    const core::ShardCounters totals = fwd.Stop();
    EXPECT_EQ(totals.cookie_retries.get() + totals.cookie_tcp_retries.get(), 0u) << cookies;
    EXPECT_EQ(totals.dropped_cookie_mismatch.get() + totals.dropped_cookie_missing.get(), 0u)
        << cookies;
  }
}

}  // namespace
}  // namespace ringdns::testing
