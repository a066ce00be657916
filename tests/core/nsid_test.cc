// nsid without a socket: the directive's parsing and printing, where the stage sits in
// the pipeline, and the NSID option (RFC 5001) the answer hook writes, grows or leaves out.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/base/version.h"
#include "core/config/loader.h"
#include "core/pipeline/nsid_stage.h"
#include "core/pipeline/pipeline.h"
#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::MessageBuilder;

absl::StatusOr<config::Config> Parse(const std::string& directives) {
  return config::ParseCorefile(".:5353 {\n" + directives + " forward . 127.0.0.1\n}\n",
                               "test/Corefile");
}

Pipeline Build(const std::string& directives) {
  absl::StatusOr<config::Config> c = Parse(directives);
  EXPECT_TRUE(c.ok()) << c.status();
  absl::StatusOr<Pipeline> p = BuildPipeline(c->blocks.front());
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

// An option as it lies in an OPT's RDATA.
Bytes Option(std::uint16_t code, const std::string& data) {
  Bytes out = {static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code),
               static_cast<std::uint8_t>(data.size() >> 8), static_cast<std::uint8_t>(data.size())};
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// A NOERROR answer with one A record and an OPT holding `options`.
Bytes Answer(const Bytes& options = {}) {
  return MessageBuilder(7, 0x8180)
      .Question("www.example.", 1)
      .AnswerAt(12, 1, 60, testing::ARdata(192, 0, 2, 1))
      .Opt(1232, 0, options)
      .bytes();
}

// The options of `msg`'s OPT, in order, as (code, data).
std::vector<std::pair<std::uint16_t, std::string>> OptionsOf(const Bytes& msg) {
  std::vector<std::pair<std::uint16_t, std::string>> out;
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(msg);
  EXPECT_TRUE(info) << "the answer no longer parses";
  if (!info || !info->opt().present()) return out;
  wire::ForEachOption(msg, info->opt(),
                      [&](std::uint16_t code, std::span<const std::uint8_t> data) {
                        out.emplace_back(code, std::string(data.begin(), data.end()));
                      });
  return out;
}

// Runs the block's answer hooks on `answer` in a buffer of `buffer` octets.
Bytes RunHooks(const Pipeline& p, const Bytes& answer, bool nsid_requested,
               std::size_t buffer = 4096) {
  RandomPool random;
  Bytes room = answer;
  room.resize(std::max(buffer, answer.size()));
  AnswerContext ctx{{room.data(), answer.size()}, random, {room.data(), buffer}, nsid_requested};
  Pipeline::RunAnswer(p.answer_hooks, ctx);
  room.resize(ctx.message.size());
  return room;
}

using Options = std::vector<std::pair<std::uint16_t, std::string>>;

TEST(NsidStage, AnAnswerToAnNsidQueryGetsDataAsRawOctets) {
  const Pipeline p = Build(" nsid my server\n");
  EXPECT_TRUE(p.nsid);
  const Bytes out = RunHooks(p, Answer(), true);
  EXPECT_EQ(out.size(), Answer().size() + 4 + 9);
  EXPECT_EQ(OptionsOf(out), (Options{{3, "my server"}}));
}

TEST(NsidStage, AnswersToQueriesWithoutNsidAreLeftAsTheyAre) {
  const Pipeline p = Build(" nsid ringdns-1\n");
  EXPECT_EQ(RunHooks(p, Answer(), false), Answer());
  // An upstream's NSID too: CoreDNS touches only answers to queries that asked.
  const Bytes upstream = Answer(Option(3, "upstream"));
  EXPECT_EQ(RunHooks(p, upstream, false), upstream);
}

TEST(NsidStage, AnUpstreamsNsidIsReplacedAndOtherOptionsKept) {
  const Pipeline p = Build(" nsid ringdns-1\n");
  const Bytes upstream = Answer(testing::Concat(
      {Option(3, "upstream-id"), Option(15, std::string("\x00\x03", 2)), Option(3, "x")}));
  EXPECT_EQ(OptionsOf(RunHooks(p, upstream, true)),
            (Options{{15, std::string("\x00\x03", 2)}, {3, "ringdns-1"}}));
}

TEST(NsidStage, GrowsOnlyIntoTheRoomItIsGiven) {
  const Pipeline p = Build(" nsid 0123456789\n");
  const Bytes answer = Answer();
  // Exactly enough room, then one octet short: no NSID, the answer untouched.
  EXPECT_EQ(OptionsOf(RunHooks(p, answer, true, answer.size() + 14)), (Options{{3, "0123456789"}}));
  EXPECT_EQ(RunHooks(p, answer, true, answer.size() + 13), answer);
  // No room at all (a context built without one).
  RandomPool random;
  Bytes msg = answer;
  AnswerContext ctx{msg, random};
  ctx.nsid_requested = true;
  Pipeline::RunAnswer(p.answer_hooks, ctx);
  EXPECT_EQ(Bytes(ctx.message.begin(), ctx.message.end()), answer);
  // Without room for ours, an upstream's NSID still goes: it would name the upstream.
  const Bytes upstream = Answer(Option(3, "up"));
  const Bytes out = RunHooks(p, upstream, true, upstream.size());
  EXPECT_TRUE(OptionsOf(out).empty());
  EXPECT_EQ(out.size(), upstream.size() - 6);
}

TEST(NsidStage, LeavesAnswersWithoutAnOptLastOrUnsoundAlone) {
  const Pipeline p = Build(" nsid ringdns-1\n");
  const Bytes no_opt = MessageBuilder(7, 0x8180).Question("www.example.", 1).bytes();
  EXPECT_EQ(RunHooks(p, no_opt, true), no_opt);
  // A TSIG after the OPT signs the octets the option would go between.
  MessageBuilder signed_answer(7, 0x8180);
  signed_answer.Question("www.example.", 1)
      .Opt(1232, 0)
      .Additional("key.example.", 250, 0, Bytes(26, 0x01));
  EXPECT_EQ(RunHooks(p, signed_answer.bytes(), true), signed_answer.bytes());
  Bytes cut = Answer();
  cut.resize(cut.size() - 3);  // the OPT overruns the message
  EXPECT_EQ(RunHooks(p, cut, true), cut);
}

TEST(NsidStage, AnEmptyDataIsAnEmptyOption) {
  const Pipeline p = Build(" nsid \"\"\n");
  EXPECT_EQ(OptionsOf(RunHooks(p, Answer(), true)), (Options{{3, ""}}));
}

TEST(NsidStage, WithoutDataItIsTheHostName) {
  const Pipeline p = Build(" nsid\n");
  const std::string host = HostName();
  EXPECT_EQ(OptionsOf(RunHooks(p, Answer(), true)),
            (Options{{3, host.empty() ? "localhost" : host}}));
}

TEST(NsidStage, RunsAfterTheOtherAnswerHooksAsItComesFirstInPluginCfg) {
  // minimal, after nsid in plugin.cfg, edits the answer first: the NSID is added to the
  // minimal answer and survives it.
  const Pipeline p = Build(" minimal\n nsid ringdns-1\n loadbalance\n");
  ASSERT_EQ(p.answer_hooks.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<NsidStage>(p.answer_hooks.back()));
  MessageBuilder b(7, 0x8180);
  b.Question("www.example.", 1).AnswerAt(12, 1, 60, testing::ARdata(192, 0, 2, 1));
  b.Authority("example.", 2, 60, testing::WireName("ns.example.")).Opt(1232, 0);
  const Bytes out = RunHooks(p, b.bytes(), true);
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(out);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->counts[1], 0);
  EXPECT_EQ(OptionsOf(out), (Options{{3, "ringdns-1"}}));
}

TEST(Config, NsidRoundTripsJoiningItsWordsAndIsGivenOnce) {
  for (const std::string line : {" nsid\n", " nsid ringdns-1\n", " nsid my server\n",
                                 " nsid \"a \\\"b\\\" #c\"\n", " nsid \"\"\n"}) {
    absl::StatusOr<config::Config> c = Parse(line);
    ASSERT_TRUE(c.ok()) << c.status();
    const std::string text = config::FormatCorefile(*c);
    absl::StatusOr<config::Config> again = config::ParseCorefile(text, "formatted");
    ASSERT_TRUE(again.ok()) << again.status() << text;
    EXPECT_EQ(config::FormatCorefile(*again), text);
    ASSERT_TRUE(again->blocks.front().nsid.has_value()) << line;
    EXPECT_EQ(again->blocks.front().nsid->data, c->blocks.front().nsid->data) << line;
  }
  EXPECT_EQ(Parse(" nsid my  server\n")->blocks.front().nsid->data, "my server");
  EXPECT_EQ(Parse(" nsid\n")->blocks.front().nsid->data, std::nullopt);
  EXPECT_NE(config::FormatCorefile(*Parse(" nsid my server\n")).find("    nsid \"my server\"\n"),
            std::string::npos);
  const auto error = [](const std::string& directives) {
    absl::StatusOr<config::Config> c = Parse(directives);
    return c.ok() ? std::string("accepted") : std::string(c.status().message());
  };
  EXPECT_NE(error(" nsid a\n nsid b\n").find("test/Corefile:3:2: nsid is given twice"),
            std::string::npos);
  EXPECT_NE(error(" nsid a {\n }\n").find("test/Corefile:2:"), std::string::npos);
}

}  // namespace
}  // namespace ringdns::core
