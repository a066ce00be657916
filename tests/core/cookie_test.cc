// DNS cookies towards upstreams without a socket: what CookieJar learns and rejects, and
// how LayOutQuery puts ringdns's COOKIE (and a 0x20 spelling) into a client's query.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/base/random.h"
#include "core/upstream/cookie_jar.h"
#include "core/upstream/outgoing_query.h"
#include "testing/alloc_counter.h"
#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/message.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::MessageBuilder;
using Found = wire::FoundCookie;
using Verdict = CookieJar::Verdict;

constexpr std::int64_t kNow = 1'000'000;

// The client cookie the jar sends `upstream`, read back from its option.
Bytes ClientOf(const CookieJar& jar, std::uint32_t upstream) {
  const std::span<const std::uint8_t> option = jar.Option(upstream);
  return Bytes(option.begin() + 4, option.begin() + 12);
}

Found Echo(const Bytes& client, const Bytes& server) {
  return {Found::Status::kOk, client, server};
}

TEST(CookieJar, EachUpstreamHasItsOwnClientCookieAndLearnsItsServerCookie) {
  RandomPool random;
  CookieJar jar(2, random);
  const Bytes a = ClientOf(jar, 0);
  EXPECT_NE(a, ClientOf(jar, 1));
  EXPECT_EQ(jar.Option(0).size(), 12u);  // client cookie alone at first
  EXPECT_FALSE(jar.Knows(0));
  const Bytes server = Hex("0100000011223344aabbccddeeff0011");
  EXPECT_EQ(jar.Judge(0, Echo(a, server), kNow), Verdict::kAccept);
  EXPECT_TRUE(jar.Knows(0));
  const std::span<const std::uint8_t> option = jar.Option(0);
  Bytes expected = Hex("000a 0018");
  expected.insert(expected.end(), a.begin(), a.end());
  expected.insert(expected.end(), server.begin(), server.end());
  EXPECT_EQ(Bytes(option.begin(), option.end()), expected);
  EXPECT_FALSE(jar.Knows(1));
}

TEST(CookieJar, AnotherClientCookieOrAMalformedOneIsAForgery) {
  RandomPool random;
  CookieJar jar(1, random);
  EXPECT_EQ(jar.Judge(0, Echo(Hex("0102030405060708"), {}), kNow), Verdict::kWrongCookie);
  EXPECT_EQ(jar.Judge(0, Found{Found::Status::kMalformed, {}, {}}, kNow), Verdict::kWrongCookie);
  EXPECT_FALSE(jar.Knows(0));  // nothing learnt from either
}

TEST(CookieJar, NoCookieIsFineUntilTheUpstreamShowsOneThenMissing) {
  RandomPool random;
  CookieJar jar(1, random);
  EXPECT_EQ(jar.Judge(0, Found{}, kNow), Verdict::kAccept);
  EXPECT_EQ(jar.Judge(0, Echo(ClientOf(jar, 0), Hex("0100000011223344aabbccddeeff0011")), kNow),
            Verdict::kAccept);
  EXPECT_EQ(jar.Judge(0, Found{}, kNow), Verdict::kMissing);
}

TEST(CookieJar, GivesUpOnAnUpstreamAfterAnswersWithoutOurCookieWithinAMinute) {
  RandomPool random;
  CookieJar jar(2, random);
  const Bytes client = ClientOf(jar, 0);
  const Bytes server = Hex("0100000011223344aabbccddeeff0011");
  ASSERT_EQ(jar.Judge(0, Echo(client, server), kNow), Verdict::kAccept);
  // Misses spread thinner than kMissesToForget a minute never give up.
  std::int64_t now = kNow;
  for (int minute = 0; minute < 3; ++minute, now += CookieJar::kMissWindowMs) {
    for (int i = 1; i < CookieJar::kMissesToForget; ++i) {
      // Missing and another client's (a cache before the upstream) count alike.
      EXPECT_EQ(jar.Judge(0, i % 2 ? Found{} : Echo(Hex("0102030405060708"), server), now + i),
                i % 2 ? Verdict::kMissing : Verdict::kWrongCookie);
    }
  }
  EXPECT_FALSE(jar.GaveUp(0));
  // Answers with our cookie in between do not excuse misses within the minute (a cache
  // in front that returns none on its hits).
  for (int i = 1; i < CookieJar::kMissesToForget; ++i) {
    EXPECT_EQ(jar.Judge(0, Found{}, now + i), Verdict::kMissing);
    EXPECT_EQ(jar.Judge(0, Echo(client, {}), now + i), Verdict::kAccept);
  }
  EXPECT_TRUE(jar.Knows(0));  // an echo without a server cookie keeps the one known
  EXPECT_EQ(jar.Judge(0, Found{}, now + 10), Verdict::kGaveUp);
  EXPECT_TRUE(jar.GaveUp(0));
  EXPECT_TRUE(jar.Option(0).empty());  // nothing is sent to it any more
  EXPECT_FALSE(jar.GaveUp(1));
  EXPECT_EQ(jar.Option(1).size(), 12u);
}

// Joins what LayOutQuery laid out, as the kernel would send it.
Bytes Joined(const OutgoingQuery& out) {
  Bytes sent;
  for (std::size_t i = 0; i < out.count; ++i) {
    const auto* p = static_cast<const std::uint8_t*>(out.parts[i].iov_base);
    sent.insert(sent.end(), p, p + out.parts[i].iov_len);
  }
  EXPECT_EQ(sent.size(), out.size());
  return sent;
}

std::vector<std::pair<std::uint16_t, Bytes>> Options(const Bytes& msg) {
  const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
  EXPECT_TRUE(q) << "not a sound query";
  std::vector<std::pair<std::uint16_t, Bytes>> options;
  if (!q) return options;
  wire::ForEachOption(msg, q->opt, [&](std::uint16_t code, std::span<const std::uint8_t> data) {
    options.emplace_back(code, Bytes(data.begin(), data.end()));
  });
  return options;
}

struct Laid {
  Bytes query;
  std::uint16_t qname_len = 0;
  std::uint16_t opt_rdata = kNoOpt;
};

Laid Query(const Bytes& msg) {
  const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
  EXPECT_TRUE(q);
  Laid laid{msg, q->qname_len, kNoOpt};
  if (q->opt.present())
    laid.opt_rdata = q->opt.end() == msg.size() ? q->opt.rdata_offset : kOptNotLast;
  return laid;
}

const Bytes kCookie = Hex("000a 0008 0102030405060708");

TEST(LayOutQuery, APlainQueryGoesAsItIs) {
  Laid q = Query(MessageBuilder(1, 0x0100).Question("www.example.", 1).bytes());
  std::uint8_t scratch[kOutgoingScratchSize];
  const OutgoingQuery out = LayOutQuery(q.query, q.qname_len, q.opt_rdata, {}, {}, scratch);
  EXPECT_EQ(out.count, 1u);
  EXPECT_EQ(Joined(out), q.query);
}

TEST(LayOutQuery, AQueryWithoutOptGetsOneCarryingTheCookie) {
  Laid q = Query(MessageBuilder(1, 0x0100).Question("www.example.", 1).bytes());
  const Bytes before = q.query;
  std::uint8_t scratch[kOutgoingScratchSize];
  const Bytes sent = Joined(LayOutQuery(q.query, q.qname_len, q.opt_rdata, {}, kCookie, scratch));
  EXPECT_EQ(q.query, before);  // the client's bytes are not touched
  const wire::Result<wire::QueryView> parsed = wire::ParseQuery(sent);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(wire::LoadU16(sent.data() + wire::header::kArCount), 1);
  EXPECT_EQ(parsed->opt.udp_size, 512 + 11 + 44);  // what the client may take, and our OPT
  EXPECT_FALSE(parsed->opt.do_bit());
  EXPECT_EQ(Options(sent),
            (std::vector<std::pair<std::uint16_t, Bytes>>{{10, Hex("0102030405060708")}}));
}

TEST(LayOutQuery, AQueryWithALastOptGetsTheCookieAmongItsOptionsAndTheSpelling) {
  Laid q = Query(MessageBuilder(1, 0x0100)
                     .Question("www.example.", 1)
                     .Opt(4096, 0x8000, Hex("0003 0000"))
                     .bytes());
  const Bytes spelled = testing::WireName("WwW.eXaMpLe.");
  std::uint8_t scratch[kOutgoingScratchSize];
  const Bytes sent =
      Joined(LayOutQuery(q.query, q.qname_len, q.opt_rdata, spelled, kCookie, scratch));
  const wire::Result<wire::QueryView> parsed = wire::ParseQuery(sent);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->opt.udp_size, 4096);  // the client's EDNS stays the client's
  EXPECT_TRUE(parsed->opt.do_bit());
  EXPECT_EQ(Options(sent),
            (std::vector<std::pair<std::uint16_t, Bytes>>{{10, Hex("0102030405060708")}, {3, {}}}));
  EXPECT_EQ(
      Bytes(sent.begin() + 12, sent.begin() + 12 + static_cast<std::ptrdiff_t>(spelled.size())),
      spelled);
}

TEST(LayOutQuery, AnOptARecordFollowsGetsNoCookie) {
  Laid q = Query(MessageBuilder(1, 0x0100)
                     .Question("www.example.", 1)
                     .Opt(1232, 0)
                     .Additional("x.example.", 1, 60, testing::ARdata(192, 0, 2, 9))
                     .bytes());
  ASSERT_EQ(q.opt_rdata, kOptNotLast);
  std::uint8_t scratch[kOutgoingScratchSize];
  EXPECT_EQ(Joined(LayOutQuery(q.query, q.qname_len, q.opt_rdata, {}, kCookie, scratch)), q.query);
}

TEST(LayOutQuery, AllocatesNothing) {
  Laid q = Query(MessageBuilder(1, 0x0100).Question("www.example.", 1).Opt(1232, 0).bytes());
  std::uint8_t scratch[kOutgoingScratchSize];
  std::size_t total = 0;
  EXPECT_EQ(testing::CountAllocations([&] {
              for (int i = 0; i < 100; ++i) {
                total +=
                    LayOutQuery(q.query, q.qname_len, q.opt_rdata, {}, kCookie, scratch).size();
              }
            }),
            0u);
  EXPECT_EQ(total, 100 * (q.query.size() + kCookie.size()));
}

}  // namespace
}  // namespace ringdns::core
