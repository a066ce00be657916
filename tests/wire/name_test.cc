// Name scanning, comparison, lookup keys and text conversion, each case named after the
// rule it pins (RFC 1035 sections 2.3.4, 4.1.4 and 5.1; RFC 4343; RFC 6891 section 5).
#include "wire/name.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/hex.h"
#include "testing/message_builder.h"

namespace ringdns::wire {
namespace {

using testing::Bytes;
using testing::Concat;
using testing::Hex;

// Header-sized padding so names start where they would in a message.
Bytes WithHeader(const Bytes& tail) {
  Bytes msg(header::kSize, 0);
  msg.insert(msg.end(), tail.begin(), tail.end());
  return msg;
}

struct ScanCase {
  const char* rule;
  Bytes name;          // starts at offset 12
  Error uncompressed;  // ScanUncompressedName
  Error compressed;    // ScanName
};

class ScanTable : public ::testing::TestWithParam<ScanCase> {};

TEST_P(ScanTable, Rule) {
  const ScanCase& c = GetParam();
  const Bytes msg = WithHeader(c.name);
  EXPECT_EQ(ScanUncompressedName(msg, header::kSize).error(), c.uncompressed) << c.rule;
  EXPECT_EQ(ScanName(msg, header::kSize).error(), c.compressed) << c.rule;
}

Bytes Label(std::size_t len, char fill = 'a') {
  Bytes out{static_cast<std::uint8_t>(len)};
  out.insert(out.end(), len, static_cast<std::uint8_t>(fill));
  return out;
}

// A name of exactly `total` wire octets made of 63-octet labels and one filler label.
Bytes NameOfLength(std::size_t total) {
  Bytes out;
  std::size_t left = total - 1;  // root label
  while (left > 0) {
    const std::size_t label = left - 1 > 63 ? 63 : left - 1;
    const Bytes l = Label(label);
    out.insert(out.end(), l.begin(), l.end());
    left -= label + 1;
  }
  out.push_back(0);
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Rfc1035, ScanTable,
    ::testing::Values(
        ScanCase{"root name is one zero octet", Hex("00"), Error::kOk, Error::kOk},
        ScanCase{"63-octet label is allowed (2.3.4)", Concat({Label(63), Hex("00")}), Error::kOk,
                 Error::kOk},
        ScanCase{"64-octet label has type 0x40 (6891 s5 retired it)",
                 Concat({Label(64), Hex("00")}), Error::kBadLabelType, Error::kBadLabelType},
        ScanCase{"label type 0x80 is reserved", Hex("80 00"), Error::kBadLabelType,
                 Error::kBadLabelType},
        ScanCase{"255-octet name is allowed (2.3.4)", NameOfLength(255), Error::kOk, Error::kOk},
        ScanCase{"256-octet name is too long (2.3.4)", NameOfLength(256), Error::kNameTooLong,
                 Error::kNameTooLong},
        ScanCase{"missing root label", Hex("03 616263"), Error::kTooShort, Error::kTooShort},
        ScanCase{"label overruns the message", Hex("05 6162"), Error::kTooShort, Error::kTooShort},
        ScanCase{"empty input", Bytes{}, Error::kTooShort, Error::kTooShort},
        ScanCase{"NUL inside a label is data, not an end", Hex("03 610062 00"), Error::kOk,
                 Error::kOk},
        ScanCase{"pointer to itself is a loop (4.1.4)", Hex("c00c"), Error::kPointerInQuestion,
                 Error::kBadPointer},
        ScanCase{"forward pointer is refused", Hex("c00e 00"), Error::kPointerInQuestion,
                 Error::kBadPointer},
        ScanCase{"pointer into the header is refused", Hex("c002"), Error::kPointerInQuestion,
                 Error::kBadPointer},
        ScanCase{"pointer cut in half", Hex("c0"), Error::kPointerInQuestion, Error::kTooShort}));

TEST(ScanName, BackwardPointerIsFollowedAndCountsTwoOctets) {
  // "example." at 12, then "www" + pointer to 12 at 21.
  const Bytes msg = WithHeader(Hex("07 6578616d706c65 00 | 03 777777 c00c"));
  const Result<ScannedName> scanned = ScanNameExpanded(msg, 21);
  ASSERT_TRUE(scanned);
  EXPECT_EQ(scanned->wire_len, 6u);
  EXPECT_EQ(scanned->expanded_len, 13u);
}

TEST(ScanName, PointerChainLoopThroughLabelsTerminates) {
  // At 12: label "a" then a pointer back to 12: a loop that passes the backward test
  // each time; the 255-octet cap must end it.
  const Bytes msg = WithHeader(Hex("01 61 c00c"));
  EXPECT_EQ(ScanName(msg, header::kSize).error(), Error::kNameTooLong);
}

TEST(ScanName, ExpandedLengthOver255ViaPointersIsRefused) {
  // Two 63-octet labels at 12, then a name of two more 63-octet labels pointing to them.
  Bytes tail = Concat({Label(63), Label(63), Hex("00")});
  const std::size_t second = header::kSize + tail.size();
  tail = Concat({tail, Label(63), Label(63), Hex("c00c")});
  const Bytes msg = WithHeader(tail);
  EXPECT_EQ(ScanName(msg, second).error(), Error::kNameTooLong);
}

TEST(NamesEqualIgnoreCase, FoldsAsciiOnly) {
  EXPECT_TRUE(
      NamesEqualIgnoreCase(testing::WireName("WwW.ExAmPle."), testing::WireName("www.example.")));
  EXPECT_FALSE(
      NamesEqualIgnoreCase(testing::WireName("www.example."), testing::WireName("ww.example.")));
  // RFC 4343: only A-Z fold; 0xC9 and 0xE9 differ.
  EXPECT_FALSE(NamesEqualIgnoreCase(Hex("01c9 00"), Hex("01e9 00")));
}

TEST(WriteLookupKey, LowerCasesLabelsAndKeepsLengths) {
  const Bytes name = testing::WireName("_Couchbase._TCP.Remote.");
  NameStorage key;
  const std::size_t len = WriteLookupKey(name, key);
  EXPECT_EQ(Bytes(key.begin(), key.begin() + static_cast<long>(len)),
            testing::WireName("_couchbase._tcp.remote."));
}

TEST(SplitLabels, RecordsEveryLabelOffset) {
  const Bytes name = testing::WireName("a.bc.def.");
  LabelOffsets offsets;
  ASSERT_EQ(SplitLabels(name, offsets), 3u);
  EXPECT_EQ(offsets[0], 0);
  EXPECT_EQ(offsets[1], 2);
  EXPECT_EQ(offsets[2], 5);
}

TEST(SplitLabels, HandlesTheMaximum127Labels) {
  Bytes name;
  for (int i = 0; i < 127; ++i) {
    name.push_back(1);
    name.push_back('x');
  }
  name.push_back(0);
  ASSERT_EQ(name.size(), 255u);
  LabelOffsets offsets;
  EXPECT_EQ(SplitLabels(name, offsets), 127u);
  EXPECT_EQ(offsets[126], 252);
}

struct TextCase {
  const char* text;
  Error error;
  const char* wire_hex;  // expected on success
};

class FromText : public ::testing::TestWithParam<TextCase> {};

TEST_P(FromText, Rfc1035Section5_1) {
  const TextCase& c = GetParam();
  NameStorage out;
  const Result<std::size_t> len = NameFromText(c.text, out);
  ASSERT_EQ(len.error(), c.error) << c.text;
  if (len) {
    EXPECT_EQ(testing::ToHex(Bytes(out.begin(), out.begin() + static_cast<long>(*len))),
              testing::ToHex(Hex(c.wire_hex)))
        << c.text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Names, FromText,
    ::testing::Values(TextCase{".", Error::kOk, "00"}, TextCase{"com", Error::kOk, "03636f6d00"},
                      TextCase{"com.", Error::kOk, "03636f6d00"},
                      TextCase{"Ab.c.", Error::kOk, "02416201 6300"},
                      TextCase{"a\\.b.c.", Error::kOk, "03612e62 016300"},
                      TextCase{"\\065.", Error::kOk, "014100"},
                      TextCase{"\\256.", Error::kBadText, ""},
                      TextCase{"\\06.", Error::kBadText, ""}, TextCase{"a..b", Error::kBadText, ""},
                      TextCase{".a", Error::kBadText, ""}, TextCase{"", Error::kBadText, ""},
                      TextCase{"a\\", Error::kBadText, ""}));

TEST(NameFromText, RejectsA64OctetLabelAndA256OctetName) {
  NameStorage out;
  EXPECT_EQ(NameFromText(std::string(63, 'a'), out).error(), Error::kOk);
  EXPECT_EQ(NameFromText(std::string(64, 'a'), out).error(), Error::kLabelTooLong);
  std::string longest;  // 127 labels of one octet: 254 octets + root = 255
  for (int i = 0; i < 127; ++i) longest += "x.";
  EXPECT_EQ(NameFromText(longest, out).error(), Error::kOk);
  EXPECT_EQ(NameFromText(longest + "y", out).error(), Error::kNameTooLong);
}

TEST(NameToText, EscapesSpecialAndNonPrintableOctets) {
  std::array<char, kMaxNameTextLen> out;
  const Bytes name = Hex("03 612e62 02 0041 00");
  const Result<std::size_t> len = NameToText(name, out);
  ASSERT_TRUE(len);
  EXPECT_EQ(std::string(out.data(), *len), "a\\.b.\\000A.");
  const Result<std::size_t> root = NameToText(Hex("00"), out);
  EXPECT_EQ(std::string(out.data(), *root), ".");
  std::array<char, 3> small;
  EXPECT_EQ(NameToText(name, small).error(), Error::kBufferTooSmall);
}

TEST(NameToText, RoundTripsThroughNameFromText) {
  for (const char* text : {"remote.svc.cluster.local.", "a\\.b.example.", "\\000\\255.x."}) {
    NameStorage wire_name;
    const Result<std::size_t> len = NameFromText(text, wire_name);
    ASSERT_TRUE(len) << text;
    std::array<char, kMaxNameTextLen> out;
    const Result<std::size_t> text_len =
        NameToText(std::span<const std::uint8_t>(wire_name.data(), *len), out);
    ASSERT_TRUE(text_len);
    EXPECT_EQ(std::string(out.data(), *text_len), text);
  }
}

}  // namespace
}  // namespace ringdns::wire
