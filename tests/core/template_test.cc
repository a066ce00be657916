// CoreDNS's template plugin without a socket: the Go-template subset (what renders, what
// is refused at load), the stage's choices (zones, class and type, regexes, fallthrough,
// rcode, EDE) through BuildPipeline, and the directive's errors and -validate form.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "core/config/loader.h"
#include "core/config/template_text.h"
#include "core/pipeline/pipeline.h"
#include "core/pipeline/regex_groups.h"
#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/bytes.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::MessageBuilder;

std::string Render(std::string_view text, const TemplateData& data) {
  absl::StatusOr<TemplateText> t = TemplateText::Compile(text);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status();
  if (!t.ok()) return "<compile error>";
  std::array<char, 512> out;
  const std::optional<std::size_t> len = t->Render(data, out);
  return len ? std::string(out.data(), *len) : "<render error>";
}

TEST(TemplateText, RendersTheFieldsGroupsAndMatches) {
  const std::vector<std::string_view> match = {"ip-10-1-2-3.example.", "10", "1", ""};
  const std::vector<std::pair<std::string, int>> groups = {{"a", 1}, {"b", 2}, {"c", 3}};
  const TemplateData data{.name = "ip-10-1-2-3.example.",
                          .zone = "example.",
                          .qclass = "IN",
                          .qtype = "A",
                          .regex = "^ip-(?P<a>...)",
                          .remote = "127.0.0.1",
                          .match = match,
                          .group_names = groups};
  EXPECT_EQ(Render("{{ .Name }} 60 {{ .Class }} {{ .Type }} {{.Group.a}}.{{ .Group.b }}", data),
            "ip-10-1-2-3.example. 60 IN A 10.1");
  EXPECT_EQ(Render("{{ .Zone }}|{{ .Regex }}|{{ .Remote }}", data),
            "example.|^ip-(?P<a>...)|127.0.0.1");
  EXPECT_EQ(Render("{{ index .Match 0 }}/{{ index .Match 2 }}/{{ index .Group \"a\" }}/{{ index "
                   ".Group `2` }}",
                   data),
            "ip-10-1-2-3.example./1/10/1");
  // Go: a group that took no part is "", a missing map key printed through a field is
  // "<no value>", and through index it is "".
  EXPECT_EQ(
      Render("[{{ .Group.c }}][{{ .Group.zz }}][{{ index .Group \"zz\" }}][{{ .Meta \"x/y\" }}]",
             data),
      "[][<no value>][][]");
  EXPECT_EQ(Render("{{ index .Match 4 }}", data),
            "<render error>");  // past the last group, as Go fails
  EXPECT_EQ(Render("[{{ index .Group \"01\" }}]", data),
            "[]");  // CoreDNS's keys are "1", never "01"
}

TEST(TemplateText, TrimsWhiteSpaceBesideDashesAndDropsComments) {
  const TemplateData data{.name = "n."};
  EXPECT_EQ(Render("a  {{- .Name -}}  b", data), "an.b");
  EXPECT_EQ(Render("a {{/* why */}}b {{- /* trimmed */ -}} c", data), "a bc");
  EXPECT_EQ(Render("{{ .Name }}{{ .Name }}", data), "n.n.");
  EXPECT_EQ(Render("no actions at all", data), "no actions at all");
  EXPECT_TRUE(TemplateText::Compile("plain")->constant());
  EXPECT_FALSE(TemplateText::Compile("{{ .Name }}")->constant());
  EXPECT_TRUE(TemplateText::Compile("{{ .Remote }}")->uses_remote());
}

TEST(TemplateText, RefusesWhatItDoesNotRenderWithWhatItDoes) {
  for (const std::string_view bad :
       {"{{ .Name", "{{ .Message }}", "{{ .Question.Name }}", "{{ $x := 1 }}",
        "{{ if .Name }}x{{ end }}", "{{ .Name | printf \"%s\" }}", "{{ index .Match x }}",
        "{{ index .Group 1 }}", "{{ .Group.a-b }}", "{{ }}", "{{ .Nope }}"}) {
    const absl::StatusOr<TemplateText> t = TemplateText::Compile(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.status().message().find("expected"), std::string_view::npos) << t.status();
  }
}

TEST(RegexGroups, UnnamedGroupsBecomeNonCapturingAndNothingElseChanges) {
  EXPECT_EQ(WithoutUnnamedGroups("(^|[.])ip-(?P<a>[0-9]*)[.]example[.]$"),
            "(?:^|[.])ip-(?P<a>[0-9]*)[.]example[.]$");
  EXPECT_EQ(WithoutUnnamedGroups("(a)(?i:b)(?P<n>c)"), "(?:a)(?i:b)(?P<n>c)");
  // Escaped and quoted parentheses, and ones inside classes, are not groups.
  EXPECT_EQ(WithoutUnnamedGroups("\\(a\\)[(][^)(][]()][[:alpha:](]\\Q(x)\\E(y)"),
            "\\(a\\)[(][^)(][]()][[:alpha:](]\\Q(x)\\E(?:y)");
  EXPECT_EQ(WithoutUnnamedGroups("\\Q(unterminated"), "\\Q(unterminated");
  EXPECT_EQ(WithoutUnnamedGroups("[(unterminated"), "[(unterminated");
  EXPECT_EQ(WithoutUnnamedGroups("trailing\\"), "trailing\\");
  EXPECT_EQ(WithoutUnnamedGroups("("), "(?:");
}

absl::StatusOr<config::Config> Parse(const std::string& directives) {
  return config::ParseCorefile(".:5353 {\n" + directives + " forward example.org 127.0.0.1:53\n}\n",
                               "test/Corefile");
}

Pipeline Build(const std::string& directives) {
  absl::StatusOr<config::Config> config = Parse(directives);
  EXPECT_TRUE(config.ok()) << config.status();
  absl::StatusOr<Pipeline> p = BuildPipeline(config->blocks.front());
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

// One query through the block's after-cache stages, and what came back.
struct Asked {
  Verdict verdict = Verdict::kNext;
  Bytes answer;
  ShardCounters counters;
  wire::ResponseInfo info{};
  std::uint16_t rcode = 0;
  std::uint16_t flags = 0;

  Asked(const Pipeline& p, const std::string& qname, std::uint16_t qtype, std::uint16_t qclass = 1,
        bool edns = true, std::size_t room_size = 4096, bool tcp = false) {
    MessageBuilder b(9, wire::flag::kRd);
    b.Question(qname, qtype, qclass);
    if (edns) b.Opt(1232, 0);
    Bytes room = b.bytes();
    const std::size_t query_len = room.size();
    room.resize(room_size);
    const std::span<std::uint8_t> msg(room.data(), query_len);
    const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
    EXPECT_TRUE(q);
    sockaddr_in client{};
    client.sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.7", &client.sin_addr);
    QueryContext ctx{msg, *q,   q->qname(msg), reinterpret_cast<const sockaddr*>(&client),
                     tcp, room, counters,      1232};
    verdict = Pipeline::Run(p.after_cache, ctx);
    if (verdict != Verdict::kAnswered) return;
    answer.assign(room.begin(), room.begin() + static_cast<std::ptrdiff_t>(ctx.answer_len));
    const wire::Result<wire::ResponseInfo> walked = wire::WalkResponse(answer);
    EXPECT_TRUE(walked) << wire::ToString(walked.error());
    if (walked) info = *walked;
    flags = wire::LoadU16(answer.data() + wire::header::kFlags);
    rcode = flags & wire::flag::kRcodeMask;
  }
};

constexpr const char* kAPtr =
    " template IN A example {\n"
    "   match (^|[.])ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$\n"
    "   answer \"{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d "
    "}}\"\n"
    "   fallthrough\n"
    " }\n"
    " template IN PTR in-addr.arpa {\n"
    "   match ^(?P<d>[0-9]*)[.](?P<c>[0-9]*)[.](?P<b>[0-9]*)[.](?P<a>[0-9]*)[.]in-addr[.]arpa[.]$\n"
    "   answer \"{{ .Name }} 60 IN PTR ip-{{ .Group.a }}-{{ .Group.b }}-{{ .Group.c }}-{{ .Group.d "
    "}}.example.\"\n"
    " }\n";

TEST(TemplateStage, AnswersTheReadmesAAndPtrExample) {
  const Pipeline p = Build(kAPtr);
  const Asked a(p, "Ip-10-1-2-3.Example.", wire::rrtype::kA);
  ASSERT_EQ(a.verdict, Verdict::kAnswered);
  EXPECT_EQ(a.rcode, wire::rcode::kNoError);
  EXPECT_NE(a.flags & wire::flag::kAa, 0);
  EXPECT_EQ(a.info.counts[0], 1);  // one answer
  EXPECT_EQ(a.info.counts[2], 1);  // the OPT
  // The owner is the name in lower case, as CoreDNS's .Name is; then A 10.1.2.3, then
  // the OPT (11 octets).
  const Bytes owner = testing::WireName("ip-10-1-2-3.example.");
  const Bytes record(a.answer.end() - 11 - 14 - static_cast<std::ptrdiff_t>(owner.size()),
                     a.answer.end() - 11);
  EXPECT_EQ(Bytes(record.begin(), record.begin() + static_cast<std::ptrdiff_t>(owner.size())),
            owner);
  EXPECT_EQ(Bytes(record.end() - 4, record.end()), testing::Hex("0a010203"));
  EXPECT_EQ(a.counters.template_answers.get(), 1u);

  const Asked ptr(p, "3.2.1.10.in-addr.arpa.", wire::rrtype::kPtr);
  ASSERT_EQ(ptr.verdict, Verdict::kAnswered);
  EXPECT_EQ(ptr.info.counts[0], 1);
  // Another name under example: fallthrough, on to the forward.
  EXPECT_EQ(Asked(p, "www.example.", wire::rrtype::kA).verdict, Verdict::kNext);
  // Another type, another class, another zone: not these templates' queries.
  EXPECT_EQ(Asked(p, "ip-10-1-2-3.example.", wire::rrtype::kAaaa).verdict, Verdict::kNext);
  EXPECT_EQ(Asked(p, "ip-10-1-2-3.example.", wire::rrtype::kA, wire::rrclass::kChaos).verdict,
            Verdict::kNext);
  EXPECT_EQ(Asked(p, "ip-10-1-2-3.example.org.", wire::rrtype::kA).verdict, Verdict::kNext);
  // In in-addr.arpa without fallthrough, a name the regex does not match is NXDOMAIN.
  const Asked partial(p, "2.1.10.in-addr.arpa.", wire::rrtype::kPtr);
  ASSERT_EQ(partial.verdict, Verdict::kAnswered);
  EXPECT_EQ(partial.rcode, wire::rcode::kNxDomain);
  // A query of type or class ANY matches a template of any type, as in CoreDNS.
  EXPECT_EQ(Asked(p, "ip-10-1-2-3.example.", wire::rrtype::kAny).verdict, Verdict::kAnswered);
}

TEST(TemplateStage, NumberedGroupsStayNumberedWhenATemplateReadsThem) {
  // Named-only templates get their unnamed groups dropped (fewer groups for RE2); one
  // that reads a group by number keeps them, so index .Match 2 is still the 'a' group.
  const Pipeline p = Build(
      " template IN TXT example {\n"
      "   match (^|[.])ip-(?P<a>[0-9]*)[.]example[.]$\n"
      "   answer \"{{ .Name }} 60 IN TXT {{ index .Match 2 }}-{{ .Group.a }}-{{ index .Group "
      "\\\"1\\\" }}x\"\n }\n");
  const Asked a(p, "www.ip-42.example.", wire::rrtype::kTxt);
  ASSERT_EQ(a.rcode, wire::rcode::kNoError);
  const std::string text(a.answer.begin(), a.answer.end());
  EXPECT_NE(text.find("42-42-.x"), std::string::npos);
}

TEST(TemplateStage, AnswersInvalidAsNxdomainWithASoaAndAnEde) {
  const Pipeline p = Build(
      " template ANY ANY invalid {\n   rcode NXDOMAIN\n"
      "   authority \"invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 "
      "60)\"\n"
      "   ederror 21 \"Blocked according to RFC2606\"\n }\n");
  const Asked a(p, "foo.invalid.", wire::rrtype::kAaaa, wire::rrclass::kChaos);
  ASSERT_EQ(a.verdict, Verdict::kAnswered);
  EXPECT_EQ(a.rcode, wire::rcode::kNxDomain);
  EXPECT_EQ(a.info.counts[1], 1);  // the SOA
  const std::string text(a.answer.begin(), a.answer.end());
  EXPECT_NE(text.find("Blocked according to RFC2606"), std::string::npos);  // the EDE's EXTRA-TEXT
  // Without EDNS the query gets no OPT, so no EDE either.
  const Asked plain(p, "foo.invalid.", wire::rrtype::kA, wire::rrclass::kIn, false);
  EXPECT_EQ(plain.info.counts[2], 0);
  EXPECT_EQ(plain.info.counts[1], 1);
}

TEST(TemplateStage, ServfailTemplatesAndRecordsThatDoNotRenderAnswerServfail) {
  const Pipeline p = Build(
      " template IN A fail.example {\n   rcode SERVFAIL\n }\n"
      " template IN A broken.example {\n   answer \"{{ .Group.x }} 60 IN A 1.2.3.4\"\n }\n"
      " template IN A big.example {\n   answer \"{{ .Name }} 60 IN TXT " +
      std::string(200, 'x') + "\"\n }\n");
  const Asked fail(p, "a.fail.example.", wire::rrtype::kA);
  EXPECT_EQ(fail.rcode, wire::rcode::kServFail);
  EXPECT_EQ(fail.info.counts[0], 0);
  EXPECT_EQ(fail.counters.template_failures.get(), 0u);  // asked for
  const Asked broken(p, "a.broken.example.", wire::rrtype::kA);
  EXPECT_EQ(broken.rcode, wire::rcode::kServFail);
  EXPECT_EQ(broken.counters.template_failures.get(), 1u);
  EXPECT_EQ(Asked(p, "a.big.example.", wire::rrtype::kA).rcode, wire::rcode::kNoError);
}

TEST(TemplateStage, LongTextIsCutIntoStringsAndAnAnswerTooBigForTheRoomIsTruncated) {
  // A name of 101 characters four times in one TXT string is cut into strings of 255
  // octets, as miekg/dns cuts it.
  const Pipeline p = Build(
      " template IN TXT example {\n   answer \"{{ .Name }} 0 IN TXT {{ .Name }}{{ .Name }}\"\n }\n"
      " template IN A example {\n   answer \"{{ .Name }} 0 IN TXT {{ .Name }}{{ .Name }}{{ .Name "
      "}}{{ .Name }}\"\n }\n");
  const std::string name = std::string(60, 'a') + "." + std::string(31, 'b') + ".example.";
  EXPECT_EQ(Asked(p, name, wire::rrtype::kTxt).rcode, wire::rcode::kNoError);
  const Asked four(p, name, wire::rrtype::kA);
  EXPECT_EQ(four.rcode, wire::rcode::kNoError);
  EXPECT_EQ(four.info.counts[0], 1);
  // Eight strings of 250 octets do not fit the shard's query buffer (1 960 octets): over
  // UDP the answer goes without them and with TC; over TCP it is SERVFAIL, counted.
  std::string big = " template IN TXT big.example {\n   answer \"{{ .Name }} 0 IN TXT";
  for (int i = 0; i < 8; ++i) big += " " + std::string(250, 'x');
  const Pipeline b = Build(big + "\"\n   additional \"a.big.example. 0 IN A 192.0.2.1\"\n }\n");
  const Asked udp(b, "q.big.example.", wire::rrtype::kTxt, 1, true, 1960);
  EXPECT_EQ(udp.rcode, wire::rcode::kNoError);
  EXPECT_NE(udp.flags & wire::flag::kTc, 0);
  EXPECT_EQ(udp.info.counts[0], 0);
  EXPECT_EQ(udp.info.counts[2], 1);  // the OPT alone
  const Asked tcp(b, "q.big.example.", wire::rrtype::kTxt, 1, true, 1960, true);
  EXPECT_EQ(tcp.rcode, wire::rcode::kServFail);
  EXPECT_EQ(tcp.counters.template_failures.get(), 1u);
  EXPECT_EQ(Asked(b, "q.big.example.", wire::rrtype::kTxt, 1, true, 4096).info.counts[0],
            1);  // room enough
}

TEST(TemplateStage, GoesAfterTheCacheAndBeforeTheForwardWhereverItIsWritten) {
  const Pipeline p = Build(
      " template IN A example {\n answer \"{{ .Name }} 1 IN A 1.2.3.4\"\n }\n any\n whoami\n");
  EXPECT_EQ(p.after_cache.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<TemplateStage>(p.after_cache[0]));
  EXPECT_EQ(p.before_cache.size(), 1u);
  EXPECT_EQ(p.after_forward.size(), 1u);
}

std::string Error(const std::string& directives) {
  return std::string(Parse(directives).status().message());
}

TEST(Config, TemplateRefusesWhatCoreDnsRefusesWithItsPosition) {
  EXPECT_NE(Error(" template\n").find("test/Corefile:2:2: template: expected template CLASS TYPE"),
            std::string::npos)
      << Error(" template\n");
  EXPECT_NE(Error(" template XX A {\n answer \"a. A 1.2.3.4\"\n }\n")
                .find("test/Corefile:2:11: template: invalid query class 'XX'"),
            std::string::npos)
      << Error(" template XX A {\n }\n");
  EXPECT_NE(Error(" template IN BOGUS {\n rcode NXDOMAIN\n }\n").find("unknown query type 'BOGUS'"),
            std::string::npos);
  // rcode takes the header's RCODEs only: an extended one needs an OPT.
  EXPECT_NE(Error(" template IN A {\n rcode BADVERS\n }\n")
                .find("test/Corefile:3:8: template: rcode BADVERS is an extended RCODE"),
            std::string::npos)
      << Error(" template IN A {\n rcode BADVERS\n }\n");
  EXPECT_NE(Error(" template IN A {\n match (unclosed\n }\n")
                .find("test/Corefile:3:8: template: could not parse regex '(unclosed'"),
            std::string::npos)
      << Error(" template IN A {\n match (unclosed\n }\n");
  EXPECT_NE(Error(" template IN A {\n answer \"{{ .Message }}\"\n }\n")
                .find("test/Corefile:3:9: template: unsupported template action"),
            std::string::npos)
      << Error(" template IN A {\n answer \"{{ .Message }}\"\n }\n");
  EXPECT_NE(Error(" template IN A {\n answer \"a.example. 60 IN A 1.2.3\"\n }\n")
                .find("is not a resource record"),
            std::string::npos);
  // A comment is not a record; trimming that glues the type to its data is caught.
  EXPECT_TRUE(
      Parse(" template IN A {\n answer \"a.example. 60 IN A 192.0.2.1 {{/* say \\\"hi */}}\"\n }\n")
          .ok());
  EXPECT_NE(Error(" template IN A {\n answer \"a.example. 60 IN TXT {{- /* c */ -}} x\"\n }\n")
                .find("is not a resource record"),
            std::string::npos);
  EXPECT_NE(
      Error(" template IN A {\n rcode NXDOMAIN\n bogus\n }\n").find("unknown property 'bogus'"),
      std::string::npos);
  EXPECT_NE(Error(" template IN A {\n rcode NOPE\n }\n").find("unknown RCODE 'NOPE'"),
            std::string::npos);
  EXPECT_NE(Error(" template IN A {\n rcode NXDOMAIN\n ederror 70000\n }\n").find("ederror CODE"),
            std::string::npos);
  EXPECT_NE(
      Error(" template IN A {\n rcode NXDOMAIN\n ederror\n }\n").find("ederror CODE [REASON]"),
      std::string::npos);
  std::string groups = "match ";
  for (int i = 0; i < 33; ++i) groups += "(a)";
  EXPECT_NE(Error(" template IN A {\n rcode NXDOMAIN\n " + groups + "\n }\n")
                .find("33 groups, expected at most 32"),
            std::string::npos);
}

TEST(Config, TemplateTakesWhatCurrentCoreDnsTakes) {
  // upstream is accepted and ignored; a template with neither answer nor rcode loads;
  // zones may be CIDRs (their reverse zones), and carry a scheme or a port.
  absl::StatusOr<config::Config> c = Parse(
      " template IN A {\n upstream\n answer \"{{ .Name }} 1 IN A 1.2.3.4\"\n }\n template IN A {\n "
      "match ^x\n }\n"
      " template IN PTR 10.0.0.0/8 dns://example.net:53 {\n answer \"{{ .Name }} 1 IN PTR "
      "h.example.\"\n"
      "   fallthrough 192.168.0.0/16\n }\n");
  ASSERT_TRUE(c.ok()) << c.status();
  const config::Template& t = c->blocks.front().templates[2];
  EXPECT_EQ(t.zones, (std::vector<std::string>{"10.in-addr.arpa.", "example.net."}));
  EXPECT_EQ(t.fallthrough, (std::vector<std::string>{"168.192.in-addr.arpa."}));
  const Pipeline p =
      Build(" template IN PTR 10.0.0.0/8 {\n answer \"{{ .Name }} 1 IN PTR h.example.\"\n }\n");
  EXPECT_EQ(Asked(p, "4.3.2.10.in-addr.arpa.", wire::rrtype::kPtr).info.counts[0], 1);
  EXPECT_EQ(Asked(p, "4.3.2.11.in-addr.arpa.", wire::rrtype::kPtr).verdict, Verdict::kNext);
}

TEST(Config, TemplateReadsBackFromItsNormalisedForm) {
  const std::string directives =
      std::string(kAPtr) +
      " template ANY ANY invalid example.net {\n   rcode NXDOMAIN\n"
      "   authority \"invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. 1 60 60 60 "
      "60\"\n"
      "   additional \"x.invalid. 60 IN TXT \\\"quoted text\\\"\"\n"
      "   ederror 21 \"Blocked according to RFC2606\"\n   fallthrough example.net\n }\n";
  absl::StatusOr<config::Config> c = Parse(directives);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->blocks.front().templates.size(), 3u);
  const std::string text = config::FormatCorefile(*c);
  absl::StatusOr<config::Config> again = config::ParseCorefile(text, "normalised");
  ASSERT_TRUE(again.ok()) << text << again.status();
  EXPECT_EQ(config::FormatCorefile(*again), text);
  const config::Template& t = again->blocks.front().templates[2];
  EXPECT_EQ(t.zones, (std::vector<std::string>{"invalid.", "example.net."}));
  EXPECT_EQ(t.additional, (std::vector<std::string>{"x.invalid. 60 IN TXT \"quoted text\""}));
  EXPECT_EQ(t.ederror, 21);
  EXPECT_EQ(t.ederror_reason, "Blocked according to RFC2606");
  EXPECT_EQ(t.fallthrough, (std::vector<std::string>{"example.net."}));
  EXPECT_EQ(again->blocks.front().templates[0].matches, c->blocks.front().templates[0].matches);
}

}  // namespace
}  // namespace ringdns::core
