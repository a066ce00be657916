// bufsize and whoami as stages, without a socket: what each does to a query, from a
// Corefile through BuildPipeline, and how each reads back from -validate's form.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

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
  return config::ParseCorefile(".:5353 {\n" + directives + " forward example.org 127.0.0.1:53\n}\n", "test/Corefile");
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

  QueryRun(std::span<const Stage> stages, const std::string& qname, std::uint16_t payload, const sockaddr* client,
      bool tcp = false) {
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
  ASSERT_EQ(p.before_cache.size(), 1u);
  const sockaddr_in client = V4("10.0.0.1", 40000);
  const QueryRun big(p.before_cache, "a.example.org.", 4096, Sa(client));
  EXPECT_EQ(big.verdict, Verdict::kNext);
  EXPECT_EQ(big.QueryPayload(), 1100);  // what the upstream will be asked with
  EXPECT_EQ(big.udp_size, 1100);        // and what the client's answer is cut to
  EXPECT_EQ(big.counters.bufsize_lowered.get(), 1u);
  // Smaller sizes are never raised; a query without an OPT gets none.
  const QueryRun small(p.before_cache, "a.example.org.", 800, Sa(client));
  EXPECT_EQ(small.QueryPayload(), 800);
  EXPECT_EQ(small.udp_size, 800);
  const QueryRun plain(p.before_cache, "a.example.org.", 0, Sa(client));
  EXPECT_FALSE(wire::ParseQuery(plain.room)->opt.present());
  EXPECT_EQ(plain.udp_size, 512);
  EXPECT_EQ(plain.room.size(), plain.query_len);
  // Over TCP the query is lowered for the upstream; the client's answer is not cut.
  const QueryRun tcp(p.before_cache, "a.example.org.", 4096, Sa(client), true);
  EXPECT_EQ(tcp.QueryPayload(), 1100);
  EXPECT_EQ(tcp.udp_size, 0xffff);
}

TEST(BufsizeStage, ComesFirstWhateverTheCorefileOrder) {
  const Pipeline p = Build(" any\n chaos\n bufsize\n");
  ASSERT_EQ(p.before_cache.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<BufsizeStage>(p.before_cache[0]));
  const sockaddr_in client = V4("10.0.0.1", 40000);
  EXPECT_EQ(QueryRun(p.before_cache, "a.example.org.", 4096, Sa(client)).QueryPayload(), 1232);  // the default
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

TEST(Config, BufsizeAndWhoamiRoundTripAndRefuseWhatCoreDnsRefuses) {
  for (const std::string line : {" bufsize\n", " bufsize 512\n", " bufsize 4096\n", " whoami\n"}) {
    absl::StatusOr<config::Config> c = Parse(line);
    ASSERT_TRUE(c.ok()) << line << c.status();
    const std::string text = config::FormatCorefile(*c);
    absl::StatusOr<config::Config> again = config::ParseCorefile(text, "normalised");
    ASSERT_TRUE(again.ok()) << text << again.status();
    EXPECT_EQ(again->blocks.front().bufsize, c->blocks.front().bufsize) << line;
    EXPECT_EQ(again->blocks.front().whoami, c->blocks.front().whoami) << line;
    EXPECT_EQ(config::FormatCorefile(*again), text);
  }
  EXPECT_EQ(Parse(" bufsize\n")->blocks.front().bufsize, 1232);
  auto error = [](const std::string& directives) { return std::string(Parse(directives).status().message()); };
  EXPECT_NE(error(" bufsize 511\n").find("test/Corefile:2:10: "), std::string::npos) << error(" bufsize 511\n");
  EXPECT_NE(error(" bufsize 4097\n").find("512"), std::string::npos);
  EXPECT_NE(error(" bufsize -5\n").find("bufsize SIZE"), std::string::npos) << error(" bufsize -5\n");
  EXPECT_NE(error(" bufsize 1232 1232\n").find("bufsize [SIZE]"), std::string::npos) << error(" bufsize 1232 1232\n");
  EXPECT_NE(error(" bufsize\n bufsize\n").find("bufsize is given twice"), std::string::npos);
  EXPECT_NE(error(" whoami please\n").find("test/Corefile:2:9"), std::string::npos) << error(" whoami please\n");
  EXPECT_NE(error(" whoami\n whoami\n").find("whoami is given twice"), std::string::npos);
}

}  // namespace
}  // namespace ringdns::core
