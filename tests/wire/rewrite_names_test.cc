// wire::RewriteNames: a response re-encoded with names replaced: the question, owners
// (pointers followed), names in RDATA, compression of the copy, TTLs, and malformed input.
#include "wire/rewrite_names.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "testing/message_builder.h"
#include "wire/bytes.h"
#include "wire/response.h"

namespace ringdns::wire {
namespace {

using testing::Bytes;
using testing::MessageBuilder;
using testing::WireName;

// Maps every name equal to `from` (exactly) to `to`, for the roles in `roles`.
struct Rename {
  Bytes from, to;
  bool owners = true, targets = true;
  std::uint32_t ttl = 0;  // 0: kept
};

std::size_t MapName(void* context, NameRole role, std::span<const std::uint8_t> name,
                    NameStorage& out) {
  const Rename& r = *static_cast<const Rename*>(context);
  if (role == NameRole::kOwner && !r.owners) return 0;
  if (role == NameRole::kTarget && !r.targets) return 0;
  if (name.size() != r.from.size() || std::memcmp(name.data(), r.from.data(), name.size()) != 0)
    return 0;
  std::memcpy(out.data(), r.to.data(), r.to.size());
  return r.to.size();
}

std::uint32_t MapTtl(void* context, std::uint32_t ttl) {
  const Rename& r = *static_cast<const Rename*>(context);
  return r.ttl != 0 ? r.ttl : ttl;
}

// The names of a message as text, in order (question, then each record's owner and,
// for CNAME, target), read by expanding pointers.
std::vector<std::string> Names(std::span<const std::uint8_t> msg) {
  std::vector<std::string> out;
  NameEdits edits;
  std::vector<std::string>* sink = &out;
  edits.context = sink;
  edits.map_name = [](void* c, NameRole, std::span<const std::uint8_t> name,
                      NameStorage&) -> std::size_t {
    std::array<char, kMaxNameTextLen> text;
    const Result<std::size_t> len = NameToText(name, text);
    static_cast<std::vector<std::string>*>(c)->emplace_back(text.data(), len ? *len : 0);
    return 0;
  };
  std::vector<std::uint8_t> scratch(65535);
  EXPECT_TRUE(RewriteNames(msg, scratch, edits).has_value());
  return out;
}

Bytes Cname(std::string_view target) { return WireName(target); }

TEST(RewriteNames, TheQuestionOwnersAndTargetsAreRenamedAndTheCopyStaysCompressed) {
  MessageBuilder m(0x1234, 0x8180);
  m.Question("foo.default.svc.cluster.local.", 1);
  m.AnswerAt(12, 5, 60, Cname("bar.default.svc.cluster.local."));
  m.Answer("bar.default.svc.cluster.local.", 1, 60, testing::ARdata(10, 0, 0, 1));
  m.Opt(1232, 0);
  Rename r{WireName("foo.default.svc.cluster.local."), WireName("foo.example.com.")};
  NameEdits edits{&r, MapName, MapTtl, 0, 0};
  std::vector<std::uint8_t> out(4096);
  const Result<std::size_t> len = RewriteNames(m.bytes(), out, edits);
  ASSERT_TRUE(len.has_value()) << ToString(len.error());
  out.resize(*len);
  ASSERT_TRUE(WalkResponse(out).has_value());
  EXPECT_EQ(Names(out), (std::vector<std::string>{"foo.example.com.", "foo.example.com.",
                                                  "bar.default.svc.cluster.local.",
                                                  "bar.default.svc.cluster.local."}));
  // OPT's owner is not a name anyone renames: not offered. The second bar... owner is a pointer to
  // the CNAME's target: the copy is no larger than the names it had to spell out.
  EXPECT_LT(out.size(), m.bytes().size());
  EXPECT_EQ(LoadU16(out.data()), 0x1234);
}

TEST(RewriteNames, TtlsAreMappedButOptIsLeftAlone) {
  MessageBuilder m(1, 0x8180);
  m.Question("a.example.", 1);
  m.AnswerAt(12, 1, 3600, testing::ARdata(1, 2, 3, 4));
  m.Opt(1232, 0x00008000);  // DO
  Rename r{WireName("x."), WireName("y."), true, true, 15};
  NameEdits edits{&r, MapName, MapTtl, 0, 0};
  std::vector<std::uint8_t> out(4096);
  const Result<std::size_t> len = RewriteNames(m.bytes(), out, edits);
  ASSERT_TRUE(len.has_value());
  out.resize(*len);
  const Result<ResponseInfo> info = WalkResponse(out);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->min_ttl, 15u);
  EXPECT_EQ(out.size(), m.bytes().size());
  EXPECT_EQ(LoadU32(out.data() + out.size() - 6), 0x00008000u);  // OPT's TTL field: DO kept
}

TEST(RewriteNames, TheQuestionTypeAndClassAreReplacedWhenAsked) {
  MessageBuilder m(1, 0x8180);
  m.Question("a.example.", 1);
  NameEdits edits;
  edits.question_type = 28;
  edits.question_class = 3;
  std::vector<std::uint8_t> out(512);
  const Result<std::size_t> len = RewriteNames(m.bytes(), out, edits);
  ASSERT_TRUE(len.has_value());
  EXPECT_EQ(LoadU16(out.data() + *len - 4), 28);
  EXPECT_EQ(LoadU16(out.data() + *len - 2), 3);
}

TEST(RewriteNames, SrvTargetsAreRenamedUncompressed) {
  MessageBuilder m(1, 0x8180);
  m.Question("_x._tcp.old.example.", 33);
  m.AnswerAt(12, 33, 60, testing::SrvRdata(1, 2, 53, "host.old.example."));
  Rename r{WireName("host.old.example."), WireName("host.new.example.")};
  NameEdits edits{&r, MapName, nullptr, 0, 0};
  std::vector<std::uint8_t> out(512);
  const Result<std::size_t> len = RewriteNames(m.bytes(), out, edits);
  ASSERT_TRUE(len.has_value());
  out.resize(*len);
  ASSERT_TRUE(WalkResponse(out).has_value());
  const Bytes target = WireName("host.new.example.");
  // RFC 2782: the target is written in full at the end of the RDATA.
  EXPECT_EQ(Bytes(out.end() - static_cast<std::ptrdiff_t>(target.size()), out.end()), target);
}

TEST(RewriteNames, AResultThatDoesNotFitIsRefused) {
  MessageBuilder m(1, 0x8180);
  m.Question("a.example.", 1);
  m.AnswerAt(12, 1, 60, testing::ARdata(1, 2, 3, 4));
  std::vector<std::uint8_t> out(m.bytes().size() - 1);
  EXPECT_EQ(RewriteNames(m.bytes(), out, NameEdits{}).error(), Error::kBufferTooSmall);
}

TEST(RewriteNames, MalformedInputIsRefusedNotRead) {
  MessageBuilder m(1, 0x8180);
  m.Question("a.example.", 1);
  const std::uint16_t owner = m.size();
  m.AnswerAt(12, 1, 60, testing::ARdata(1, 2, 3, 4));
  std::vector<std::uint8_t> out(4096);
  for (std::size_t cut = 0; cut < m.bytes().size(); ++cut) {
    const std::vector<std::uint8_t> in(m.bytes().begin(),
                                       m.bytes().begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_FALSE(RewriteNames(in, out, NameEdits{}).has_value()) << cut;
  }
  Bytes loop = m.bytes();
  loop[owner + 1] = static_cast<std::uint8_t>(owner);  // the answer's owner: a pointer to itself
  EXPECT_FALSE(RewriteNames(loop, out, NameEdits{}).has_value());
}

}  // namespace
}  // namespace ringdns::wire
