// WalkResponse, MatchAnswer, CapTtls, DropEdnsOption, DropOptForClientWithout, TruncateForUdp:
// answer validation (RFC 5452), TTL rules (RFC 2181 section 8, RFC 2308 section 5), EDNS
// (RFC 6891) and truncation (RFC 1035).
#include "wire/response.h"

#include <gtest/gtest.h>

#include "testing/alloc_counter.h"
#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/patch.h"

namespace ringdns::wire {
namespace {

using testing::ARdata;
using testing::Bytes;
using testing::Hex;
using testing::MessageBuilder;
using testing::SoaRdata;
using testing::WireName;

constexpr std::uint16_t kAnswerFlags = flag::kQr | flag::kRd | flag::kRa;

Bytes AnswerWithTtls(std::uint32_t a, std::uint32_t b) {
  return MessageBuilder(0x4242, kAnswerFlags)
      .Question("www.example.", rrtype::kA)
      .AnswerAt(12, rrtype::kA, a, ARdata(192, 0, 2, 1))
      .AnswerAt(12, rrtype::kA, b, ARdata(192, 0, 2, 2))
      .Opt(1232, 0x00008000)
      .bytes();
}

TEST(WalkResponse, MinimumTtlIgnoresTheOptRecord) {
  const Bytes msg = AnswerWithTtls(300, 60);
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info) << ToString(info.error());
  EXPECT_EQ(info->min_ttl, 60u);  // OPT's TTL field (0x8000) is flags, not a TTL
  EXPECT_EQ(info->counts[0], 2);
  EXPECT_EQ(info->counts[2], 1);
  EXPECT_TRUE(info->opt().present());
  EXPECT_TRUE(info->has_question);
  EXPECT_EQ(info->rcode, rcode::kNoError);
}

TEST(WalkResponse, TtlWithTopBitSetCountsAsZeroRfc2181Section8) {
  const Result<ResponseInfo> info = WalkResponse(AnswerWithTtls(0x80000000u, 60));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->min_ttl, 0u);
}

TEST(WalkResponse, NoRecordsMeansNoTtl) {
  const Bytes msg = MessageBuilder(1, kAnswerFlags).Question("a.", 1).bytes();
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->min_ttl, kNoTtl);
}

TEST(WalkResponse, NegativeTtlIsMinOfSoaTtlAndMinimumRfc2308Section5) {
  const Bytes nx = MessageBuilder(1, kAnswerFlags | rcode::kNxDomain)
                       .Question("nope.example.", rrtype::kA)
                       .Authority("example.", rrtype::kSoa, 3600,
                                  SoaRdata("ns.example.", "host.example.", 1, 2, 3, 4, 300))
                       .bytes();
  Result<ResponseInfo> info = WalkResponse(nx);
  ASSERT_TRUE(info) << ToString(info.error());
  EXPECT_EQ(info->rcode, rcode::kNxDomain);
  ASSERT_TRUE(info->has_soa);
  EXPECT_EQ(info->soa_minimum, 300u);
  EXPECT_EQ(info->negative_ttl(), 300u);

  const Bytes nodata = MessageBuilder(1, kAnswerFlags)
                           .Question("www.example.", rrtype::kAaaa)
                           .Authority("example.", rrtype::kSoa, 30,
                                      SoaRdata("ns.example.", "host.example.", 1, 2, 3, 4, 300))
                           .bytes();
  info = WalkResponse(nodata);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->negative_ttl(), 30u);
}

TEST(WalkResponse, ExtendedRcodeCombinesHeaderAndOptRfc6891Section6_1_3) {
  // BADVERS = 16: header bits 0, OPT extended rcode 1.
  const Bytes msg = MessageBuilder(1, kAnswerFlags).Question("a.", 1).Opt(1232, 0x01000000).bytes();
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->rcode, rcode::kBadVers);
}

TEST(WalkResponse, AcceptsAnAnswerWithoutQuestion) {
  const Bytes msg = Hex("0001 8001 0000 0000 0000 0000");  // FORMERR, header only
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->has_question);
  EXPECT_EQ(info->rcode, rcode::kFormErr);
}

struct BadAnswer {
  const char* rule;
  Bytes msg;
  Error error;
};

class BadAnswers : public ::testing::TestWithParam<BadAnswer> {};

TEST_P(BadAnswers, AreRejected) {
  const BadAnswer& c = GetParam();
  EXPECT_EQ(WalkResponse(c.msg).error(), c.error) << c.rule;
}

Bytes WithRecord(const Bytes& owner, std::uint16_t type, const Bytes& rdata) {
  Bytes msg = MessageBuilder(1, kAnswerFlags).Question("www.example.", type).bytes();
  msg.insert(msg.end(), owner.begin(), owner.end());
  const Bytes fixed = Hex("0000 0001 00000e10");
  Bytes typed = fixed;
  StoreU16(typed.data(), type);
  msg.insert(msg.end(), typed.begin(), typed.end());
  msg.push_back(static_cast<std::uint8_t>(rdata.size() >> 8));
  msg.push_back(static_cast<std::uint8_t>(rdata.size()));
  msg.insert(msg.end(), rdata.begin(), rdata.end());
  StoreU16(msg.data() + header::kAnCount, 1);
  return msg;
}

INSTANTIATE_TEST_SUITE_P(
    HostileUpstreams, BadAnswers,
    ::testing::Values(
        BadAnswer{"owner pointer to itself",
                  WithRecord(Hex("c01d"), rrtype::kA, ARdata(1, 2, 3, 4)), Error::kBadPointer},
        BadAnswer{"owner pointer forwards", WithRecord(Hex("c0ff"), rrtype::kA, ARdata(1, 2, 3, 4)),
                  Error::kBadPointer},
        BadAnswer{"owner pointer into the header",
                  WithRecord(Hex("c004"), rrtype::kA, ARdata(1, 2, 3, 4)), Error::kBadPointer},
        BadAnswer{"A record with 5 octets", WithRecord(Hex("c00c"), rrtype::kA, Hex("0102030405")),
                  Error::kBadRdata},
        BadAnswer{"AAAA record with 4 octets",
                  WithRecord(Hex("c00c"), rrtype::kAaaa, Hex("01020304")), Error::kBadRdata},
        BadAnswer{"CNAME target loops inside RDATA",
                  WithRecord(Hex("c00c"), rrtype::kCname, Hex("01 61 c029")), Error::kNameTooLong},
        BadAnswer{"CNAME target runs past RDATA",
                  WithRecord(Hex("c00c"), rrtype::kCname, Hex("03 6162")), Error::kBadRdata},
        BadAnswer{"SRV shorter than its fixed part",
                  WithRecord(Hex("c00c"), rrtype::kSrv, Hex("0000 0000")), Error::kBadRdata},
        BadAnswer{"SOA missing its numbers",
                  WithRecord(Hex("c00c"), rrtype::kSoa, Hex("00 00 00000001")), Error::kBadRdata},
        BadAnswer{"RDLENGTH beyond the message",
                  [] {
                    Bytes m = WithRecord(Hex("c00c"), rrtype::kA, ARdata(1, 2, 3, 4));
                    m.resize(m.size() - 1);
                    return m;
                  }(),
                  Error::kTooShort},
        BadAnswer{"trailing bytes",
                  [] {
                    Bytes m = WithRecord(Hex("c00c"), rrtype::kA, ARdata(1, 2, 3, 4));
                    m.push_back(0);
                    return m;
                  }(),
                  Error::kTrailing},
        BadAnswer{"QDCOUNT 2", Hex("0001 8000 0002 0000 0000 0000 00 0001 0001 00 0001 0001"),
                  Error::kQdCount},
        BadAnswer{"two OPT records",
                  MessageBuilder(1, kAnswerFlags).Question("a.", 1).Opt(512, 0).Opt(512, 0).bytes(),
                  Error::kDuplicateOpt}));

TEST(MatchAnswer, AcceptsTheRightAnswerWhateverTheCase) {
  const Bytes answer = MessageBuilder(0x4242, kAnswerFlags).Question("WWW.Example.", 1).bytes();
  const Bytes qname = WireName("www.example.");
  const Question q{qname, rrtype::kA, rrclass::kIn};
  EXPECT_EQ(MatchAnswer(answer, 0x4242, opcode::kQuery, q), Error::kOk);
}

TEST(MatchAnswer, RejectsEveryMismatchRfc5452Section9_1) {
  const Bytes qname = WireName("www.example.");
  const Question q{qname, rrtype::kA, rrclass::kIn};
  const Bytes good = MessageBuilder(0x4242, kAnswerFlags).Question("www.example.", 1).bytes();
  EXPECT_EQ(MatchAnswer(good, 0x4243, opcode::kQuery, q), Error::kIdMismatch);
  EXPECT_EQ(MatchAnswer(good, 0x4242, opcode::kNotify, q), Error::kOpcodeMismatch);
  const Bytes not_response = MessageBuilder(0x4242, flag::kRd).Question("www.example.", 1).bytes();
  EXPECT_EQ(MatchAnswer(not_response, 0x4242, opcode::kQuery, q), Error::kNotResponse);
  const Bytes other_name = MessageBuilder(0x4242, kAnswerFlags).Question("ww.example.", 1).bytes();
  EXPECT_EQ(MatchAnswer(other_name, 0x4242, opcode::kQuery, q), Error::kQuestionMismatch);
  const Bytes other_type =
      MessageBuilder(0x4242, kAnswerFlags).Question("www.example.", 28).bytes();
  EXPECT_EQ(MatchAnswer(other_type, 0x4242, opcode::kQuery, q), Error::kQuestionMismatch);
  const Bytes other_class =
      MessageBuilder(0x4242, kAnswerFlags).Question("www.example.", 1, rrclass::kChaos).bytes();
  EXPECT_EQ(MatchAnswer(other_class, 0x4242, opcode::kQuery, q), Error::kQuestionMismatch);
  const Bytes no_question = Hex("4242 8180 0000 0000 0000 0000");
  EXPECT_EQ(MatchAnswer(no_question, 0x4242, opcode::kQuery, q), Error::kQuestionMismatch);
  EXPECT_EQ(MatchAnswer(Hex("4242 81"), 0x4242, opcode::kQuery, q), Error::kTooShort);
}

std::vector<std::uint32_t> RecordTtls(const Bytes& msg) {
  std::vector<std::uint32_t> ttls;
  LabelStarts starts(msg.size());
  const Result<QueryView> q = ParseQuestion(msg, &starts);
  (void)WalkRecords(msg, q->question_end, starts, [&](const RecordView& r) {
    ttls.push_back(r.ttl);
    return Error::kOk;
  });
  return ttls;
}

TEST(CapTtls, LowersTtlsAboveTheCapAndLeavesOptAlone) {
  Bytes msg = AnswerWithTtls(300, 60);
  ASSERT_EQ(CapTtls(msg, 100), Error::kOk);
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->min_ttl, 60u);  // below the cap: unchanged
  ASSERT_TRUE(info->opt().present());
  EXPECT_TRUE(info->opt().do_bit());  // OPT flags (in its TTL field) untouched
  // Both A records, then the OPT's TTL field (extended RCODE, version, DO).
  EXPECT_EQ(RecordTtls(msg), (std::vector<std::uint32_t>{100, 60, 0x00008000}));
  ASSERT_EQ(CapTtls(msg, 0), Error::kOk);
  EXPECT_EQ(RecordTtls(msg), (std::vector<std::uint32_t>{0, 0, 0x00008000}));
}

TEST(CapTtls, TtlWithTopBitSetBecomesZero) {
  Bytes msg = AnswerWithTtls(0x80000001u, 60);
  ASSERT_EQ(CapTtls(msg, 3600), Error::kOk);
  EXPECT_EQ(RecordTtls(msg)[0], 0u);
}

TEST(WalkAndCapTtls, ReportsWhatAFreshWalkOfTheCappedAnswerFinds) {
  const Bytes soa = SoaRdata("ns.example.", "h.example.", 1, 2, 3, 4, 300);
  Bytes nx = MessageBuilder(1, kAnswerFlags | rcode::kNxDomain)
                 .Question("nope.example.", rrtype::kA)
                 .Authority("example.", rrtype::kSoa, 100, soa)
                 .bytes();
  const Result<ResponseInfo> capped = WalkAndCapTtls(nx, 70);
  ASSERT_TRUE(capped);
  const Result<ResponseInfo> fresh = WalkResponse(nx);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(capped->min_ttl, 70u);
  EXPECT_EQ(capped->min_ttl, fresh->min_ttl);
  EXPECT_EQ(capped->negative_ttl(), fresh->negative_ttl());
}

TEST(CapTtls, AllocatesNothing) {
  Bytes msg = AnswerWithTtls(300, 60);
  EXPECT_EQ(testing::CountAllocations([&] { (void)CapTtls(msg, 10); }), 0u);
}

// An upstream's COOKIE answers the client whose query went upstream; served from the
// cache to anyone else it would be a wrong cookie and the answer discarded.
Bytes CookieOption() { return Hex("000a 0010 0102030405060708 1112131415161718"); }
Bytes NsidOption() { return Hex("0003 0002 6e73"); }

TEST(DropEdnsOption, RemovesTheOptionWhenOptIsLast) {
  Bytes options = NsidOption();
  const Bytes cookie = CookieOption();
  options.insert(options.end(), cookie.begin(), cookie.end());
  Bytes msg = MessageBuilder(7, kAnswerFlags)
                  .Question("www.example.", rrtype::kA)
                  .AnswerAt(12, rrtype::kA, 60, ARdata(192, 0, 2, 1))
                  .Opt(1232, 0, options)
                  .bytes();
  Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  const std::size_t size = DropEdnsOption(msg, *info, edns::kOptionCookie);
  EXPECT_EQ(size, msg.size() - cookie.size());
  msg.resize(size);
  const Result<ResponseInfo> after = WalkResponse(msg);
  ASSERT_TRUE(after) << ToString(after.error());
  EXPECT_EQ(after->opt().rdlength, NsidOption().size());
  EXPECT_EQ(info->opt().rdlength, after->opt().rdlength);  // `info` was kept in step
  int cookies = 0;
  ForEachOption(msg, after->opt(),
                [&](std::uint16_t code, auto) { cookies += code == edns::kOptionCookie; });
  EXPECT_EQ(cookies, 0);
}

TEST(DropEdnsOption, PadsInPlaceWhenARecordFollowsTheOpt) {
  Bytes msg = MessageBuilder(7, kAnswerFlags)
                  .Question("www.example.", rrtype::kA)
                  .Opt(1232, 0, CookieOption())
                  .Additional("x.example.", rrtype::kA, 60, ARdata(192, 0, 2, 9))
                  .bytes();
  Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info) << ToString(info.error());
  EXPECT_EQ(DropEdnsOption(msg, *info, edns::kOptionCookie), msg.size());
  const Result<ResponseInfo> after = WalkResponse(msg);
  ASSERT_TRUE(after);
  std::vector<std::uint16_t> codes;
  ForEachOption(msg, after->opt(), [&](std::uint16_t code, std::span<const std::uint8_t> data) {
    codes.push_back(code);
    for (std::uint8_t b : data) EXPECT_EQ(b, 0);
  });
  EXPECT_EQ(codes, std::vector<std::uint16_t>{edns::kOptionPadding});
}

TEST(DropEdnsOption, LeavesAnswersWithoutTheOptionAlone) {
  Bytes msg = AnswerWithTtls(1, 2);
  const Bytes before = msg;
  Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  EXPECT_EQ(DropEdnsOption(msg, *info, edns::kOptionCookie), msg.size());
  EXPECT_EQ(msg, before);
}

// RFC 6891 section 7: a client that sent no OPT gets none back, unless the OPT carries an
// extended RCODE (BADVERS) that is part of the answer.
TEST(DropOptForClientWithout, RemovesTheOptAndCountsItOut) {
  Bytes msg = MessageBuilder(7, kAnswerFlags)
                  .Question("www.example.", rrtype::kA)
                  .AnswerAt(12, rrtype::kA, 60, ARdata(192, 0, 2, 1))
                  .Opt(1232, 0, NsidOption())
                  .bytes();
  Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  const std::size_t size = DropOptForClientWithout(msg, *info);
  EXPECT_EQ(info->question.size, size);
  msg.resize(size);
  const Result<ResponseInfo> after = WalkResponse(msg);
  ASSERT_TRUE(after) << ToString(after.error());
  EXPECT_FALSE(after->opt().present());
  EXPECT_FALSE(info->opt().present());
  EXPECT_EQ(LoadU16(msg.data() + header::kArCount), 0);
}

TEST(DropOptForClientWithout, KeepsAnOptWhoseExtendedRcodeIsTheAnswer) {
  Bytes msg = MessageBuilder(7, kAnswerFlags)
                  .Question("www.example.", rrtype::kA)
                  .Opt(1232, 1u << 24)
                  .bytes();
  const Bytes before = msg;
  Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  EXPECT_EQ(DropOptForClientWithout(msg, *info), msg.size());
  EXPECT_EQ(msg, before);
}

TEST(DropOptForClientWithout, LeavesAnOptThatIsNotLastAndAnswersWithoutOne) {
  Bytes msg = MessageBuilder(7, kAnswerFlags)
                  .Question("www.example.", rrtype::kA)
                  .Opt(1232, 0)
                  .Additional("x.example.", rrtype::kA, 60, ARdata(192, 0, 2, 9))
                  .bytes();
  Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  EXPECT_EQ(DropOptForClientWithout(msg, *info), msg.size());
  Bytes plain = MessageBuilder(7, kAnswerFlags)
                    .Question("www.example.", rrtype::kA)
                    .AnswerAt(12, rrtype::kA, 60, ARdata(192, 0, 2, 1))
                    .bytes();
  info = WalkResponse(plain);
  ASSERT_TRUE(info);
  EXPECT_EQ(DropOptForClientWithout(plain, *info), plain.size());
}

TEST(TruncateForUdp, LeavesAFittingAnswerAlone) {
  Bytes msg = AnswerWithTtls(1, 2);
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  EXPECT_EQ(TruncateForUdp(msg, *info, 512), msg.size());
}

TEST(TruncateForUdp, KeepsQuestionAndOptAndSetsTcRfc6891Section7) {
  MessageBuilder big(0x4242, kAnswerFlags);
  big.Question("www.example.", rrtype::kA);
  for (std::uint8_t i = 0; i < 60; ++i) big.AnswerAt(12, rrtype::kA, 60, ARdata(10, 0, 0, i));
  big.Opt(4096, 0x00008000);
  Bytes msg = big.bytes();
  ASSERT_GT(msg.size(), 512u);
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  const std::size_t len = TruncateForUdp(msg, *info, 512);
  msg.resize(len);
  EXPECT_EQ(len, info->question.question_end + 11u);
  const Result<ResponseInfo> truncated = WalkResponse(msg);
  ASSERT_TRUE(truncated) << ToString(truncated.error());
  EXPECT_TRUE(truncated->truncated());
  EXPECT_EQ(truncated->counts[0], 0);
  EXPECT_EQ(truncated->counts[2], 1);
  EXPECT_TRUE(truncated->opt().do_bit());
  EXPECT_EQ(GetId(msg), 0x4242);
}

}  // namespace
}  // namespace ringdns::wire

namespace ringdns::wire {
namespace {

// RFC 1035 section 4.1.4: a pointer replaces a prior occurrence of a name. One aimed at
// a TTL would read bytes that TTL capping rewrites (found by wire_response_fuzz).
TEST(WalkResponse, PointerMustLandOnALabelOfAnEarlierName) {
  // Question "a." at 12; record owner c00c at 19; TTL at 25..28; CNAME RDATA at 31 points
  // at 25, the TTL.
  Bytes msg =
      Hex("0001 8180 0001 0001 0000 0000 | 0161 00 0001 0001 |"
          " c00c 0005 0001 0000003c 0004 0162 c019");
  EXPECT_EQ(WalkResponse(msg).error(), Error::kBadPointer);
  // Into the middle of a label: "a" at 13 is data, not a label start.
  msg = Hex(
      "0001 8180 0001 0001 0000 0000 | 0161 00 0001 0001 | c00d 0001 0001 0000003c 0004 01020304");
  EXPECT_EQ(WalkResponse(msg).error(), Error::kBadPointer);
}

TEST(WalkResponse, OwnerMayPointIntoAnEarlierRdataName) {
  // www.example. CNAME web.example. ; web.example. A, its owner pointing into the CNAME.
  const Bytes msg = MessageBuilder(1, kAnswerFlags)
                        .Question("www.example.", rrtype::kA)
                        .AnswerAt(12, rrtype::kCname, 60, testing::Hex("03 776562 c010"))
                        .AnswerAt(41, rrtype::kA, 30, ARdata(192, 0, 2, 7))
                        .bytes();
  const Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info) << ToString(info.error());
  EXPECT_EQ(info->min_ttl, 30u);
  Bytes capped = msg;
  EXPECT_EQ(CapTtls(capped, 20), Error::kOk);
  EXPECT_EQ(WalkResponse(capped)->min_ttl, 20u);
}

}  // namespace
}  // namespace ringdns::wire
