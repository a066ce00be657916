// One resource record in presentation format, as CoreDNS's template plugin reads what it
// renders (miekg/dns NewRR): every type ringdns reads, the defaults, and the text a
// client's query name can put there refused without reading past it.
#include "wire/rr_text.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/bytes.h"
#include "wire/rr_names.h"

namespace ringdns::wire {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::WireName;

// The record `text` becomes, or its error.
struct ReadResult {
  Error code = Error::kOk;
  Bytes bytes;
  explicit operator bool() const { return code == Error::kOk; }
  Error error() const { return code; }
  const Bytes& operator*() const { return bytes; }
  const Bytes* operator->() const { return &bytes; }
};

ReadResult Read(std::string_view text, std::size_t room = 1024) {
  Bytes out(room);
  const Result<std::size_t> len = RecordFromText(text, out);
  if (!len) return {len.error(), {}};
  out.resize(*len);
  return {Error::kOk, out};
}

Bytes Record(std::string_view owner, std::uint16_t type, std::uint16_t rclass, std::uint32_t ttl,
             const Bytes& rdata) {
  Bytes out = WireName(owner);
  std::array<std::uint8_t, rr::kFixedSize> fixed{};
  StoreU16(fixed.data() + rr::kType, type);
  StoreU16(fixed.data() + rr::kClass, rclass);
  StoreU32(fixed.data() + rr::kTtl, ttl);
  StoreU16(fixed.data() + rr::kRdLength, static_cast<std::uint16_t>(rdata.size()));
  out.insert(out.end(), fixed.begin(), fixed.end());
  out.insert(out.end(), rdata.begin(), rdata.end());
  return out;
}

TEST(RecordFromText, ReadsAnAddressWithItsTtlAndClass) {
  EXPECT_EQ(*Read("ip-10-1-2-3.example. 60 IN A 10.1.2.3"),
            Record("ip-10-1-2-3.example.", rrtype::kA, rrclass::kIn, 60, Hex("0a010203")));
  EXPECT_EQ(*Read("h.example. 60 IN AAAA 2001:db8::1"),
            Record("h.example.", rrtype::kAaaa, rrclass::kIn, 60,
                   Hex("20010db8000000000000000000000001")));
}

TEST(RecordFromText, TakesTtlAndClassInEitherOrderAndDefaultsThemAsMiekgDoes) {
  const Bytes expected = Record("a.example.", rrtype::kA, rrclass::kChaos, 5, Hex("01020304"));
  EXPECT_EQ(*Read("a.example. 5 CH A 1.2.3.4"), expected);
  EXPECT_EQ(*Read("a.example. CH 5 A 1.2.3.4"), expected);
  EXPECT_EQ(*Read("a.example. a 1.2.3.4"),
            Record("a.example.", rrtype::kA, rrclass::kIn, 3600, Hex("01020304")));
}

TEST(RecordFromText, NamesAreAbsoluteWithOrWithoutTheirDotAndAtIsTheRoot) {
  const Bytes expected =
      Record("a.example.", rrtype::kCname, rrclass::kIn, 1, WireName("b.example."));
  EXPECT_EQ(*Read("a.example 1 IN CNAME b.example"), expected);
  EXPECT_EQ(*Read("a.example. 1 IN CNAME b.example."), expected);
  EXPECT_EQ(*Read("@ 1 IN NS ns.example."),
            Record(".", rrtype::kNs, rrclass::kIn, 1, WireName("ns.example.")));
  EXPECT_EQ(*Read("a\\.b.example. 1 IN PTR c.example."),
            Record("a\\.b.example.", rrtype::kPtr, rrclass::kIn, 1, WireName("c.example.")));
}

TEST(RecordFromText, ReadsMxSrvAndASoaAcrossParentheses) {
  EXPECT_EQ(*Read("a.example. 60 IN MX 10 mail.example."),
            Record("a.example.", rrtype::kMx, rrclass::kIn, 60,
                   testing::Concat({Hex("000a"), WireName("mail.example.")})));
  EXPECT_EQ(*Read("_x._tcp.example. 60 IN SRV 0 33 11210 h.example."),
            Record("_x._tcp.example.", rrtype::kSrv, rrclass::kIn, 60,
                   testing::SrvRdata(0, 33, 11210, "h.example.")));
  const Bytes soa =
      Record("invalid.", rrtype::kSoa, rrclass::kIn, 60,
             testing::SoaRdata("ns.invalid.", "hostmaster.invalid.", 1, 60, 60, 60, 60));
  EXPECT_EQ(*Read("invalid. 60 IN SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"), soa);
  EXPECT_EQ(
      *Read("invalid. 60 IN SOA ns.invalid. hostmaster.invalid. (\n 1 ; serial\n 60 60 60 60 )"),
      soa);
}

TEST(RecordFromText, TxtTakesQuotedAndPlainStringsAndDecodesTheirEscapes) {
  EXPECT_EQ(*Read("t.example. 60 IN TXT \"from 127.0.0.1\" a\\\"b\\065"),
            Record("t.example.", rrtype::kTxt, rrclass::kIn, 60,
                   testing::Concat(
                       {Bytes{14},
                        Bytes{'f', 'r', 'o', 'm', ' ', '1', '2', '7', '.', '0', '.', '0', '.', '1'},
                        Bytes{4, 'a', '"', 'b', 'A'}})));
}

TEST(RecordFromText, ReadsTheGenericFormForAnyType) {
  EXPECT_EQ(*Read("a.example. 60 IN TYPE65280 \\# 3 abcd ef"),
            Record("a.example.", 65280, rrclass::kIn, 60, Hex("abcdef")));
  EXPECT_EQ(*Read("a.example. 60 CLASS7 A \\# 4 01020304"),
            Record("a.example.", rrtype::kA, 7, 60, Hex("01020304")));
  EXPECT_EQ(Read("a.example. 60 IN TYPE65280 \\# 4 abcdef").error(),
            Error::kBadRecordText);  // length disagrees
  EXPECT_EQ(Read("a.example. 60 IN TYPE65280 \\# 2 abc").error(),
            Error::kBadRecordText);  // half an octet
  // Not for types whose RDATA holds names (a pointer, or no name at all), nor an A of
  // another length than 4 (the fuzzer's TYPE6, a SOA of three octets).
  EXPECT_EQ(Read("a.example. 60 CLASS7 TYPE6 \\# 3 abcdef").error(), Error::kBadRecordText);
  EXPECT_EQ(Read("a.example. 60 IN CNAME \\# 2 c00c").error(), Error::kBadRecordText);
  EXPECT_EQ(Read("a.example. 60 IN A \\# 3 010203").error(), Error::kBadRecordText);
}

TEST(RecordFromText, RefusesWhatIsNotOneWholeRecord) {
  for (const std::string_view bad : {"",
                                     "a.example.",
                                     "a.example. 60 IN",
                                     "a.example. 60 IN A",
                                     "a.example. 60 IN A 1.2.3",
                                     "a.example. 60 IN A 1.2.3.4 5",
                                     "a.example. 60 IN AAAA 1.2.3.4",
                                     "a.example. 60 IN BOGUS 1",
                                     "a.example. 60 60 A 1.2.3.4",
                                     "a.example. 99999999999 IN A 1.2.3.4",
                                     "a.example. 60 IN MX 70000 b.",
                                     "a.example. 60 IN SOA a. b. 1 2 3 4",
                                     "a.example. 60 IN SOA a. b. (1 2 3 4 5",
                                     "a.example. 60 IN SOA a. b. 1 2 3 4 5)",
                                     "a.example. 60 IN TXT \"open",
                                     "a.example. 60 IN TXT \"\\25\"",
                                     "a.example. 60 IN TXT \"\\999\"",
                                     "\"a\" 60 IN A 1.2.3.4",
                                     "<no value> 60 IN A 1.2.3.4",
                                     "a.example. 60 IN OPT \\# 0",
                                     "a.example. 60 IN TSIG \\# 0",
                                     "a.example. 60 IN A \"1.2.3.4\"x\\"}) {
    EXPECT_FALSE(Read(bad)) << bad;
  }
  EXPECT_EQ(Read("a..example. 60 IN A 1.2.3.4").error(), Error::kBadText);
  EXPECT_EQ(Read(std::string(300, 'a') + ". 60 IN A 1.2.3.4").error(), Error::kLabelTooLong);
}

TEST(RecordFromText, ATxtStringOver255OctetsIsCutIntoStringsAsMiekgDoes) {
  const auto rdata = [](const ReadResult& r) {
    return Bytes(r->end() - LoadU16(r->data() + 3 + rr::kRdLength), r->end());
  };
  EXPECT_EQ(rdata(Read("t. 1 IN TXT " + std::string(255, 'x'))),
            testing::Concat({Bytes{255}, Bytes(255, 'x')}));
  EXPECT_EQ(rdata(Read("t. 1 IN TXT " + std::string(256, 'x'))),
            testing::Concat({Bytes{255}, Bytes(255, 'x'), Bytes{1, 'x'}}));
  EXPECT_EQ(rdata(Read("t. 1 IN TXT " + std::string(510, 'x'))),
            testing::Concat({Bytes{255}, Bytes(255, 'x'), Bytes{255}, Bytes(255, 'x')}));
  EXPECT_EQ(rdata(Read("t. 1 IN TXT \"\"")), Bytes{0});
}

TEST(RecordFromText, OnlyTxtTakesQuotedStrings) {
  EXPECT_EQ(Read("a.example. 60 IN A \"1.2.3.4\"").error(), Error::kBadRecordText);
  EXPECT_EQ(Read("a.example. 60 IN CNAME \"b.example.\"").error(), Error::kBadRecordText);
  EXPECT_TRUE(Read("a.example. 60 IN TXT \"1.2.3.4\""));
}

TEST(RecordFromText, NeverWritesPastItsRoom) {
  const std::string text = "a.example. 60 IN TXT " + std::string(200, 'x');
  const std::size_t whole = Read(text)->size();
  for (std::size_t room = 0; room < whole; ++room) {
    Bytes out(room + 8, 0xee);
    EXPECT_FALSE(RecordFromText(text, std::span(out).first(room))) << room;
    for (std::size_t i = room; i < out.size(); ++i) ASSERT_EQ(out[i], 0xee) << room;
  }
}

TEST(RrNames, TypesAndClassesBothWays) {
  MnemonicBuffer buffer;
  EXPECT_EQ(TypeName(rrtype::kAaaa, buffer), "AAAA");
  EXPECT_EQ(TypeName(65280, buffer), "TYPE65280");
  EXPECT_EQ(ClassName(rrclass::kChaos, buffer), "CH");
  EXPECT_EQ(ClassName(65535, buffer), "CLASS65535");
  EXPECT_EQ(TypeFromName("srv"), rrtype::kSrv);
  EXPECT_EQ(TypeFromName("type99"), 99);
  EXPECT_EQ(TypeFromName("TYPE65536"), std::nullopt);
  EXPECT_EQ(TypeFromName("TYPE"), std::nullopt);
  EXPECT_EQ(ClassFromName("in"), rrclass::kIn);
  EXPECT_EQ(ClassFromName("CLASS3"), rrclass::kChaos);
  EXPECT_EQ(ClassFromName("A"), std::nullopt);
}

}  // namespace
}  // namespace ringdns::wire
