// A server block's query pipeline without a socket: built from a Corefile in CoreDNS's
// plugin order, each stage answering, dropping or passing a query on.
#include "core/pipeline/pipeline.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/base/version.h"
#include "core/config/loader.h"
#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/bytes.h"
#include "wire/patch.h"
#include "wire/record.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::MessageBuilder;

config::ServerBlock Block(const std::string& directives) {
  absl::StatusOr<config::Config> config = config::ParseCorefile(
      ".:5353 {\n" + directives + " forward . 127.0.0.1:53\n}\n", "test/Corefile");
  EXPECT_TRUE(config.ok()) << config.status();
  return config->blocks.front();
}

Pipeline Build(const std::string& directives) {
  absl::StatusOr<Pipeline> p = BuildPipeline(Block(directives));
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

// One query through `stages`, from `source` (10.0.0.1) over UDP; the answer, if any, is
// in `room`.
struct StageRun {
  Bytes room;
  ShardCounters counters;
  Verdict verdict = Verdict::kNext;
  std::size_t len = 0;

  StageRun(std::span<const Stage> stages, const std::string& qname, std::uint16_t qtype,
           std::uint32_t source = 0x0a000001, std::uint16_t qclass = 1) {
    room = MessageBuilder(77, wire::flag::kRd).Question(qname, qtype, qclass).Opt(1232, 0).bytes();
    const std::size_t size = room.size();
    room.resize(1232);
    const std::span<std::uint8_t> msg(room.data(), size);
    const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
    EXPECT_TRUE(q);
    sockaddr_in client{};
    client.sin_family = AF_INET;
    client.sin_addr.s_addr = htonl(source);
    QueryContext ctx{msg,   *q,   q->qname(msg), reinterpret_cast<const sockaddr*>(&client),
                     false, room, counters};
    verdict = Pipeline::Run(stages, ctx);
    len = ctx.answer_len;
    room.resize(len);
  }
};

TEST(Pipeline, StagesFollowCoreDnsOrderNotTheCorefiles) {
  // `any` comes after `acl` in CoreDNS's plugin.cfg: a blocked ANY query is refused,
  // not answered with HINFO, whichever the Corefile lists first.
  const Pipeline p = Build(" any\n acl {\n  block type ANY net 10.0.0.0/8\n }\n");
  ASSERT_EQ(p.before_cache.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<AclStage>(p.before_cache[0]));
  EXPECT_TRUE(std::holds_alternative<AnyStage>(p.before_cache[1]));
  const StageRun blocked(p.before_cache, "x.example.", 255);
  ASSERT_EQ(blocked.verdict, Verdict::kAnswered);
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(blocked.room);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->rcode, wire::rcode::kRefused);
  EXPECT_EQ(blocked.counters.acl_blocked.get(), 1u);
  EXPECT_EQ(blocked.counters.any_minimal.get(), 0u);
}

TEST(Pipeline, AnEmptyBlockHasNoStages) {
  const Pipeline p = Build("");
  EXPECT_TRUE(p.before_cache.empty());
  EXPECT_TRUE(p.after_cache.empty());
  EXPECT_EQ(StageRun(p.before_cache, "x.example.", 255).verdict, Verdict::kNext);
}

TEST(AnyStage, AnswersAnyWithOneHinfoAndPassesOtherTypesOn) {
  const Pipeline p = Build(" any\n");
  const StageRun minimal(p.before_cache, "Host.Example.", 255);
  ASSERT_EQ(minimal.verdict, Verdict::kAnswered);
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(minimal.room);
  ASSERT_TRUE(info) << wire::ToString(info.error());
  EXPECT_EQ(info->rcode, wire::rcode::kNoError);
  EXPECT_EQ(info->question.id, 77);
  EXPECT_EQ(info->counts[0], 1);
  EXPECT_EQ(info->min_ttl, 8482u);
  EXPECT_TRUE(info->opt().present());
  const std::string text(minimal.room.begin(), minimal.room.end());
  EXPECT_NE(text.find("\x0d"
                      "ANY obsoleted"
                      "\x0c"
                      "See RFC 8482"),
            std::string::npos);
  EXPECT_EQ(minimal.counters.any_minimal.get(), 1u);
  EXPECT_EQ(StageRun(p.before_cache, "host.example.", 1).verdict, Verdict::kNext);
  EXPECT_EQ(StageRun(p.before_cache, "host.example.", 28).verdict, Verdict::kNext);
}

TEST(AclStage, BlocksFiltersDropsAndAllowsByTheFirstMatchingRule) {
  const Pipeline p = Build(
      " acl {\n  allow type A net 10.0.0.1/32\n  block type A\n  filter type AAAA\n  drop type "
      "TXT\n }\n");
  EXPECT_EQ(StageRun(p.before_cache, "a.example.", 1).verdict, Verdict::kNext);  // allowed first
  const StageRun blocked(p.before_cache, "a.example.", 1, 0x0a000002);           // the next rule
  ASSERT_EQ(blocked.verdict, Verdict::kAnswered);
  const wire::Result<wire::ResponseInfo> refused = wire::WalkResponse(blocked.room);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->rcode, wire::rcode::kRefused);
  EXPECT_EQ(blocked.counters.acl_blocked.get(), 1u);
  const StageRun filtered(p.before_cache, "a.example.", 28);
  ASSERT_EQ(filtered.verdict, Verdict::kAnswered);
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(filtered.room);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->rcode, wire::rcode::kNoError);
  EXPECT_EQ(info->counts[0], 0);
  EXPECT_EQ(filtered.counters.acl_filtered.get(), 1u);
  const StageRun dropped(p.before_cache, "a.example.", 16);
  EXPECT_EQ(dropped.verdict, Verdict::kDrop);
  EXPECT_EQ(dropped.counters.acl_dropped.get(), 1u);
  EXPECT_EQ(StageRun(p.before_cache, "a.example.", 15).verdict,
            Verdict::kNext);  // no rule: allowed
}

// An answer for www.example. A: a CNAME to lb.example., then four A records of
// lb.example. (owners written as pointers into the CNAME), one A of other.example., two
// AAAA of lb.example. in the additional section, and an OPT.
Bytes LoadbalancedAnswer(std::uint16_t flags = 0x8180) {
  MessageBuilder b(9, flags);
  b.Question("www.example.", 1);
  b.AnswerAt(12, 5, 60, testing::Hex("026c62 076578616d706c65 00"));  // lb.example.
  const std::uint16_t lb = 12 + 13 + 4 + 12;                          // the CNAME's RDATA
  for (std::uint8_t i = 1; i <= 4; ++i) b.AnswerAt(lb, 1, 60, testing::ARdata(10, 0, 0, i));
  b.Answer("other.example.", 1, 60, testing::ARdata(192, 0, 2, 1));
  b.Additional("lb.example.", 28, 60, Bytes(16, 0x11));
  b.Additional("lb.example.", 28, 60, Bytes(16, 0x22));
  b.Opt(1232, 0);
  return b.bytes();
}

std::vector<wire::RecordView> RecordsOf(const Bytes& msg) {
  std::vector<wire::RecordView> out;
  const auto keep = [](void* context, const wire::RecordView& r) {
    static_cast<std::vector<wire::RecordView>*>(context)->push_back(r);
  };
  EXPECT_TRUE(wire::WalkResponse(msg, keep, &out));
  return out;
}

std::vector<Bytes> AddressesOf(const Bytes& msg, std::uint16_t type) {
  std::vector<Bytes> out;
  for (const wire::RecordView& r : RecordsOf(msg)) {
    if (r.type == type)
      out.emplace_back(msg.begin() + r.rdata_offset,
                       msg.begin() + static_cast<std::ptrdiff_t>(r.end()));
  }
  return out;
}

TEST(LoadbalanceStage, ShufflesEachAddressSetInPlaceAndKeepsTheMessageSound) {
  const Pipeline p = Build(" loadbalance\n");
  ASSERT_EQ(p.answer_hooks.size(), 1u);
  EXPECT_TRUE(p.before_cache.empty());
  RandomPool random;
  const Bytes original = LoadbalancedAnswer();
  std::set<Bytes> firsts;
  for (int i = 0; i < 200; ++i) {
    Bytes msg = original;
    AnswerContext ctx{msg, random};
    Pipeline::RunAnswer(p.answer_hooks, ctx);
    ASSERT_EQ(msg.size(), original.size());
    ASSERT_TRUE(wire::WalkResponse(msg)) << "the shuffled answer no longer parses";
    std::vector<Bytes> a = AddressesOf(msg, 1);
    ASSERT_EQ(a.size(), 6u - 1);
    // other.example.'s address never moves: it is another name's.
    EXPECT_EQ(a[4], testing::ARdata(192, 0, 2, 1));
    firsts.insert(a[0]);
    std::vector<Bytes> sorted(a.begin(), a.begin() + 4);
    std::sort(sorted.begin(), sorted.end());
    std::vector<Bytes> expected;
    for (std::uint8_t k = 1; k <= 4; ++k) expected.push_back(testing::ARdata(10, 0, 0, k));
    EXPECT_EQ(sorted, expected) << "an address was lost or duplicated";
    std::vector<Bytes> v6 = AddressesOf(msg, 28);
    std::sort(v6.begin(), v6.end());
    EXPECT_EQ(v6, (std::vector<Bytes>{Bytes(16, 0x11), Bytes(16, 0x22)}));
    // Everything but the addresses is as it was.
    for (std::size_t k = 0; k < msg.size(); ++k) {
      if (msg[k] != original[k]) {
        bool in_address = false;
        for (const wire::RecordView& r : RecordsOf(msg)) {
          if ((r.type == 1 || r.type == 28) && k >= r.rdata_offset && k < r.end())
            in_address = true;
        }
        ASSERT_TRUE(in_address) << "octet " << k << " changed outside an address";
      }
    }
  }
  EXPECT_EQ(firsts.size(), 4u) << "every address should come first now and then";
}

TEST(LoadbalanceStage, LeavesErrorsAndUnsoundAnswersAlone) {
  const Pipeline p = Build(" loadbalance round_robin\n");
  RandomPool random;
  for (int i = 0; i < 20; ++i) {
    const Bytes nxdomain = LoadbalancedAnswer(0x8183);
    Bytes msg = nxdomain;
    AnswerContext ctx{msg, random};
    Pipeline::RunAnswer(p.answer_hooks, ctx);
    EXPECT_EQ(msg, nxdomain);
    // Signed whole (TSIG): a shuffle would break the MAC.
    MessageBuilder tsig(9, 0x8180);
    tsig.Question("lb.example.", 1);
    for (std::uint8_t k = 1; k <= 4; ++k) tsig.AnswerAt(12, 1, 60, testing::ARdata(10, 0, 0, k));
    tsig.Additional("key.example.", 250, 0, Bytes(26, 0x01));
    const Bytes signed_answer = tsig.bytes();
    Bytes signed_msg = signed_answer;
    AnswerContext signed_ctx{signed_msg, random};
    Pipeline::RunAnswer(p.answer_hooks, signed_ctx);
    EXPECT_EQ(signed_msg, signed_answer);
    Bytes cut = LoadbalancedAnswer();
    cut.resize(cut.size() - 30);  // the last records overrun the message
    const Bytes before = cut;
    AnswerContext cut_ctx{cut, random};
    Pipeline::RunAnswer(p.answer_hooks, cut_ctx);
    EXPECT_EQ(cut, before);
  }
}

TEST(Config, LoadbalanceTakesRoundRobinAndRefusesTheRest) {
  for (const std::string line : {" loadbalance\n", " loadbalance round_robin\n"}) {
    absl::StatusOr<config::Config> c =
        config::ParseCorefile(".:5353 {\n" + line + " forward . 127.0.0.1\n}\n", "test/Corefile");
    ASSERT_TRUE(c.ok()) << c.status();
    const std::string text = config::FormatCorefile(*c);
    EXPECT_NE(text.find("\n    loadbalance round_robin\n"), std::string::npos) << text;
    absl::StatusOr<config::Config> again = config::ParseCorefile(text, "formatted");
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(again->blocks.front().loadbalance);
  }
  const auto error = [](const std::string& directives) {
    absl::StatusOr<config::Config> c = config::ParseCorefile(
        ".:5353 {\n" + directives + " forward . 127.0.0.1\n}\n", "test/Corefile");
    return c.ok() ? std::string("accepted") : std::string(c.status().message());
  };
  EXPECT_EQ(
      error(" loadbalance weighted /etc/weights\n").substr(0, 60),
      std::string("test/Corefile:2:14: loadbalance weighted is not supported by ").substr(0, 60));
  EXPECT_NE(error(" loadbalance random\n")
                .find("test/Corefile:2:14: unknown loadbalance policy 'random'"),
            std::string::npos);
  EXPECT_NE(
      error(" loadbalance\n loadbalance\n").find("test/Corefile:3:2: loadbalance is given twice"),
      std::string::npos);
}

// The TXT strings of an answer's records, in order, with each record's class and TTL.
struct Txt {
  std::vector<std::string> strings;
  std::set<std::uint16_t> classes;
  std::set<std::uint32_t> ttls;
};
Txt TxtOf(const Bytes& answer) {
  Txt out;
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  EXPECT_TRUE(info) << wire::ToString(info.error());
  if (!info) return out;
  std::size_t at = info->question.question_end;
  for (std::uint16_t i = 0; i < info->counts[0]; ++i) {
    EXPECT_EQ(wire::LoadU16(answer.data() + at), 0xc00c);  // the question's name
    EXPECT_EQ(wire::LoadU16(answer.data() + at + 2), 16);
    out.classes.insert(wire::LoadU16(answer.data() + at + 4));
    out.ttls.insert(wire::LoadU32(answer.data() + at + 6));
    const std::uint16_t rdlength = wire::LoadU16(answer.data() + at + 10);
    EXPECT_EQ(answer[at + 12] + 1u, rdlength);  // one character-string
    out.strings.emplace_back(answer.begin() + static_cast<std::ptrdiff_t>(at) + 13,
                             answer.begin() + static_cast<std::ptrdiff_t>(at) + 12 + rdlength);
    at += 12 + rdlength;
  }
  return out;
}

constexpr std::uint16_t kChaos = 3;
constexpr std::uint16_t kTxt = 16;

TEST(ChaosStage, AnswersTheFiveNamesOfClassChaosAndPassesTheRestOn) {
  const Pipeline p = Build(" chaos CoreDNS-001 info@coredns.io \"Second Author\"\n");
  ASSERT_EQ(p.before_cache.size(), 1u);
  for (const char* name : {"version.bind.", "VERSION.Server."}) {
    const StageRun run(p.before_cache, name, kTxt, 0x0a000001, kChaos);
    ASSERT_EQ(run.verdict, Verdict::kAnswered) << name;
    const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(run.room);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->rcode, wire::rcode::kNoError);
    EXPECT_EQ(info->question.id, 77);
    EXPECT_TRUE(info->opt().present());
    const Txt txt = TxtOf(run.room);
    EXPECT_EQ(txt.strings, std::vector<std::string>{"CoreDNS-001"}) << name;
    EXPECT_EQ(txt.classes, std::set<std::uint16_t>{kChaos});
    EXPECT_EQ(txt.ttls, std::set<std::uint32_t>{0});
    EXPECT_EQ(run.counters.chaos_answers.get(), 1u);
  }
  const StageRun authors(p.before_cache, "authors.bind.", kTxt, 0x0a000001, kChaos);
  ASSERT_EQ(authors.verdict, Verdict::kAnswered);
  EXPECT_EQ(TxtOf(authors.room).strings,
            (std::vector<std::string>{"info@coredns.io", "Second Author"}));
  std::array<char, 256> host{};
  ASSERT_EQ(::gethostname(host.data(), host.size() - 1), 0);
  for (const char* name : {"hostname.bind.", "id.server."}) {
    const StageRun run(p.before_cache, name, kTxt, 0x0a000001, kChaos);
    ASSERT_EQ(run.verdict, Verdict::kAnswered) << name;
    EXPECT_EQ(TxtOf(run.room).strings, std::vector<std::string>{host.data()}) << name;
  }
  // Not the five names, not TXT, not class CH: on to the forward, as in CoreDNS.
  EXPECT_EQ(StageRun(p.before_cache, "other.bind.", kTxt, 0x0a000001, kChaos).verdict,
            Verdict::kNext);
  EXPECT_EQ(StageRun(p.before_cache, "version.bind.", 1, 0x0a000001, kChaos).verdict,
            Verdict::kNext);
  EXPECT_EQ(StageRun(p.before_cache, "version.bind.", kTxt).verdict, Verdict::kNext);
  EXPECT_EQ(StageRun(p.before_cache, "x.version.bind.", kTxt, 0x0a000001, kChaos).verdict,
            Verdict::kNext);
}

TEST(ChaosStage, AnAuthorNamedTwiceIsOneRecord) {
  const Pipeline p = Build(" chaos v1 bob alice bob\n");
  const StageRun authors(p.before_cache, "authors.bind.", kTxt, 0x0a000001, kChaos);
  ASSERT_EQ(authors.verdict, Verdict::kAnswered);
  EXPECT_EQ(TxtOf(authors.room).strings, (std::vector<std::string>{"bob", "alice"}));
}

TEST(ChaosStage, WithoutArgumentsTheVersionIsRingdnssAndNoAuthorIsNamed) {
  const Pipeline p = Build(" chaos\n");
  const StageRun version(p.before_cache, "version.bind.", kTxt, 0x0a000001, kChaos);
  ASSERT_EQ(version.verdict, Verdict::kAnswered);
  EXPECT_EQ(TxtOf(version.room).strings,
            std::vector<std::string>{"ringdns-" + std::string(Version())});
  const StageRun authors(p.before_cache, "authors.bind.", kTxt, 0x0a000001, kChaos);
  ASSERT_EQ(authors.verdict, Verdict::kAnswered);
  EXPECT_TRUE(TxtOf(authors.room).strings.empty());
}

TEST(Config, ChaosRoundTripsAndRefusesWhatNoAnswerHolds) {
  for (const std::string line :
       {" chaos\n", " chaos v1\n", " chaos \"my version\" a b\n", " chaos \"\"\n"}) {
    absl::StatusOr<config::Config> c =
        config::ParseCorefile(".:5353 {\n" + line + " forward . 127.0.0.1\n}\n", "test/Corefile");
    ASSERT_TRUE(c.ok()) << c.status();
    const std::string text = config::FormatCorefile(*c);
    absl::StatusOr<config::Config> again = config::ParseCorefile(text, "formatted");
    ASSERT_TRUE(again.ok()) << again.status() << text;
    EXPECT_EQ(config::FormatCorefile(*again), text);
    ASSERT_TRUE(again->blocks.front().chaos.has_value());
    EXPECT_EQ(again->blocks.front().chaos->version, c->blocks.front().chaos->version) << line;
    EXPECT_EQ(again->blocks.front().chaos->authors, c->blocks.front().chaos->authors) << line;
  }
  const auto error = [](const std::string& directives) {
    absl::StatusOr<config::Config> c = config::ParseCorefile(
        ".:5353 {\n" + directives + " forward . 127.0.0.1\n}\n", "test/Corefile");
    return c.ok() ? std::string("accepted") : std::string(c.status().message());
  };
  EXPECT_NE(error(" chaos\n chaos\n").find("test/Corefile:3:2: chaos is given twice"),
            std::string::npos);
  std::string many = " chaos v";
  for (int i = 0; i < 100; ++i) many += " author-number-" + std::to_string(i);
  EXPECT_NE(error(many + "\n").find("chaos: the authors take more than 1000 octets"),
            std::string::npos);
  EXPECT_NE(error(" chaos v {\n }\n").find("test/Corefile:2:"), std::string::npos);
}

TEST(Config, AnyTakesNoArgumentsAndRoundTrips) {
  absl::StatusOr<config::Config> bad = config::ParseCorefile(
      ".:5353 {\n any everything\n forward . 127.0.0.1\n}\n", "test/Corefile");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("test/Corefile:2:"), std::string::npos) << bad.status();
  absl::StatusOr<config::Config> good =
      config::ParseCorefile(".:5353 {\n any\n forward . 127.0.0.1\n}\n", "test/Corefile");
  ASSERT_TRUE(good.ok()) << good.status();
  const std::string text = config::FormatCorefile(*good);
  EXPECT_NE(text.find("\n    any\n"), std::string::npos) << text;
  absl::StatusOr<config::Config> again = config::ParseCorefile(text, "formatted");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->blocks.front().any);
}

}  // namespace
}  // namespace ringdns::core
