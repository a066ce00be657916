// ParseQuery: the rules of RFC 1035 section 4.1 and RFC 6891 for queries.
#include <gtest/gtest.h>

#include "testing/alloc_counter.h"
#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/message.h"

namespace ringdns::wire {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::MessageBuilder;

Bytes SimpleQuery() {
  return MessageBuilder(0x1234, flag::kRd).Question("www.example.", rrtype::kA).bytes();
}

TEST(ParseQuery, DecodesHeaderAndQuestionInPlace) {
  const Bytes msg = SimpleQuery();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q) << ToString(q.error());
  EXPECT_EQ(q->id, 0x1234);
  EXPECT_EQ(q->flags, flag::kRd);
  EXPECT_EQ(q->opcode(), opcode::kQuery);
  EXPECT_FALSE(q->qr());
  EXPECT_EQ(q->qname_len, 13);
  EXPECT_EQ(q->qtype, rrtype::kA);
  EXPECT_EQ(q->qclass, rrclass::kIn);
  EXPECT_EQ(q->question_end, msg.size());
  EXPECT_FALSE(q->opt.present());
  EXPECT_EQ(MaxUdpAnswerSize(q->opt), 512);
  // The view points into the caller's buffer.
  EXPECT_EQ(q->qname(msg).data(), msg.data() + header::kSize);
}

TEST(ParseQuery, DecodesEdnsFieldsRfc6891Section6_1_3) {
  // UDP 4096, extended rcode 0, version 0, DO set.
  const Bytes msg =
      MessageBuilder(1, 0).Question("a.", rrtype::kAaaa).Opt(4096, 0x00008000).bytes();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->opt.present());
  EXPECT_EQ(q->opt.udp_size, 4096);
  EXPECT_EQ(q->opt.version, 0);
  EXPECT_TRUE(q->opt.do_bit());
  EXPECT_EQ(MaxUdpAnswerSize(q->opt), 4096);
}

TEST(ParseQuery, ReportsEdnsVersionForTheCallerToAnswerBadvers) {
  const Bytes msg = MessageBuilder(1, 0).Question("a.", rrtype::kA).Opt(1232, 0x00010000).bytes();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->opt.version, 1);
}

TEST(ParseQuery, UdpSizeBelow512CountsAs512Rfc6891Section6_2_5) {
  const Bytes msg = MessageBuilder(1, 0).Question("a.", rrtype::kA).Opt(100, 0).bytes();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q);
  EXPECT_EQ(MaxUdpAnswerSize(q->opt), 512);
}

TEST(ParseQuery, WalksOptionsInOrder) {
  // Cookie (10) with 8 octets, then padding (12) with 2.
  const Bytes options = Hex("000a 0008 0102030405060708 | 000c 0002 0000");
  const Bytes msg = MessageBuilder(1, 0).Question("a.", rrtype::kA).Opt(1232, 0, options).bytes();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q);
  std::vector<std::pair<std::uint16_t, std::size_t>> seen;
  ForEachOption(msg, q->opt, [&](std::uint16_t code, std::span<const std::uint8_t> data) {
    seen.emplace_back(code, data.size());
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(edns::kOptionCookie, std::size_t{8}));
  EXPECT_EQ(seen[1], std::make_pair(edns::kOptionPadding, std::size_t{2}));
}

struct BadQuery {
  const char* rule;
  Bytes msg;
  Error error;
};

class BadQueries : public ::testing::TestWithParam<BadQuery> {};

TEST_P(BadQueries, AreRefusedWithTheirCause) {
  const BadQuery& c = GetParam();
  EXPECT_EQ(ParseQuery(c.msg).error(), c.error) << c.rule;
}

Bytes WithTrailing(Bytes msg, std::size_t n) {
  msg.insert(msg.end(), n, 0);
  return msg;
}
Bytes Truncated(Bytes msg, std::size_t drop) {
  msg.resize(msg.size() - drop);
  return msg;
}
Bytes SetU16At(Bytes msg, std::size_t offset, std::uint16_t v) {
  StoreU16(msg.data() + offset, v);
  return msg;
}

INSTANTIATE_TEST_SUITE_P(
    Rfc1035And6891, BadQueries,
    ::testing::Values(
        BadQuery{"shorter than a header", Hex("1234 0100 0001 0000 0000"), Error::kTooShort},
        BadQuery{"QDCOUNT 0", SetU16At(SimpleQuery(), header::kQdCount, 0), Error::kQdCount},
        BadQuery{"QDCOUNT 2", SetU16At(SimpleQuery(), header::kQdCount, 2), Error::kQdCount},
        BadQuery{"question cut inside QTYPE", Truncated(SimpleQuery(), 3), Error::kTooShort},
        BadQuery{"question cut inside QNAME", Truncated(SimpleQuery(), 6), Error::kTooShort},
        BadQuery{"trailing bytes after the question", WithTrailing(SimpleQuery(), 1),
                 Error::kTrailing},
        BadQuery{"compression pointer in QNAME",
                 Hex("0001 0000 0001 0000 0000 0000 | c00c 0001 0001"), Error::kPointerInQuestion},
        BadQuery{"64-octet label in QNAME",
                 testing::Concat({Hex("0001 0000 0001 0000 0000 0000 | 40"), Bytes(64, 'a'),
                                  Hex("00 0001 0001")}),
                 Error::kBadLabelType},
        BadQuery{"ARCOUNT says 1 but no record follows",
                 SetU16At(SimpleQuery(), header::kArCount, 1), Error::kTooShort},
        BadQuery{"ANCOUNT 65535 on a tiny message",
                 SetU16At(SimpleQuery(), header::kAnCount, 0xffff), Error::kTooShort},
        BadQuery{"two OPT records (6891 s6.1.1)",
                 MessageBuilder(1, 0).Question("a.", 1).Opt(1232, 0).Opt(1232, 0).bytes(),
                 Error::kDuplicateOpt},
        BadQuery{"OPT in the answer section",
                 SetU16At(SetU16At(MessageBuilder(1, 0).Question("a.", 1).Opt(1232, 0).bytes(),
                                   header::kArCount, 0),
                          header::kAnCount, 1),
                 Error::kOptOutsideAdditional},
        BadQuery{
            "OPT owner not root (6891 s6.1.2)",
            MessageBuilder(1, 0).Question("a.", 1).Additional("x.", rrtype::kOpt, 0, {}).bytes(),
            Error::kBadOpt},
        BadQuery{"OPT option overruns RDLENGTH",
                 MessageBuilder(1, 0).Question("a.", 1).Opt(1232, 0, Hex("000a 0009 01")).bytes(),
                 Error::kBadOpt},
        BadQuery{"OPT option header cut short",
                 MessageBuilder(1, 0).Question("a.", 1).Opt(1232, 0, Hex("000a 00")).bytes(),
                 Error::kBadOpt}));

TEST(ParseQuery, AcceptsOtherRecordsBesideTheOpt) {
  // A query may carry records (e.g. TSIG); they are walked, not judged.
  const Bytes msg = MessageBuilder(1, 0)
                        .Question("a.", rrtype::kA)
                        .Additional("key.", rrtype::kTsig, 0, Hex("00"))
                        .Opt(1232, 0)
                        .bytes();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q) << ToString(q.error());
  EXPECT_TRUE(q->opt.present());
}

TEST(ParseQuery, AllocatesNothing) {
  const Bytes msg = MessageBuilder(7, flag::kRd).Question("a.b.c.", 1).Opt(1232, 0).bytes();
  const std::uint64_t allocations = testing::CountAllocations([&] {
    for (int i = 0; i < 1000; ++i) {
      const Result<QueryView> q = ParseQuery(msg);
      ASSERT_TRUE(q);
    }
  });
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace ringdns::wire
