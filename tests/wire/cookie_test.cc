// FindCookie, WriteCookieOption, DropOption and DropOpt: the COOKIE option (RFC 7873) as
// ringdns reads it from answers and writes it into queries upstream.
#include "wire/cookie.h"

#include <gtest/gtest.h>

#include <array>

#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/message.h"
#include "wire/response.h"

namespace ringdns::wire {
namespace {

using testing::ARdata;
using testing::Bytes;
using testing::Hex;
using testing::MessageBuilder;

Bytes AnswerWithOptions(const Bytes& options) {
  return MessageBuilder(7, flag::kQr | flag::kRd | flag::kRa)
      .Question("www.example.", rrtype::kA)
      .AnswerAt(12, rrtype::kA, 60, ARdata(192, 0, 2, 1))
      .Opt(1232, 0, options)
      .bytes();
}

FoundCookie Find(const Bytes& msg) {
  const Result<ResponseInfo> info = WalkResponse(msg);
  EXPECT_TRUE(info);
  return FindCookie(msg, info->opt());
}

TEST(FindCookie, ReadsAClientCookieAloneAndWithAServerCookie) {
  const Bytes alone = AnswerWithOptions(Hex("000a 0008 0102030405060708"));
  FoundCookie found = Find(alone);
  ASSERT_EQ(found.status, FoundCookie::Status::kOk);
  EXPECT_EQ(Bytes(found.client.begin(), found.client.end()), Hex("0102030405060708"));
  EXPECT_TRUE(found.server.empty());

  const Bytes both = AnswerWithOptions(
      Hex("0003 0000 000a 0018 0102030405060708 01000000aabbccdd1122334455667788"));
  found = Find(both);
  ASSERT_EQ(found.status, FoundCookie::Status::kOk);
  EXPECT_EQ(Bytes(found.server.begin(), found.server.end()),
            Hex("01000000aabbccdd1122334455667788"));
}

TEST(FindCookie, NoOptOrNoCookieIsNone) {
  EXPECT_EQ(Find(AnswerWithOptions(Hex("0003 0000"))).status, FoundCookie::Status::kNone);
  const Bytes plain = MessageBuilder(7, flag::kQr).Question("www.example.", rrtype::kA).bytes();
  EXPECT_EQ(Find(plain).status, FoundCookie::Status::kNone);
}

TEST(FindCookie, LengthsRfc7873ForbidsAndASecondCookieAreMalformed) {
  // 5.2.2: the client cookie alone is 8; with a server cookie 16 to 40 in all.
  for (const char* option :
       {"000a 0000", "000a 0005 0102030405", "000a 0009 010203040506070809",
        "000a 000f 0102030405060708 01020304050607",
        "000a 0029 0102030405060708 "
        "0102030405060708010203040506070801020304050607080102030405060708 09"}) {
    EXPECT_EQ(Find(AnswerWithOptions(Hex(option))).status, FoundCookie::Status::kMalformed)
        << option;
  }
  const Bytes twice =
      AnswerWithOptions(Hex("000a 0008 0102030405060708 000a 0008 0102030405060708"));
  EXPECT_EQ(Find(twice).status, FoundCookie::Status::kMalformed);
}

TEST(WriteCookieOption, WritesWhatFindCookieReads) {
  const std::array<std::uint8_t, 8> client{1, 2, 3, 4, 5, 6, 7, 8};
  const Bytes server = Hex("0100000011223344aabbccddeeff0011");
  std::uint8_t out[cookie::kMaxOptionSize];
  const std::size_t len = WriteCookieOption(client, server, out);
  EXPECT_EQ(Bytes(out, out + len),
            Hex("000a 0018 0102030405060708 0100000011223344aabbccddeeff0011"));
  EXPECT_EQ(WriteCookieOption(client, {}, out), 12u);
  EXPECT_EQ(Bytes(out, out + 12), Hex("000a 0008 0102030405060708"));
}

TEST(DropOption, TakesEveryCopyOutOfALastOpt) {
  Bytes msg =
      MessageBuilder(1, 0x0100)
          .Question("www.example.", rrtype::kA)
          .Opt(1232, 0, Hex("000a 0008 0102030405060708 0003 0000 000a 0008 1112131415161718"))
          .bytes();
  Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q);
  OptView opt = q->opt;
  msg.resize(DropOption(msg, opt, edns::kOptionCookie));
  const Result<QueryView> after = ParseQuery(msg);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->opt.rdlength, 4u);
  EXPECT_EQ(opt.rdlength, 4u);
  EXPECT_EQ(Bytes(msg.end() - 4, msg.end()), Hex("0003 0000"));
}

TEST(DropOption, LeavesAnOptThatIsNotLastAlone) {
  Bytes msg = MessageBuilder(1, 0x0100)
                  .Question("www.example.", rrtype::kA)
                  .Opt(1232, 0, Hex("000a 0008 0102030405060708"))
                  .Additional("x.example.", rrtype::kA, 60, ARdata(192, 0, 2, 9))
                  .bytes();
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q);
  OptView opt = q->opt;
  const Bytes before = msg;
  EXPECT_EQ(DropOption(msg, opt, edns::kOptionCookie), msg.size());
  EXPECT_EQ(msg, before);
}

TEST(DropOpt, RemovesALastOptAndCountsItOut) {
  Bytes msg = AnswerWithOptions(Hex("000a 0008 0102030405060708"));
  Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  OptView opt = info->opt();
  const std::size_t size = DropOpt(msg, opt);
  EXPECT_EQ(size, info->opt().offset);
  EXPECT_FALSE(opt.present());
  msg.resize(size);
  const Result<ResponseInfo> after = WalkResponse(msg);
  ASSERT_TRUE(after) << ToString(after.error());
  EXPECT_FALSE(after->opt().present());
  EXPECT_EQ(LoadU16(msg.data() + header::kArCount), 0);
  EXPECT_EQ(LoadU16(msg.data() + header::kAnCount), 1);
}

TEST(DropOpt, KeepsAnOptARecordFollows) {
  Bytes msg = MessageBuilder(7, flag::kQr)
                  .Question("www.example.", rrtype::kA)
                  .Opt(1232, 0)
                  .Additional("x.example.", rrtype::kA, 60, ARdata(192, 0, 2, 9))
                  .bytes();
  Result<ResponseInfo> info = WalkResponse(msg);
  ASSERT_TRUE(info);
  OptView opt = info->opt();
  EXPECT_EQ(DropOpt(msg, opt), msg.size());
  EXPECT_TRUE(opt.present());
}

}  // namespace
}  // namespace ringdns::wire
