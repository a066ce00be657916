// A server block's query pipeline without a socket: built from a Corefile in CoreDNS's
// plugin order, each stage answering, dropping or passing a query on.
#include "core/pipeline/pipeline.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <string>

#include "core/config/loader.h"
#include "testing/message_builder.h"
#include "wire/bytes.h"
#include "wire/patch.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::MessageBuilder;

config::ServerBlock Block(const std::string& directives) {
  absl::StatusOr<config::Config> config =
      config::ParseCorefile(".:5353 {\n" + directives + " forward . 127.0.0.1:53\n}\n", "test/Corefile");
  EXPECT_TRUE(config.ok()) << config.status();
  return config->blocks.front();
}

Pipeline Build(const std::string& directives) {
  absl::StatusOr<Pipeline> p = BuildPipeline(Block(directives));
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

// One query through `stages`, from 10.0.0.1 over UDP; the answer, if any, is in `room`.
struct StageRun {
  Bytes room;
  ShardCounters counters;
  Verdict verdict = Verdict::kNext;
  std::size_t len = 0;

  StageRun(std::span<const Stage> stages, const std::string& qname, std::uint16_t qtype) {
    room = MessageBuilder(77, wire::flag::kRd).Question(qname, qtype).Opt(1232, 0).bytes();
    const std::size_t size = room.size();
    room.resize(1232);
    const std::span<const std::uint8_t> msg(room.data(), size);
    const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
    EXPECT_TRUE(q);
    sockaddr_in client{};
    client.sin_family = AF_INET;
    client.sin_addr.s_addr = htonl(0x0a000001);
    QueryContext ctx{msg, *q, q->qname(msg), reinterpret_cast<const sockaddr*>(&client), false,
                     room, counters};
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
  EXPECT_NE(text.find("\x0d" "ANY obsoleted" "\x0c" "See RFC 8482"), std::string::npos);
  EXPECT_EQ(minimal.counters.any_minimal.get(), 1u);
  EXPECT_EQ(StageRun(p.before_cache, "host.example.", 1).verdict, Verdict::kNext);
  EXPECT_EQ(StageRun(p.before_cache, "host.example.", 28).verdict, Verdict::kNext);
}

TEST(AclStage, BlocksFiltersDropsAndAllowsByTheFirstMatchingRule) {
  const Pipeline p = Build(
      " acl {\n  allow type A net 10.0.0.1/32\n  block type A\n  filter type AAAA\n  drop type TXT\n }\n");
  EXPECT_EQ(StageRun(p.before_cache, "a.example.", 1).verdict, Verdict::kNext);  // allowed first
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
  EXPECT_EQ(StageRun(p.before_cache, "a.example.", 15).verdict, Verdict::kNext);  // no rule: allowed
}

TEST(Config, AnyTakesNoArgumentsAndRoundTrips) {
  absl::StatusOr<config::Config> bad =
      config::ParseCorefile(".:5353 {\n any everything\n forward . 127.0.0.1\n}\n", "test/Corefile");
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
