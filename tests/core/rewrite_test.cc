// CoreDNS's rewrite without a socket: the directive as CoreDNS reads it (the forms, the
// errors with their positions, the normalised form), the query side (CoreDNS's own test
// tables for prefix and suffix, regex groups, continue and stop, type and class, names
// that are not names afterwards) and the answer side (the question given back, answer
// name/value/auto, TTL ranges).
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "core/config/loader.h"
#include "core/pipeline/pipeline.h"
#include "core/pipeline/rewrite_stage.h"
#include "testing/message_builder.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/response.h"
#include "wire/rewrite_names.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::MessageBuilder;
using testing::WireName;

absl::StatusOr<config::Config> Parse(const std::string& directives) {
  return config::ParseCorefile(".:5353 {\n" + directives + " forward . 127.0.0.1:53\n}\n",
                               "test/Corefile");
}

std::string Error(const std::string& directives) {
  return std::string(Parse(directives).status().message());
}

RewriteStage Stage(const std::string& directives) {
  absl::StatusOr<config::Config> c = Parse(directives);
  EXPECT_TRUE(c.ok()) << c.status();
  absl::StatusOr<RewriteStage> s = RewriteStage::Build(c->blocks.front().rewrites);
  EXPECT_TRUE(s.ok()) << s.status();
  return std::move(*s);
}

std::string NameText(std::span<const std::uint8_t> wire_name) {
  std::array<char, wire::kMaxNameTextLen> text;
  const wire::Result<std::size_t> len = wire::NameToText(wire_name, text);
  return len ? std::string(text.data(), *len) : "<bad>";
}

// One query through the rules: the outcome and the query's question afterwards.
struct Rewritten {
  RewriteStage::QueryResult result;
  std::string name;
  std::uint16_t qtype = 0, qclass = 0;
  Bytes message;
};

Rewritten Ask(const RewriteStage& stage, const std::string& name, std::uint16_t qtype = 1,
              std::uint16_t qclass = 1) {
  MessageBuilder m(7, 0x0100);
  m.Question(name, qtype, qclass);
  m.Opt(1232, 0);
  Rewritten r;
  r.message = m.bytes();
  const std::size_t len = r.message.size();
  r.message.resize(1024);
  r.result = stage.RewriteQuery(r.message, len, WireName(name).size(), qtype, qclass);
  r.message.resize(r.result.len);
  const wire::Result<wire::QueryView> q = wire::ParseQuery(r.message);
  EXPECT_TRUE(q.has_value()) << "the rewritten query parses";
  if (q) {
    r.name = NameText(q->qname(r.message));
    r.qtype = q->qtype;
    r.qclass = q->qclass;
  }
  return r;
}

TEST(RewriteConfig, ReadsEveryFormCoreDnsReads) {
  absl::StatusOr<config::Config> c = Parse(
      " rewrite name example.net example.org\n"
      " rewrite continue name SUFFIX .Schmoogle.com. .google.com. answer auto\n"
      " rewrite stop {\n  name regex (.*)\\.example\\.com {1}.default.svc.cluster.local\n"
      "  answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.example.com\n }\n"
      " rewrite name regex (.*)-(us-west-1)\\.example\\.org {1}.service.{2}.consul answer name "
      "(.*)\\.service\\.(us-west-1)\\.consul {1}-{2}.example.org answer value (.*)\\.consul "
      "{1}.org\n"
      " rewrite type ANY HINFO\n rewrite class CH IN\n rewrite continue ttl regex "
      "(.*)\\.coredns\\.rocks 15\n"
      " rewrite ttl example.com 30-\n");
  ASSERT_TRUE(c.ok()) << c.status();
  const std::vector<config::Rewrite>& r = c->blocks.front().rewrites;
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(r[0].match, config::NameMatch::kExact);
  EXPECT_EQ(r[0].from, "example.net.");
  EXPECT_EQ(r[0].to, "example.org.");
  EXPECT_TRUE(r[0].stop);
  EXPECT_FALSE(r[1].stop);
  EXPECT_EQ(r[1].match, config::NameMatch::kSuffix);
  EXPECT_EQ(r[1].from, ".schmoogle.com.");
  EXPECT_TRUE(r[1].answer_auto);
  EXPECT_EQ(r[2].match, config::NameMatch::kRegex);
  EXPECT_EQ(r[2].from, "(.*)\\.example\\.com");
  EXPECT_EQ(r[2].to, "{1}.default.svc.cluster.local.");
  ASSERT_EQ(r[2].answers.size(), 1u);
  EXPECT_EQ(r[2].answers[0].replacement, "{1}.example.com.");
  ASSERT_EQ(r[3].answers.size(), 2u);
  EXPECT_TRUE(r[3].answers[1].value);
  EXPECT_EQ(r[4].field, config::RewriteField::kType);
  EXPECT_EQ(r[4].from_code, 255);
  EXPECT_EQ(r[4].to_code, 13);
  EXPECT_EQ(r[5].from_code, 3);
  EXPECT_EQ(r[5].to_code, 1);
  EXPECT_EQ(r[6].ttl_min, 15u);
  EXPECT_EQ(r[6].ttl_max, 15u);
  EXPECT_EQ(r[7].ttl_min, 30u);
  EXPECT_EQ(r[7].ttl_max, 2147483647u);
  // The normalised form reads back to itself.
  const std::string text = config::FormatCorefile(*c);
  absl::StatusOr<config::Config> again = config::ParseCorefile(text, "normalised");
  ASSERT_TRUE(again.ok()) << text << again.status();
  EXPECT_EQ(config::FormatCorefile(*again), text);
}

TEST(RewriteConfig, RefusesWhatCoreDnsRefusesWithItsPosition) {
  auto refused = [](const std::string& directives, const std::string& expected) {
    const std::string error = Error(directives);
    EXPECT_NE(error.find(expected), std::string::npos) << directives << "\n -> " << error;
  };
  refused(" rewrite\n",
          "test/Corefile:2:2: rewrite: expected rewrite [continue|stop] FIELD FROM TO");
  refused(" rewrite name a\n", "test/Corefile:2:10: rewrite: a name rule needs FROM TO");
  refused(" rewrite name bogus a b\n", "test/Corefile:2:15: rewrite: unknown match type 'bogus'");
  refused(" rewrite name regex (.*).coredns.rocks {1}.{2}.coredns.rocks\n",
          "test/Corefile:2:40: rewrite: the replacement '{1}.{2}.coredns.rocks' uses more groups "
          "than the regex");
  refused(" rewrite name regex (unclosed x\n",
          "test/Corefile:2:21: rewrite: invalid regex matching pattern '(unclosed'");
  refused(" rewrite answer name a b\n",
          "test/Corefile:2:10: rewrite: response rewrites must begin with a name rule");
  refused(" rewrite name exact a b extra\n", "rewrite: unexpected 'extra', expected answer auto");
  refused(" rewrite name regex (a) b answer auto\n",
          "answer auto is not supported by ringdns for a regex rule");
  refused(" rewrite name suffix a b answer auto answer name (x) y\n",
          "answer auto cannot be combined with answer name");
  refused(" rewrite name suffix a b answer bogus\n", "unknown answer rule 'bogus'");
  refused(" rewrite type A\n", "rewrite: type rules must have exactly two arguments");
  refused(" rewrite type A BOGUS\n", "unknown query type 'BOGUS'");
  refused(" rewrite class IN XX\n", "rewrite: invalid class 'XX'");
  refused(" rewrite ttl example.com 1x\n", "rewrite: invalid TTL '1x'");
  refused(" rewrite ttl example.com -\n", "rewrite: invalid TTL '-'");
  refused(" rewrite ttl example.com 60-30\n", "rewrite: invalid TTL '60-30'");
  refused(" rewrite ttl example.com 2147483648\n", "rewrite: invalid TTL '2147483648'");
  refused(" rewrite rcode example.com NXDOMAIN NOERROR\n",
          "rewrite: rcode rules are not supported by ringdns yet");
  refused(" rewrite bogus a b\n", "rewrite: invalid rule type 'bogus'");
  refused(" rewrite name a b {\n  c\n }\n", "rewrite: a block follows at most continue or stop");
  std::string many;
  for (int i = 0; i < 33; ++i) many += " rewrite name a" + std::to_string(i) + " b\n";
  refused(many, "rewrite: more than 32 rules in one server block");
}

TEST(RewriteQuery, PrefixAndSuffixAsCoreDnsTestsThem) {
  // plugin/rewrite/name_test.go's TestRewriteNamePrefixSuffix.
  EXPECT_EQ(Ask(Stage(" rewrite name prefix foo bar\n"), "foo.example.com.").name,
            "bar.example.com.");
  EXPECT_EQ(Ask(Stage(" rewrite name prefix foo. bar.\n"), "foo.example.com.").name,
            "bar.example.com.");
  EXPECT_EQ(Ask(Stage(" rewrite name suffix com org\n"), "foo.example.com.").name,
            "foo.example.org.");
  EXPECT_EQ(Ask(Stage(" rewrite name suffix .com .org\n"), "foo.example.com.").name,
            "foo.example.org.");
}

TEST(RewriteQuery, ExactSubstringAndRegexRewriteTheNameLowerCased) {
  const RewriteStage exact = Stage(" rewrite name exact a.example. much.longer.name.example.\n");
  Rewritten r = Ask(exact, "A.Example.");
  EXPECT_EQ(r.result.outcome, RewriteStage::Outcome::kRewritten);
  EXPECT_EQ(r.name, "much.longer.name.example.");
  EXPECT_EQ(r.result.matched, 1u);
  EXPECT_EQ(Ask(exact, "b.example.").result.outcome, RewriteStage::Outcome::kUnchanged);
  EXPECT_EQ(
      Ask(Stage(" rewrite name substring service.us-west-1.example.org service.us-west-1.consul\n"),
          "ftp.service.us-west-1.example.org.")
          .name,
      "ftp.service.us-west-1.consul.");
  EXPECT_EQ(
      Ask(Stage(" rewrite name regex (.*)-(us-west-1)\\.example\\.org {1}.service.{2}.consul\n"),
          "ftp-us-west-1.example.org.")
          .name,
      "ftp.service.us-west-1.consul.");
  // The other sections move with the name: the OPT is still read.
  r = Ask(exact, "a.example.");
  EXPECT_EQ(r.message.size(), WireName("much.longer.name.example.").size() + 12 + 4 + 11);
}

TEST(RewriteQuery, TheAnyThenLiteralShortcutAgreesWithRe2) {
  // `(.*)LITERAL` is matched without RE2's group search (which allocates for it); the
  // same rule written so that RE2 must search ([.] is not a literal) gives the same names.
  const std::vector<std::pair<std::string, std::string>> rules = {
      {"(.*)\\.example\\.com", "(.*)[.]example[.]com"},
      {"^(.*)\\.example\\.com$", "^(.*)[.]example[.]com$"},
      {"(.*)-us\\.x", "(.*)-us[.]x"},
  };
  const std::vector<std::string> names = {"a.example.com.",       "a.example.com.example.com.",
                                          "example.com.",         "x.example.co.",
                                          "a.b.example.com.org.", "q-us.x.",
                                          "q-us.x.r-us.x.",       "nothing."};
  for (const auto& [shortcut, searched] : rules) {
    const RewriteStage fast = Stage(" rewrite name regex " + shortcut + " {1}.{0}.t\n");
    const RewriteStage slow = Stage(" rewrite name regex " + searched + " {1}.{0}.t\n");
    for (const std::string& name : names) {
      const Rewritten a = Ask(fast, name), b = Ask(slow, name);
      EXPECT_EQ(a.result.outcome, b.result.outcome) << shortcut << " " << name;
      EXPECT_EQ(a.name, b.name) << shortcut << " " << name;
    }
  }
}

TEST(RewriteQuery, AGroupThatTookNoPartIsEmpty) {
  // RE2 gives such a group no data at all (UBSan caught the copy from null).
  const RewriteStage stage =
      Stage(" rewrite name regex ^(www\\.)?(.*)\\.example\\.org\\.$ {1}{2}.internal.\n");
  EXPECT_EQ(Ask(stage, "foo.example.org.").name, "foo.internal.");
  EXPECT_EQ(Ask(stage, "www.foo.example.org.").name, "www.foo.internal.");
}

TEST(RewriteQuery, StopEndsTheListAndContinueGoesOnWithTheNewName) {
  const RewriteStage stop =
      Stage(" rewrite name a.example. b.example.\n rewrite name b.example. c.example.\n");
  EXPECT_EQ(Ask(stop, "a.example.").name, "b.example.");
  const RewriteStage go_on = Stage(
      " rewrite continue name a.example. b.example.\n rewrite name b.example. c.example.\n rewrite "
      "type A AAAA\n");
  const Rewritten r = Ask(go_on, "a.example.");
  EXPECT_EQ(r.name, "c.example.");
  EXPECT_EQ(r.qtype, 1) << "the second rule stopped the list";
  EXPECT_EQ(r.result.matched, 3u);
}

TEST(RewriteQuery, TypeAndClass) {
  const RewriteStage stage = Stage(" rewrite continue type ANY HINFO\n rewrite class CH IN\n");
  Rewritten r = Ask(stage, "x.example.", 255, 3);
  EXPECT_EQ(r.qtype, 13);
  EXPECT_EQ(r.qclass, 1);
  EXPECT_EQ(r.name, "x.example.");
  r = Ask(stage, "x.example.", 1, 1);
  EXPECT_EQ(r.result.outcome, RewriteStage::Outcome::kUnchanged);
}

TEST(RewriteQuery, ANameThatIsNotANameAfterwardsFails) {
  // CoreDNS's TestRewriteIllegalName.
  EXPECT_EQ(Ask(Stage(" rewrite name example.org. example..org.\n"), "example.org.").result.outcome,
            RewriteStage::Outcome::kFailed);
  // Longer than 255 octets.
  const RewriteStage grow = Stage(" rewrite name regex (.*) {1}.{1}.{1}.{1}\n");
  std::string long_name;
  for (int i = 0; i < 3; ++i) long_name += std::string(60, 'a') + ".";
  EXPECT_EQ(Ask(grow, long_name).result.outcome, RewriteStage::Outcome::kFailed);
}

TEST(RewriteQuery, ALargeQueryIsRewrittenWhenItsRoomHoldsIt) {
  const RewriteStage stage = Stage(" rewrite name suffix .cb.test. .remote.svc.cluster.local.\n");
  MessageBuilder m(7, 0x0100);
  m.Question("foo.cb.test.", 1);
  m.Opt(1232, 0, Bytes(1900 - 12 - 13 - 4 - 11, 0));  // a padding-sized option body
  Bytes message = m.bytes();
  const std::size_t len = message.size();
  message.resize(1960);
  const RewriteStage::QueryResult r = stage.RewriteQuery(message, len, 13, 1, 1);
  EXPECT_EQ(r.outcome, RewriteStage::Outcome::kRewritten);
  EXPECT_EQ(r.len, len + 17);
}

TEST(RewriteQuery, NoRoomForTheLongerNameFails) {
  const RewriteStage stage =
      Stage(" rewrite name a. aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.\n");
  MessageBuilder m(7, 0x0100);
  m.Question("a.", 1);
  Bytes message = m.bytes();
  const RewriteStage::QueryResult r = stage.RewriteQuery(message, message.size(), 3, 1, 1);
  EXPECT_EQ(r.outcome, RewriteStage::Outcome::kFailed);
  EXPECT_EQ(message, m.bytes()) << "a failed rewrite leaves the query as it was";
}

// An upstream's answer to a rewritten query, and what the client gets.
Bytes Revert(const RewriteStage& stage, const Bytes& answer, const std::string& asked,
             std::uint32_t matched, std::uint16_t qtype = 1) {
  OriginalQuestion original;
  const Bytes name = WireName(asked);
  original.qname_len = static_cast<std::uint8_t>(name.size());
  std::copy(name.begin(), name.end(), original.qname.begin());
  original.qtype = qtype;
  original.qclass = 1;
  Bytes out(65535);
  const wire::Result<std::size_t> len = stage.RevertAnswer(answer, out, original, matched);
  EXPECT_TRUE(len.has_value());
  out.resize(len ? *len : 0);
  EXPECT_TRUE(wire::WalkResponse(out).has_value());
  return out;
}

// Every name of a message in order, and every TTL.
struct Seen {
  std::vector<std::string> names;
  std::vector<std::uint32_t> ttls;
};
Seen Read(const Bytes& msg) {
  Seen seen;
  wire::NameEdits edits;
  edits.context = &seen;
  edits.map_name = [](void* c, wire::NameRole, std::span<const std::uint8_t> n,
                      wire::NameStorage&) -> std::size_t {
    static_cast<Seen*>(c)->names.push_back(NameText(n));
    return 0;
  };
  edits.map_ttl = [](void* c, std::uint32_t ttl) {
    static_cast<Seen*>(c)->ttls.push_back(ttl);
    return ttl;
  };
  Bytes out(65535);
  EXPECT_TRUE(wire::RewriteNames(msg, out, edits).has_value());
  return seen;
}

TEST(RewriteAnswer, TheQuestionComesBackAndAnswerNameRenamesOwnersOnly) {
  const RewriteStage stage = Stage(
      " rewrite stop {\n  name regex (.*)\\.example\\.com {1}.default.svc.cluster.local\n"
      "  answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.example.com\n }\n");
  MessageBuilder m(7, 0x8180);
  m.Question("foo.default.svc.cluster.local.", 1);
  m.AnswerAt(12, 5, 60, WireName("bar.default.svc.cluster.local."));
  m.Answer("bar.default.svc.cluster.local.", 1, 60, testing::ARdata(10, 0, 0, 1));
  const Seen seen = Read(Revert(stage, m.bytes(), "Foo.Example.com.", 1));
  EXPECT_EQ(seen.names,
            (std::vector<std::string>{"Foo.Example.com.", "foo.example.com.",
                                      "bar.default.svc.cluster.local.", "bar.example.com."}));
}

TEST(RewriteAnswer, AnswerAutoAndExactRulesRunBackwards) {
  const RewriteStage suffix =
      Stage(" rewrite name suffix .cb.test. .remote.example. answer auto\n");
  MessageBuilder m(7, 0x8180);
  m.Question("_x._tcp.svc.remote.example.", 33);
  m.AnswerAt(12, 33, 60, testing::SrvRdata(0, 1, 53, "host.remote.example."));
  EXPECT_EQ(
      Read(Revert(suffix, m.bytes(), "_x._tcp.svc.cb.test.", 1, 33)).names,
      (std::vector<std::string>{"_x._tcp.svc.cb.test.", "_x._tcp.svc.cb.test.", "host.cb.test."}));
  // An exact rule turns owners back without `answer auto`, but not RDATA names.
  const RewriteStage exact = Stage(" rewrite name exact a.test. b.example.\n");
  MessageBuilder e(7, 0x8180);
  e.Question("b.example.", 5);
  e.AnswerAt(12, 5, 60, WireName("b.example."));
  EXPECT_EQ(Read(Revert(exact, e.bytes(), "a.test.", 1, 5)).names,
            (std::vector<std::string>{"a.test.", "a.test.", "b.example."}));
}

TEST(RewriteAnswer, AnswerValueRenamesTargetsAndTtlRulesClampEveryTtl) {
  const RewriteStage stage = Stage(
      " rewrite continue name regex (.*)\\.a\\.test {1}.b.test answer name (.*)\\.b\\.test "
      "{1}.a.test answer value (.*)\\.b\\.test {1}.a.test\n"
      " rewrite ttl suffix .b.test. 30-60\n");
  MessageBuilder m(7, 0x8180);
  m.Question("x.b.test.", 5);
  m.AnswerAt(12, 5, 5, WireName("y.b.test."));
  m.Answer("y.b.test.", 1, 3600, testing::ARdata(10, 0, 0, 1));
  m.Opt(1232, 0);
  const Seen seen = Read(Revert(stage, m.bytes(), "x.a.test.", 3, 5));
  EXPECT_EQ(seen.names,
            (std::vector<std::string>{"x.a.test.", "x.a.test.", "y.a.test.", "y.a.test."}));
  EXPECT_EQ(seen.ttls, (std::vector<std::uint32_t>{30, 60})) << "OPT's is not a TTL";
  // Unmatched rules do nothing: the question alone comes back.
  const Seen plain = Read(Revert(stage, m.bytes(), "x.a.test.", 0, 5));
  EXPECT_EQ(plain.names,
            (std::vector<std::string>{"x.a.test.", "x.b.test.", "y.b.test.", "y.b.test."}));
  EXPECT_EQ(plain.ttls, (std::vector<std::uint32_t>{5, 3600}));
}

TEST(RewriteStageInPipeline, GoesAfterTheCacheBeforeTheOtherStages) {
  absl::StatusOr<config::Config> c = Parse(" rewrite name a. b.\n");
  ASSERT_TRUE(c.ok());
  absl::StatusOr<Pipeline> p = BuildPipeline(c->blocks.front());
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->rewrite.has_value());
  EXPECT_TRUE(p->before_cache.empty());
}

}  // namespace
}  // namespace ringdns::core
