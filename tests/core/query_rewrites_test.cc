// What rewrite leaves in a shard's query buffers, without sockets: the question stashed
// beside a rewritten query, and the client's own query put back from it, in its buffer or
// in another, with everything after the question as it was.
#include "core/shard/query_rewrites.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/config/loader.h"
#include "core/shard/shard_layout.h"
#include "testing/hex.h"
#include "testing/message_builder.h"
#include "testing/ring_test.h"
#include "wire/message.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::MessageBuilder;

class QueryRewritesTest : public testing::RingTest {
 protected:
  void SetUp() override {
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const absl::Status s = buffers_.Init(ring_, 1, {.received = 2, .refresh = 0, .tcp = 2});
    if (s.code() == absl::StatusCode::kUnavailable) GTEST_SKIP() << s;
    ASSERT_TRUE(s.ok()) << s;
    tcp_ = buffers_.TakeTcp();
    other_ = buffers_.TakeTcp();
  }
  // Puts `message` in buffer `bid` and describes it as its client's query.
  Client Put(std::uint16_t bid, const Bytes& message) {
    std::memcpy(buffers_.Payload(bid), message.data(), message.size());
    const wire::Result<wire::QueryView> q =
        wire::ParseQuery({buffers_.Payload(bid), message.size()});
    EXPECT_TRUE(q);
    Client c;
    c.bid = bid;
    c.qname_len = static_cast<std::uint16_t>(q->qname_len);
    c.qtype = q->qtype;
    c.query_len = static_cast<std::uint16_t>(message.size());
    return c;
  }
  Bytes In(std::uint16_t bid, std::size_t len) {
    return Bytes(buffers_.Payload(bid), buffers_.Payload(bid) + len);
  }
  OriginalQuestion StashQuestionOf(std::uint16_t bid, std::size_t len) {
    const wire::Result<wire::QueryView> q = wire::ParseQuery({buffers_.Payload(bid), len});
    EXPECT_TRUE(q);
    const OriginalQuestion original = rewrites_.QuestionOf(bid, *q);
    rewrites_.Stash(bid, original);
    return original;
  }

  RelaxedCounter violations_;
  QueryBuffers buffers_{violations_};
  QueryRewrites rewrites_{buffers_};
  std::uint16_t tcp_ = 0;
  std::uint16_t other_ = 0;
};

TEST_F(QueryRewritesTest, TheClientsQueryComesBackWithItsQuestionAndItsOpt) {
  const Bytes asked =
      MessageBuilder(0x1234, 0x0100).Question("db.example.", 33).Opt(1232, 0).bytes();
  Put(tcp_, asked);
  const OriginalQuestion original = StashQuestionOf(tcp_, asked.size());
  EXPECT_EQ(original.qtype, 33);
  // The rules made it a longer name of another type; the OPT follows the question.
  const Bytes rewritten = MessageBuilder(0x1234, 0x0100)
                              .Question("db.remote.svc.cluster.local.", 1)
                              .Opt(1232, 0)
                              .bytes();
  const Client client = Put(tcp_, rewritten);

  const Client restored = rewrites_.Unrewritten(client, tcp_, rewrites_.Stashed(tcp_));
  EXPECT_EQ(restored.bid, tcp_);
  EXPECT_EQ(restored.qtype, 33);
  EXPECT_EQ(restored.qname_len, original.qname_len);
  ASSERT_EQ(restored.query_len, asked.size());
  EXPECT_EQ(In(tcp_, asked.size()), asked);
}

TEST_F(QueryRewritesTest, IntoAnotherBufferTheHeaderComesAlongAndTheRewrittenOneStays) {
  const Bytes asked = MessageBuilder(0xbeef, 0x0100).Question("a.example.", 1).bytes();
  Put(tcp_, asked);
  StashQuestionOf(tcp_, asked.size());
  const Bytes rewritten = MessageBuilder(0xbeef, 0x0100).Question("a.other.example.", 1).bytes();
  const Client client = Put(tcp_, rewritten);

  const Client restored = rewrites_.Unrewritten(client, other_, rewrites_.Stashed(tcp_));
  EXPECT_EQ(restored.bid, other_);
  EXPECT_EQ(In(other_, restored.query_len), asked);
  EXPECT_EQ(In(tcp_, rewritten.size()), rewritten);  // a send may still read it
}

TEST_F(QueryRewritesTest, AnOptAnEdns0RuleAddedIsDroppedForAClientThatSentNone) {
  const Bytes asked = MessageBuilder(7, 0x0100).Question("x.example.", 1).bytes();
  Put(tcp_, asked);
  StashQuestionOf(tcp_, asked.size());
  Client client =
      Put(tcp_, MessageBuilder(7, 0x0100).Question("x.example.", 1).Opt(1232, 0).bytes());
  client.opt_added = true;

  const Client restored = rewrites_.Unrewritten(client, tcp_, rewrites_.Stashed(tcp_));
  EXPECT_FALSE(restored.opt_added);
  EXPECT_EQ(In(tcp_, restored.query_len), asked);
}

TEST_F(QueryRewritesTest, TheNameAskedIsTheStashedOneOnlyForARewrittenSlot) {
  const Bytes asked = MessageBuilder(1, 0x0100).Question("short.example.", 1).bytes();
  Put(tcp_, asked);
  const OriginalQuestion original = StashQuestionOf(tcp_, asked.size());
  const Bytes rewritten = MessageBuilder(1, 0x0100).Question("long.name.example.", 1).bytes();
  const Client client = Put(tcp_, rewritten);
  absl::StatusOr<RewriteStage> rules = RewriteStage::Build({});
  ASSERT_TRUE(rules.ok());

  InflightSlot slot;
  slot.query_buffer = tcp_;
  slot.qname_len = client.qname_len;
  const std::span<const std::uint8_t> now = rewrites_.AskedQnameOf(slot);
  EXPECT_EQ(Bytes(now.begin(), now.end()), testing::WireName("long.name.example."));
  slot.rewrite = &*rules;
  const std::span<const std::uint8_t> before = rewrites_.AskedQnameOf(slot);
  EXPECT_EQ(Bytes(before.begin(), before.end()), testing::WireName("short.example."));

  const Client as_asked = QueryRewrites::AsAsked(client, original);
  EXPECT_EQ(as_asked.query_len, asked.size());
  EXPECT_EQ(as_asked.qname_len, original.qname_len);
  EXPECT_EQ(as_asked.rewrite, nullptr);
}

// The rules of `rewrite name suffix FROM TO answer auto`.
absl::StatusOr<RewriteStage> SuffixRule(const std::string& from = ".cb.test.",
                                        const std::string& to = ".remote.example.") {
  absl::StatusOr<config::Config> c =
      config::ParseCorefile(".:5353 {\n rewrite name suffix " + from + " " + to + " answer auto\n" +
                                " forward . 127.0.0.1:53\n}\n",
                            "test/Corefile");
  if (!c.ok()) return c.status();
  return RewriteStage::Build(c->blocks.front().rewrites);
}

TEST_F(QueryRewritesTest, AnUpstreamsAnswerIsReEncodedForTheClientOrNotAtAll) {
  rewrites_.MakeScratch();
  const absl::StatusOr<RewriteStage> rules = SuffixRule();
  ASSERT_TRUE(rules.ok()) << rules.status();
  const RewriteStage& rule = *rules;
  const Bytes asked = MessageBuilder(9, 0x0100).Question("_x._tcp.svc.cb.test.", 33).bytes();
  Put(tcp_, asked);
  const OriginalQuestion original = StashQuestionOf(tcp_, asked.size());
  InflightSlot slot;
  slot.query_buffer = tcp_;
  slot.rewrite = &rule;
  slot.rewrite_matched = 1;  // the first rule did its rewrite
  const Bytes answer = MessageBuilder(9, 0x8180)
                           .Question("_x._tcp.svc.remote.example.", 33)
                           .AnswerAt(12, 33, 60, testing::SrvRdata(0, 1, 53, "h.remote.example."))
                           .bytes();

  const std::optional<QueryRewrites::Reverted> reverted =
      rewrites_.RevertUpstreamAnswer(slot, original, answer);
  ASSERT_TRUE(reverted.has_value());
  EXPECT_EQ(reverted->info.rcode, 0);
  const wire::Result<wire::ResponseInfo> walked = wire::WalkResponse(reverted->answer);
  ASSERT_TRUE(walked);
  const Bytes expected = MessageBuilder(9, 0x8180)
                             .Question("_x._tcp.svc.cb.test.", 33)
                             .AnswerAt(12, 33, 60, testing::SrvRdata(0, 1, 53, "h.cb.test."))
                             .bytes();
  EXPECT_EQ(Bytes(reverted->answer.begin(), reverted->answer.end()), expected);

  // An answer cut inside its records does not re-encode: nothing reaches the client.
  const Bytes cut(answer.begin(), answer.end() - 3);
  EXPECT_FALSE(rewrites_.RevertUpstreamAnswer(slot, original, cut).has_value());
}

TEST_F(QueryRewritesTest, AStagesAnswerIsReEncodedInPlaceWhenItFitsItsRoom) {
  rewrites_.MakeScratch();
  const absl::StatusOr<RewriteStage> rules = SuffixRule();
  ASSERT_TRUE(rules.ok()) << rules.status();
  const RewriteStage& rule = *rules;
  const Bytes asked = MessageBuilder(3, 0x0100).Question("a.cb.test.", 1).bytes();
  Put(tcp_, asked);
  const OriginalQuestion original = StashQuestionOf(tcp_, asked.size());
  const Bytes answered = MessageBuilder(3, 0x8580)
                             .Question("a.remote.example.", 1)
                             .AnswerAt(12, 1, 60, testing::ARdata(192, 0, 2, 1))
                             .bytes();
  Client client = Put(tcp_, answered);
  client.rewrite = &rule;
  client.rewrite_matched = 1;
  const std::span<std::uint8_t> room(buffers_.Payload(tcp_), layout::kQueryRoom);

  const std::size_t len = rewrites_.RevertStageAnswer(client, room, answered.size(), original);
  const Bytes expected = MessageBuilder(3, 0x8580)
                             .Question("a.cb.test.", 1)
                             .AnswerAt(12, 1, 60, testing::ARdata(192, 0, 2, 1))
                             .bytes();
  ASSERT_EQ(len, expected.size());
  EXPECT_EQ(In(tcp_, len), expected);
}

TEST_F(QueryRewritesTest, AStagesAnswerThatGrowsPastItsRoomIsNotSent) {
  rewrites_.MakeScratch();
  const absl::StatusOr<RewriteStage> rules = SuffixRule(".remote.example.", ".cb.test.");
  ASSERT_TRUE(rules.ok()) << rules.status();
  const RewriteStage& rule = *rules;
  const Bytes asked = MessageBuilder(4, 0x0100).Question("a.remote.example.", 1).bytes();
  Put(tcp_, asked);
  const OriginalQuestion original = StashQuestionOf(tcp_, asked.size());
  // The client's name is longer than the upstream's: re-encoded, the answer grows.
  const Bytes answered = MessageBuilder(4, 0x8580)
                             .Question("a.cb.test.", 1)
                             .AnswerAt(12, 1, 60, testing::ARdata(192, 0, 2, 1))
                             .bytes();
  Client client = Put(tcp_, answered);
  client.rewrite = &rule;
  client.rewrite_matched = 1;
  // How long it grows to, learnt on a copy with all the room there is.
  Put(other_, answered);
  const std::size_t grown = rewrites_.RevertStageAnswer(
      client, {buffers_.Payload(other_), layout::kQueryRoom}, answered.size(), original);
  ASSERT_GT(grown, answered.size());
  // One octet short: nothing is written, the answer is left as it was.
  EXPECT_EQ(rewrites_.RevertStageAnswer(client, {buffers_.Payload(tcp_), grown - 1},
                                        answered.size(), original),
            0u);
  EXPECT_EQ(In(tcp_, answered.size()), answered);
  // Exactly the room it needs: re-encoded in place, as the copy was.
  EXPECT_EQ(rewrites_.RevertStageAnswer(client, {buffers_.Payload(tcp_), grown}, answered.size(),
                                        original),
            grown);
  EXPECT_EQ(In(tcp_, grown), In(other_, grown));
}

}  // namespace
}  // namespace ringdns::core
