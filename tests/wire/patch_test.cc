// The answers ringdns writes itself: RFC 1035 section 4.1.1 header rules, RFC 6891
// section 7 (OPT in answers, BADVERS), RFC 3225 (DO copied), RFC 8914 (EDE).
#include "wire/patch.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/response.h"

namespace ringdns::wire {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::MessageBuilder;

TEST(SetId, RewritesOnlyTheId) {
  Bytes msg = MessageBuilder(0x1111, flag::kRd).Question("a.", 1).bytes();
  const Bytes before = msg;
  SetId(msg, 0xbeef);
  EXPECT_EQ(GetId(msg), 0xbeef);
  EXPECT_TRUE(std::equal(msg.begin() + 2, msg.end(), before.begin() + 2));
}

TEST(BuildErrorAnswer, EchoesQuestionAndKeepsIdOpcodeRdCdInPlace) {
  Bytes msg = MessageBuilder(0x1234, flag::kRd | flag::kCd | flag::kAd)
                  .Question("Remote.Example.", rrtype::kSrv)
                  .bytes();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q);
  // Answer into the query's own buffer.
  const Result<std::size_t> len = BuildErrorAnswer(msg, *q, {rcode::kRefused}, msg);
  ASSERT_TRUE(len);
  msg.resize(*len);
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info) << ToString(info.error());
  EXPECT_EQ(info->question.id, 0x1234);
  EXPECT_EQ(info->rcode, rcode::kRefused);
  const std::uint16_t f = info->question.flags;
  EXPECT_TRUE(f & flag::kQr);
  EXPECT_TRUE(f & flag::kRd);
  EXPECT_TRUE(f & flag::kCd);
  EXPECT_FALSE(f & flag::kAd);
  EXPECT_FALSE(f & flag::kAa);
  EXPECT_FALSE(info->opt().present());  // no OPT without one in the query
  EXPECT_EQ(MatchAnswer(msg, 0x1234, opcode::kQuery,
                        Question{testing::WireName("remote.example."), rrtype::kSrv, 1}),
            Error::kOk);
}

TEST(BuildErrorAnswer, AddsOurOptWithDoCopiedAndEde) {
  const Bytes query = MessageBuilder(7, flag::kRd)
                          .Question("a.", 1)
                          .Opt(4096, 0x00008000, Hex("000a 0008 0102030405060708"))
                          .bytes();
  const Result<QueryView> q = ParseQuery(query);
  ASSERT_TRUE(q);
  Bytes out(512);
  const Result<std::size_t> len =
      BuildErrorAnswer(query, *q, {rcode::kServFail, true, ede::kNoReachableAuthority}, out);
  ASSERT_TRUE(len);
  out.resize(*len);
  const Result<ResponseInfo> info = WalkResponse(out);
  ASSERT_TRUE(info) << ToString(info.error());
  ASSERT_TRUE(info->opt().present());
  EXPECT_EQ(info->opt().udp_size, edns::kAdvertisedUdpSize);
  EXPECT_TRUE(info->opt().do_bit());
  EXPECT_EQ(info->rcode, rcode::kServFail);
  std::uint16_t ede_code = 0xffff;
  ForEachOption(out, info->opt(), [&](std::uint16_t code, std::span<const std::uint8_t> data) {
    if (code == edns::kOptionExtendedError && data.size() >= 2) ede_code = LoadU16(data.data());
  });
  EXPECT_EQ(ede_code, ede::kNoReachableAuthority);
}

TEST(BuildErrorAnswer, TruncatedSetsTcAndLeavesEverySectionEmpty) {
  Bytes msg =
      MessageBuilder(9, flag::kRd).Question("big.example.", rrtype::kTxt).Opt(1232, 0).bytes();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q);
  const Result<std::size_t> len =
      BuildErrorAnswer(msg, *q, {rcode::kNoError, false, ede::kOther, true}, msg);
  ASSERT_TRUE(len);
  msg.resize(*len);
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info) << ToString(info.error());
  EXPECT_TRUE(info->truncated());
  EXPECT_EQ(info->rcode, rcode::kNoError);
  EXPECT_EQ(info->counts, (SectionCounts{0, 0, 1})) << "only our OPT";
  EXPECT_TRUE(info->opt().present());
  EXPECT_EQ(MatchAnswer(msg, 9, opcode::kQuery,
                        Question{testing::WireName("big.example."), rrtype::kTxt, 1}),
            Error::kOk);
}

TEST(BuildErrorAnswer, BadversUsesTheExtendedRcodeRfc6891Section6_1_3) {
  const Bytes query = MessageBuilder(7, 0).Question("a.", 1).Opt(1232, 0x00010000).bytes();
  const Result<QueryView> q = ParseQuery(query);
  ASSERT_TRUE(q);
  Bytes out(512);
  const Result<std::size_t> len = BuildErrorAnswer(query, *q, {rcode::kBadVers}, out);
  ASSERT_TRUE(len);
  out.resize(*len);
  const Result<ResponseInfo> info = WalkResponse(out);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->rcode, rcode::kBadVers);
  EXPECT_EQ(info->opt().version, 0);  // we speak version 0
  EXPECT_EQ(LoadU16(out.data() + header::kFlags) & flag::kRcodeMask, 0);
}

TEST(BuildErrorAnswer, RefusesASmallBuffer) {
  const Bytes query = MessageBuilder(7, 0).Question("a.", 1).bytes();
  const Result<QueryView> q = ParseQuery(query);
  ASSERT_TRUE(q);
  Bytes out(10);
  EXPECT_EQ(BuildErrorAnswer(query, *q, {}, out).error(), Error::kBufferTooSmall);
}

TEST(BuildHeaderOnlyAnswer, FormerrForAnUnparsableQuery) {
  Bytes msg = Hex("abcd 0100 0002 0000 0000 0000 ffff");
  const Result<std::size_t> len = BuildHeaderOnlyAnswer(msg, rcode::kFormErr, msg);
  ASSERT_TRUE(len);
  msg.resize(*len);
  EXPECT_EQ(testing::ToHex(msg),
            "abcd8181000000000000"
            "0000");
  EXPECT_EQ(BuildHeaderOnlyAnswer(Hex("abcd"), rcode::kFormErr, msg).error(), Error::kTooShort);
}

TEST(SetRcode, SplitsTwelveBitsBetweenHeaderAndOpt) {
  Bytes msg = MessageBuilder(1, flag::kQr).Question("a.", 1).Opt(1232, 0).bytes();
  Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  SetRcode(msg, info->opt(), rcode::kBadVers);
  info = WalkResponse(msg);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->rcode, rcode::kBadVers);
  SetRcode(msg, info->opt(), rcode::kNxDomain);
  info = WalkResponse(msg);
  EXPECT_EQ(info->rcode, rcode::kNxDomain);
}

TEST(BuildQuery, WritesAQueryOurParserAcceptsWithDoAndCd) {
  const Bytes qname = testing::WireName("Cb.Remote.Example.");
  std::uint8_t buf[512];
  const Result<std::size_t> len =
      BuildQuery({0xabcd, flag::kRd | flag::kCd, qname, rrtype::kSrv, 1, true, true}, buf);
  ASSERT_TRUE(len);
  const std::span<const std::uint8_t> msg(buf, *len);
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q) << ToString(q.error());
  EXPECT_EQ(q->id, 0xabcd);
  EXPECT_EQ(q->flags, flag::kRd | flag::kCd);
  EXPECT_EQ(q->qtype, rrtype::kSrv);
  EXPECT_TRUE(std::equal(qname.begin(), qname.end(), q->qname(msg).begin()));
  ASSERT_TRUE(q->opt.present());
  EXPECT_TRUE(q->opt.do_bit());
  EXPECT_EQ(q->opt.udp_size, edns::kAdvertisedUdpSize);
}

TEST(BuildQuery, WithoutEdnsAndIntoASmallBuffer) {
  const Bytes qname = testing::WireName("a.");
  std::uint8_t buf[64];
  const Result<std::size_t> len =
      BuildQuery({1, flag::kRd, qname, rrtype::kA, 1, false, false}, buf);
  ASSERT_TRUE(len);
  EXPECT_EQ(*len, 12u + qname.size() + 4);
  EXPECT_FALSE(ParseQuery({buf, *len})->opt.present());
  EXPECT_EQ(BuildQuery({1, flag::kRd, qname, rrtype::kA, 1, true, false}, {buf, 20}).error(),
            Error::kBufferTooSmall);
}

TEST(BuildLocalAnswer, PutsRecordsBetweenTheQuestionAndTheOptInPlace) {
  Bytes msg =
      MessageBuilder(0x4242, flag::kRd).Question("Any.Example.", 255).Opt(1232, 0x00008000).bytes();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q);
  const Bytes rdata = Hex("03 414243 00");
  const LocalRecord records[] = {{13, 8482, rdata}, {16, 60, rdata}};
  msg.resize(512);
  const Result<std::size_t> len = BuildLocalAnswer(msg, *q, records, msg);
  ASSERT_TRUE(len);
  msg.resize(*len);
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info) << ToString(info.error());
  EXPECT_EQ(info->question.id, 0x4242);
  EXPECT_EQ(info->rcode, rcode::kNoError);
  EXPECT_EQ(info->counts[0], 2);  // answer
  EXPECT_EQ(info->counts[2], 1);  // additional: our OPT, after the records
  EXPECT_TRUE(info->opt().do_bit());
  EXPECT_EQ(info->min_ttl, 60u);
  // The first record: a pointer to the question's name, HINFO, IN, TTL 8482.
  const std::size_t at = q->question_end;
  EXPECT_EQ(LoadU16(msg.data() + at), 0xc00c);
  EXPECT_EQ(LoadU16(msg.data() + at + 2), 13);
  EXPECT_EQ(LoadU16(msg.data() + at + 4), 1);
  EXPECT_EQ(LoadU32(msg.data() + at + 6), 8482u);
  EXPECT_EQ(LoadU16(msg.data() + at + 10), rdata.size());
}

TEST(BuildLocalAnswer, AdditionalRecordsGoBeforeTheOptAndMayPrefixTheOwner) {
  Bytes msg = MessageBuilder(7, flag::kRd).Question("who.example.", 1).Opt(1232, 0).bytes();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q);
  const Bytes address = Hex("7f000001");
  const Bytes srv = Hex("0000 0000 1f90 00");
  const Bytes udp = Hex("04 5f756470");  // _udp
  const LocalRecord extra[] = {{1, 0, address}, {33, 0, srv, 1, udp}};
  msg.resize(512);
  const Result<std::size_t> len = BuildLocalAnswer(msg, *q, {}, msg, extra);
  ASSERT_TRUE(len);
  msg.resize(*len);
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info) << ToString(info.error());
  EXPECT_EQ(info->counts[0], 0);
  EXPECT_EQ(info->counts[2], 3);  // the A, the SRV, then our OPT
  EXPECT_TRUE(info->opt().present());
  // The SRV's owner: the label, then a pointer to the question's name.
  const std::size_t srv_at = q->question_end + 2 + 10 + address.size();
  EXPECT_EQ(Bytes(msg.begin() + static_cast<std::ptrdiff_t>(srv_at),
                  msg.begin() + static_cast<std::ptrdiff_t>(srv_at + 5)),
            udp);
  EXPECT_EQ(LoadU16(msg.data() + srv_at + 5), 0xc00c);
  EXPECT_EQ(LoadU16(msg.data() + srv_at + 7), 33);
  EXPECT_EQ(LoadU16(msg.data() + *len - 11 + 1), rrtype::kOpt);  // last: the OPT
}

TEST(BuildLocalAnswer, RefusesAnOwnerNameOverTwoHundredFiftyFiveOctets) {
  const std::string name = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                           std::string(63, 'c') + "." + std::string(59, 'd') + ".";  // 253 octets
  const Bytes query = MessageBuilder(1, flag::kRd).Question(name, 1).bytes();
  const Result<QueryView> q = ParseQuery(query);
  ASSERT_TRUE(q);
  const Bytes rdata = Hex("7f000001");
  const Bytes label = Hex("01 78");  // 2 more octets: 255, the most a name may have
  const Bytes longer = Hex("02 7878");
  Bytes out(1232);
  EXPECT_TRUE(
      BuildLocalAnswer(query, *q, {}, out,
                       std::array{LocalRecord{.type = 1, .rdata = rdata, .owner_labels = label}}));
  const Result<std::size_t> len =
      BuildLocalAnswer(query, *q, {}, out,
                       std::array{LocalRecord{.type = 1, .rdata = rdata, .owner_labels = longer}});
  ASSERT_FALSE(len);
  EXPECT_EQ(len.error(), Error::kNameTooLong);
}

TEST(BuildLocalAnswer, WritesNothingWhenTheRoomIsTooSmall) {
  const Bytes query = MessageBuilder(1, flag::kRd).Question("a.example.", 255).bytes();
  const Result<QueryView> q = ParseQuery(query);
  ASSERT_TRUE(q);
  const Bytes rdata(40, 0x01);
  const LocalRecord record{13, 1, rdata};
  Bytes out(query.size() + 20, 0xee);
  const Result<std::size_t> len = BuildLocalAnswer(query, *q, {&record, 1}, out);
  ASSERT_FALSE(len);
  EXPECT_EQ(len.error(), Error::kBufferTooSmall);
  EXPECT_EQ(out, Bytes(query.size() + 20, 0xee));
}

}  // namespace
}  // namespace ringdns::wire
