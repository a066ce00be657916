// bufsize, whoami and minimal as stages, without a socket: what each does to a query, from a
// Corefile through BuildPipeline, and how each reads back from -validate's form.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include "core/base/random.h"
#include "core/config/loader.h"
#include "core/pipeline/pipeline.h"
#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/bytes.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::MessageBuilder;

absl::StatusOr<config::Config> Parse(const std::string& directives) {
  return config::ParseCorefile(".:5353 {\n" + directives + " forward example.org 127.0.0.1:53\n}\n",
                               "test/Corefile");
}

Pipeline Build(const std::string& directives) {
  absl::StatusOr<config::Config> config = Parse(directives);
  EXPECT_TRUE(config.ok()) << config.status();
  absl::StatusOr<Pipeline> p = BuildPipeline(config->blocks.front());
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

// One query through `stages` from `client`; `payload` 0 sends no OPT.
struct QueryRun {
  Bytes room;
  ShardCounters counters;
  Verdict verdict = Verdict::kNext;
  std::uint16_t udp_size = 0;
  std::size_t query_len = 0;

  QueryRun(std::span<const Stage> stages, const std::string& qname, std::uint16_t payload,
           const sockaddr* client, bool tcp = false) {
    MessageBuilder b(77, wire::flag::kRd);
    b.Question(qname, wire::rrtype::kA);
    if (payload != 0) b.Opt(payload, 0);
    room = b.bytes();
    query_len = room.size();
    room.resize(1232);
    const std::span<std::uint8_t> msg(room.data(), query_len);
    const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
    EXPECT_TRUE(q);
    const std::uint16_t start = tcp ? 0xffff : wire::MaxUdpAnswerSize(q->opt);
    QueryContext ctx{msg, *q, q->qname(msg), client, tcp, room, counters, start};
    verdict = Pipeline::Run(stages, ctx);
    udp_size = ctx.udp_size;
    room.resize(verdict == Verdict::kAnswered ? ctx.answer_len : query_len);
  }
  // The query's EDNS payload size as it now stands in the buffer (the forward sends it).
  std::uint16_t QueryPayload() const { return wire::ParseQuery(room)->opt.udp_size; }
};

sockaddr_in V4(const char* address, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, address, &a.sin_addr);
  return a;
}

sockaddr_in6 V6(const char* address, std::uint16_t port) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  inet_pton(AF_INET6, address, &a.sin6_addr);
  return a;
}

const sockaddr* Sa(const auto& a) { return reinterpret_cast<const sockaddr*>(&a); }

TEST(BufsizeStage, LowersALargerPayloadSizeInPlaceAndLeavesTheRestAlone) {
  const Pipeline p = Build(" bufsize 1100\n");
  ASSERT_EQ(p.query_edits.size(), 1u);
  EXPECT_EQ(p.bufsize, 1100);
  const sockaddr_in client = V4("10.0.0.1", 40000);
  const QueryRun big(p.query_edits, "a.example.org.", 4096, Sa(client));
  EXPECT_EQ(big.verdict, Verdict::kNext);
  EXPECT_EQ(big.QueryPayload(), 1100);  // what the upstream will be asked with
  EXPECT_EQ(big.udp_size, 1100);        // and what the client's answer is cut to
  EXPECT_EQ(big.counters.bufsize_lowered.get(), 1u);
  // Smaller sizes are never raised; a query without an OPT gets none.
  const QueryRun small(p.query_edits, "a.example.org.", 800, Sa(client));
  EXPECT_EQ(small.QueryPayload(), 800);
  EXPECT_EQ(small.udp_size, 800);
  const QueryRun plain(p.query_edits, "a.example.org.", 0, Sa(client));
  EXPECT_FALSE(wire::ParseQuery(plain.room)->opt.present());
  EXPECT_EQ(plain.udp_size, 512);
  EXPECT_EQ(plain.room.size(), plain.query_len);
  // Over TCP the query is lowered for the upstream; the client's answer is not cut.
  const QueryRun tcp(p.query_edits, "a.example.org.", 4096, Sa(client), true);
  EXPECT_EQ(tcp.QueryPayload(), 1100);
  EXPECT_EQ(tcp.udp_size, 0xffff);
}

TEST(BufsizeStage, LeavesASignedQuerysOctetsAndStillCutsItsAnswer) {
  const Pipeline p = Build(" bufsize 1100\n");
  MessageBuilder b(77, wire::flag::kRd);
  b.Question("a.example.org.", wire::rrtype::kA).Opt(4096, 0);
  b.Additional("key.", 250, 0,
               testing::Hex("0b686d61632d73686132353600 000000000000 012c 0000 004d 0000 0000"));
  Bytes room = b.bytes();
  const Bytes sent = room;
  room.resize(1232);
  const std::span<std::uint8_t> msg(room.data(), sent.size());
  const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
  ASSERT_TRUE(q);
  ShardCounters counters;
  const sockaddr_in client = V4("10.0.0.1", 40000);
  QueryContext ctx{msg, *q, q->qname(msg), Sa(client), false, room, counters, 4096};
  EXPECT_EQ(Pipeline::Run(p.query_edits, ctx), Verdict::kNext);
  EXPECT_EQ(Bytes(room.begin(), room.begin() + static_cast<std::ptrdiff_t>(sent.size())),
            sent);  // the MAC's octets
  EXPECT_EQ(ctx.udp_size, 1100);
}

TEST(BufsizeStage, ComesFirstWhateverTheCorefileOrder) {
  const Pipeline p = Build(" any\n chaos\n bufsize\n");
  ASSERT_EQ(p.query_edits.size(), 1u);  // before dnstap sees the query, and before any and chaos
  EXPECT_TRUE(std::holds_alternative<BufsizeStage>(p.query_edits[0]));
  EXPECT_EQ(p.before_cache.size(), 2u);
  const sockaddr_in client = V4("10.0.0.1", 40000);
  EXPECT_EQ(QueryRun(p.query_edits, "a.example.org.", 4096, Sa(client)).QueryPayload(),
            1232);  // the default
}

// The additional section's two records, read back.
struct Whoami {
  std::uint16_t address_type = 0;
  Bytes address;
  std::string srv_label;
  std::uint16_t port = 0;
};

Whoami ReadWhoami(const Bytes& answer) {
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  EXPECT_TRUE(info) << wire::ToString(info.error());
  EXPECT_EQ(info->rcode, wire::rcode::kNoError);
  EXPECT_NE(wire::LoadU16(answer.data() + wire::header::kFlags) & wire::flag::kAa, 0);
  EXPECT_EQ(info->counts[0], 0);  // CoreDNS's whoami: an empty answer section
  EXPECT_EQ(info->counts[2], 3);  // address, SRV, OPT
  Whoami w;
  std::size_t at = info->question.question_end;
  EXPECT_EQ(wire::LoadU16(answer.data() + at), 0xc00c);
  w.address_type = wire::LoadU16(answer.data() + at + 2);
  EXPECT_EQ(wire::LoadU32(answer.data() + at + 6), 0u);  // TTL 0
  const std::uint16_t rdlength = wire::LoadU16(answer.data() + at + 10);
  w.address.assign(answer.begin() + static_cast<std::ptrdiff_t>(at + 12),
                   answer.begin() + static_cast<std::ptrdiff_t>(at + 12 + rdlength));
  at += 12 + rdlength;
  w.srv_label.assign(answer.begin() + static_cast<std::ptrdiff_t>(at + 1),
                     answer.begin() + static_cast<std::ptrdiff_t>(at + 1 + answer[at]));
  at += 1u + answer[at];
  EXPECT_EQ(wire::LoadU16(answer.data() + at), 0xc00c);
  EXPECT_EQ(wire::LoadU16(answer.data() + at + 2), wire::rrtype::kSrv);
  EXPECT_EQ(wire::LoadU16(answer.data() + at + 10), 7);
  w.port = wire::LoadU16(answer.data() + at + 12 + 4);
  EXPECT_EQ(answer[at + 12 + 6], 0);  // target: the root
  return w;
}

TEST(WhoamiStage, AnswersWithTheClientsAddressAndPortInTheAdditionalSection) {
  const Pipeline p = Build(" whoami\n");
  EXPECT_TRUE(p.before_cache.empty());
  ASSERT_EQ(p.after_forward.size(), 1u);
  const sockaddr_in v4 = V4("192.0.2.7", 40212);
  const QueryRun a(p.after_forward, "Who.Example.", 1232, Sa(v4));
  ASSERT_EQ(a.verdict, Verdict::kAnswered);
  EXPECT_EQ(a.counters.whoami_answers.get(), 1u);
  Whoami w = ReadWhoami(a.room);
  EXPECT_EQ(w.address_type, wire::rrtype::kA);
  EXPECT_EQ(w.address, testing::Hex("c0000207"));
  EXPECT_EQ(w.srv_label, "_udp");
  EXPECT_EQ(w.port, 40212);

  const sockaddr_in6 v6 = V6("2001:db8::5", 53001);
  w = ReadWhoami(QueryRun(p.after_forward, "x.", 1232, Sa(v6), true).room);
  EXPECT_EQ(w.address_type, wire::rrtype::kAaaa);
  EXPECT_EQ(w.address, testing::Hex("20010db8000000000000000000000005"));
  EXPECT_EQ(w.srv_label, "_tcp");
  EXPECT_EQ(w.port, 53001);

  // An IPv4 client on a dual-stack socket is an IPv4 client.
  const sockaddr_in6 mapped = V6("::ffff:198.51.100.9", 1);
  w = ReadWhoami(QueryRun(p.after_forward, ".", 1232, Sa(mapped)).room);
  EXPECT_EQ(w.address_type, wire::rrtype::kA);
  EXPECT_EQ(w.address, testing::Hex("c6336409"));
}

// `answer` through the block's answer hooks, as the shard sends it to one client.
Bytes Minimised(const Pipeline& p, Bytes answer) {
  RandomPool random;
  AnswerContext ctx{answer, random};
  Pipeline::RunAnswer(p.answer_hooks, ctx);
  answer.resize(ctx.message.size());
  return answer;
}

MessageBuilder Positive() {
  MessageBuilder b(9, 0x8180);
  b.Question("www.example.", 1).AnswerAt(12, 1, 300, testing::ARdata(192, 0, 2, 1));
  return b;
}

TEST(MinimalStage, APositiveAnswerLosesItsAuthorityAndAdditionalRecordsButKeepsItsOpt) {
  const Pipeline p = Build(" minimal\n");
  ASSERT_EQ(p.answer_hooks.size(), 1u);
  MessageBuilder full = Positive();
  full.Authority("example.", 2, 300, testing::WireName("ns1.example."));
  full.Additional("ns1.example.", 1, 300, testing::ARdata(192, 0, 2, 53));
  full.Opt(1232, 0x8000, testing::Hex("000a 0008 0102030405060708"));  // DO, and a COOKIE
  MessageBuilder expected = Positive();
  expected.Opt(1232, 0x8000, testing::Hex("000a 0008 0102030405060708"));
  const Bytes out = Minimised(p, full.bytes());
  EXPECT_EQ(out, expected.bytes());
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(out);
  ASSERT_TRUE(info) << wire::ToString(info.error());
  EXPECT_TRUE(info->opt().do_bit());
  EXPECT_EQ(Minimised(p, out), out);  // already minimal: untouched
  // Without an OPT: nothing in the additional section at all.
  MessageBuilder plain = Positive();
  plain.Authority("example.", 2, 300, testing::WireName("ns1.example."));
  EXPECT_EQ(Minimised(p, plain.bytes()), Positive().bytes());
}

TEST(MinimalStage, NegativeAnswersReferralsErrorsAndSignedAnswersPassWhole) {
  const Pipeline p = Build(" minimal\n");
  const Bytes soa = testing::SoaRdata("ns1.example.", "admin.example.", 1, 7200, 900, 86400, 60);
  MessageBuilder nxdomain(9, 0x8183);
  nxdomain.Question("gone.example.", 1).Authority("example.", 6, 60, soa).Opt(1232, 0);
  EXPECT_EQ(Minimised(p, nxdomain.bytes()), nxdomain.bytes());
  MessageBuilder nodata(9, 0x8180);
  nodata.Question("www.example.", 28).Authority("example.", 6, 60, soa).Opt(1232, 0);
  EXPECT_EQ(Minimised(p, nodata.bytes()), nodata.bytes());
  MessageBuilder referral(9, 0x8100);
  referral.Question("www.sub.example.", 1)
      .Authority("sub.example.", 2, 300, testing::WireName("ns.sub.example."));
  referral.Additional("ns.sub.example.", 1, 300, testing::ARdata(192, 0, 2, 9));
  EXPECT_EQ(Minimised(p, referral.bytes()), referral.bytes());
  MessageBuilder signed_whole = Positive();
  signed_whole.Authority("example.", 2, 300, testing::WireName("ns1.example."));
  signed_whole.Additional(
      "key.", 250, 0,
      testing::Hex("0b686d61632d73686132353600 000000000000 012c 0000 0001 0000 0000"));
  EXPECT_EQ(Minimised(p, signed_whole.bytes()), signed_whole.bytes());
  // Not a sound message: left as it came.
  Bytes broken = Positive().bytes();
  broken.push_back(0);
  EXPECT_EQ(Minimised(p, broken), broken);
}

TEST(WhoamiStage, ANameTooLongForTheSrvOwnerGetsTheAddressAlone) {
  const Pipeline p = Build(" whoami\n");
  // 63 + 63 + 63 + 59 letters in labels, and the root: 253 octets on the wire.
  const std::string name = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                           std::string(63, 'c') + "." + std::string(59, 'd') + ".";
  const sockaddr_in v4 = V4("192.0.2.7", 40212);
  const QueryRun r(p.after_forward, name, 1232, Sa(v4));
  ASSERT_EQ(r.verdict, Verdict::kAnswered);
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(r.room);
  ASSERT_TRUE(info) << wire::ToString(info.error());
  EXPECT_EQ(info->counts[2], 2);  // the A record and the OPT
}

TEST(Config, BufsizeWhoamiAndMinimalRoundTripAndRefuseWhatCoreDnsRefuses) {
  for (const std::string line :
       {" bufsize\n", " bufsize 512\n", " bufsize 4096\n", " whoami\n", " minimal\n"}) {
    absl::StatusOr<config::Config> c = Parse(line);
    ASSERT_TRUE(c.ok()) << line << c.status();
    const std::string text = config::FormatCorefile(*c);
    absl::StatusOr<config::Config> again = config::ParseCorefile(text, "normalised");
    ASSERT_TRUE(again.ok()) << text << again.status();
    EXPECT_EQ(again->blocks.front().bufsize, c->blocks.front().bufsize) << line;
    EXPECT_EQ(again->blocks.front().whoami, c->blocks.front().whoami) << line;
    EXPECT_EQ(again->blocks.front().minimal, c->blocks.front().minimal) << line;
    EXPECT_EQ(config::FormatCorefile(*again), text);
  }
  EXPECT_EQ(Parse(" bufsize\n")->blocks.front().bufsize, 1232);
  auto error = [](const std::string& directives) {
    return std::string(Parse(directives).status().message());
  };
  EXPECT_NE(error(" bufsize 511\n").find("test/Corefile:2:10: "), std::string::npos)
      << error(" bufsize 511\n");
  EXPECT_NE(error(" bufsize 4097\n").find("512"), std::string::npos);
  EXPECT_NE(error(" bufsize -5\n").find("bufsize SIZE"), std::string::npos)
      << error(" bufsize -5\n");
  EXPECT_NE(error(" bufsize 1232 1232\n").find("bufsize [SIZE]"), std::string::npos)
      << error(" bufsize 1232 1232\n");
  EXPECT_NE(error(" bufsize\n bufsize\n").find("bufsize is given twice"), std::string::npos);
  EXPECT_NE(error(" whoami please\n").find("test/Corefile:2:9"), std::string::npos)
      << error(" whoami please\n");
  EXPECT_NE(error(" whoami\n whoami\n").find("whoami is given twice"), std::string::npos);
  EXPECT_NE(error(" minimal yes\n").find("test/Corefile:2:10"), std::string::npos)
      << error(" minimal yes\n");
}

}  // namespace
}  // namespace ringdns::core
