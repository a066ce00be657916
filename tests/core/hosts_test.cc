// hosts without a socket: the hosts file's format (HostsTable), each rule of CoreDNS's
// ServeDNS as the stage answers it, the directive's errors with their positions, and
// -validate's form reading back to itself.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/config/loader.h"
#include "core/pipeline/hosts_table.h"
#include "core/pipeline/pipeline.h"
#include "testing/message_builder.h"
#include "wire/bytes.h"
#include "wire/name.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::MessageBuilder;

// The text of one answer record's data: an address, or a PTR's name.
std::string RdataText(std::uint16_t type, std::span<const std::uint8_t> rdata) {
  char text[wire::kMaxNameTextLen];
  if (type == wire::rrtype::kA || type == wire::rrtype::kAaaa) {
    return ::inet_ntop(type == wire::rrtype::kA ? AF_INET : AF_INET6, rdata.data(), text,
                       sizeof(text));
  }
  const wire::Result<std::size_t> len = wire::NameToText(rdata, text);
  return len ? std::string(text, *len) : "?";
}

std::string WireName(std::string_view text) {
  wire::NameStorage name;
  const wire::Result<std::size_t> len = wire::NameFromText(text, name);
  EXPECT_TRUE(len) << text;
  return std::string(reinterpret_cast<const char*>(name.data()), len ? *len : 0);
}

std::span<const std::uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The records a table holds for `name` and `type` (A, AAAA or PTR), as text.
std::vector<std::string> Lookup(const HostsTable& table, std::string_view name,
                                std::uint16_t type) {
  const std::string wire_name = WireName(name);
  std::span<const wire::LocalRecord> records;
  if (type == wire::rrtype::kPtr) {
    records = table.FindPtr(Span(wire_name));
  } else if (const HostsTable::Addresses* found = table.Find(Span(wire_name))) {
    records = type == wire::rrtype::kA ? found->a : found->aaaa;
  }
  std::vector<std::string> out;
  for (const wire::LocalRecord& r : records) {
    EXPECT_EQ(r.type, type);
    out.push_back(RdataText(r.type, r.rdata));
  }
  return out;
}

std::shared_ptr<const HostsTable> Table(std::string_view file,
                                        std::vector<std::string> inline_lines = {},
                                        std::vector<std::string> zones = {"."},
                                        bool reverse = true) {
  std::vector<WireZone> wire_zones;
  for (const std::string& z : zones) wire_zones.push_back(*ToWireZone(z));
  return HostsTable::Build(file, inline_lines,
                           {.zones = wire_zones, .ttl = 3600, .reverse = reverse});
}

using Names = std::vector<std::string>;

TEST(HostsTable, ReadsCommentsFieldsAndAddressesAsCoreDnsDoes) {
  const auto t = Table(
      "# a comment line\n"
      "127.0.0.1\tlocalhost Localhost.Localdomain   # trailing comment\n"
      "::1 localhost ip6-localhost\r\n"
      "fe80::1%eth0 linklocal\n"   // the zone is dropped
      "10.0.0.1\n"                 // one field: skipped
      "not-an-ip name-skipped\n"   // not an address: skipped
      "010.0.0.1 leading-zero\n"   // Go refuses leading zeros; so does this
      "::ffff:192.0.2.9 mapped\n"  // an IPv4-mapped address is an A
      "10.0.0.2 #commented-out-name\n"
      "  10.0.0.3    spaced.example.   \n"
      "10.0.0.4 dup\n10.0.0.5 dup\n10.0.0.4 dup");  // no final newline
  EXPECT_EQ(Lookup(*t, "localhost.", wire::rrtype::kA), Names{"127.0.0.1"});
  EXPECT_EQ(Lookup(*t, "localhost.", wire::rrtype::kAaaa), Names{"::1"});
  EXPECT_EQ(Lookup(*t, "localhost.localdomain.", wire::rrtype::kA), Names{"127.0.0.1"});
  EXPECT_EQ(Lookup(*t, "linklocal.", wire::rrtype::kAaaa), Names{"fe80::1"});
  EXPECT_EQ(Lookup(*t, "mapped.", wire::rrtype::kA), Names{"192.0.2.9"});
  EXPECT_TRUE(Lookup(*t, "mapped.", wire::rrtype::kAaaa).empty());
  EXPECT_EQ(Lookup(*t, "spaced.example.", wire::rrtype::kA), Names{"10.0.0.3"});
  EXPECT_EQ(Lookup(*t, "dup.", wire::rrtype::kA), (Names{"10.0.0.4", "10.0.0.5", "10.0.0.4"}));
  EXPECT_EQ(t->Find(Span(WireName("name-skipped."))), nullptr);
  EXPECT_EQ(t->Find(Span(WireName("leading-zero."))), nullptr);
  EXPECT_EQ(t->Find(Span(WireName("#commented-out-name."))), nullptr);
  // Reverse names: every name of an address, lower-cased, fully qualified.
  EXPECT_EQ(Lookup(*t, "1.0.0.127.in-addr.arpa.", wire::rrtype::kPtr),
            (Names{"localhost.", "localhost.localdomain."}));
  EXPECT_EQ(Lookup(*t, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
                   wire::rrtype::kPtr),
            (Names{"localhost.", "ip6-localhost."}));
  // CoreDNS looks a reverse name up by the address's text, the same for ::ffff:a.b.c.d.
  EXPECT_EQ(Lookup(*t, "9.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
                   wire::rrtype::kPtr),
            Names{"mapped."});
}

TEST(HostsTable, KeepsOnlyNamesUnderTheZonesAndServesTheFileBeforeTheInlineEntries) {
  const auto t =
      Table("10.0.0.1 a.example.org b.other.org\n10.0.0.2 A.Example.Org\n",
            {"10.0.0.9 a.example.org", "2001:db8::1 a.example.org", "10.0.0.3 c.other.org"},
            {"example.org."});
  EXPECT_EQ(Lookup(*t, "a.example.org.", wire::rrtype::kA),
            (Names{"10.0.0.1", "10.0.0.2", "10.0.0.9"}));
  EXPECT_EQ(Lookup(*t, "a.example.org.", wire::rrtype::kAaaa), Names{"2001:db8::1"});
  EXPECT_EQ(t->Find(Span(WireName("b.other.org."))), nullptr);
  EXPECT_EQ(t->Find(Span(WireName("c.other.org."))), nullptr);
  EXPECT_EQ(t->name_count(), 1u);
  // A name dropped for its zone has no reverse entry either.
  EXPECT_EQ(Lookup(*t, "1.0.0.10.in-addr.arpa.", wire::rrtype::kPtr), Names{"a.example.org."});
  EXPECT_TRUE(Lookup(*t, "3.0.0.10.in-addr.arpa.", wire::rrtype::kPtr).empty());
}

TEST(HostsTable, NoReverseBuildsNoPtrRecords) {
  const auto t = Table("10.0.0.1 a.example.\n", {}, {"."}, false);
  EXPECT_EQ(Lookup(*t, "a.example.", wire::rrtype::kA), Names{"10.0.0.1"});
  EXPECT_TRUE(Lookup(*t, "1.0.0.10.in-addr.arpa.", wire::rrtype::kPtr).empty());
}

TEST(HostsTable, SurvivesHostileText) {
  std::string text(300, 'a');
  text += " 10.0.0.1 \n1.2.3.4 " + std::string(300, 'b') + "\n1.2.3.4 a..b\n\0\0\n%\n% x\n::%% y\n";
  const auto t = Table(text);
  EXPECT_EQ(t->name_count(), 0u);
}

// A Corefile block with `hosts` and the given lines, plus a forward so it parses as a forwarder's.
absl::StatusOr<config::Config> Parse(const std::string& hosts,
                                     const std::string& keys = "example.org:5353") {
  return config::ParseCorefile(keys + " {\n" + hosts + "\n forward . 127.0.0.1:53\n}\n",
                               "test/Corefile");
}

HostsStage Stage(const std::string& hosts, const std::string& keys = "example.org:5353") {
  absl::StatusOr<config::Config> c = Parse(hosts, keys);
  EXPECT_TRUE(c.ok()) << c.status();
  std::vector<std::string> warnings;
  absl::StatusOr<Pipeline> p = BuildPipeline(c->blocks.front(), &warnings);
  EXPECT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->after_cache.size(), 1u);
  return std::get<HostsStage>(p->after_cache.front());
}

struct Answer {
  Verdict verdict = Verdict::kNext;
  std::uint16_t rcode = 0;
  bool aa = false;
  std::vector<std::string> records;  // "TYPE TTL CLASS DATA", owner checked to be the qname
  std::uint64_t answers = 0, servfails = 0;
  bool tc = false;
};

// `room_size` 1960 and `tcp` as the shard gives them (its query buffer).
Answer Ask(const HostsStage& stage, std::string_view qname, std::uint16_t qtype,
           std::size_t room_size = 4096, bool tcp = false) {
  MessageBuilder b(99, wire::flag::kRd);
  b.Question(qname, qtype);
  Bytes room = b.bytes();
  const std::size_t query_len = room.size();
  room.resize(room_size);
  const std::span<std::uint8_t> msg(room.data(), query_len);
  const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
  EXPECT_TRUE(q);
  ShardCounters counters;
  QueryContext ctx{msg, *q, q->qname(msg), nullptr, tcp, room, counters, 512};
  Answer out;
  out.verdict = stage.OnQuery(ctx);
  out.answers = counters.hosts_answers.get();
  out.servfails = counters.hosts_servfail.get();
  if (out.verdict != Verdict::kAnswered) return out;
  room.resize(ctx.answer_len);
  struct Sink {
    const Bytes* msg;
    std::string_view qname;
    std::vector<std::string>* out;
  } sink{&room, qname, &out.records};
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(
      room,
      [](void* context, const wire::RecordView& r) {
        auto* s = static_cast<Sink*>(context);
        EXPECT_EQ(wire::LoadU16(s->msg->data() + r.owner_offset),
                  0xc00c);  // the question's own spelling
        s->out->push_back(
            absl::StrCat(r.type, " ", r.ttl, " ", r.rclass, " ",
                         RdataText(r.type, {s->msg->data() + r.rdata_offset, r.rdlength})));
      },
      &sink);
  EXPECT_TRUE(info) << wire::ToString(info.error());
  out.rcode = info->rcode;
  out.aa = (info->question.flags & wire::flag::kAa) != 0;
  out.tc = (info->question.flags & wire::flag::kTc) != 0;
  EXPECT_EQ(wire::LoadU16(room.data()), 99);
  return out;
}

constexpr std::uint16_t kMx = 15;

TEST(HostsStage, AnswersAAndAaaaAuthoritativelyWithTheTtlAndClassIn) {
  const HostsStage s = Stage(
      " hosts /nonexistent {\n  10.0.0.1 www.example.org\n  2001:db8::1 www.example.org\n  ttl "
      "60\n }");
  Answer a = Ask(s, "WWW.example.org.", wire::rrtype::kA);
  ASSERT_EQ(a.verdict, Verdict::kAnswered);
  EXPECT_EQ(a.rcode, wire::rcode::kNoError);
  EXPECT_TRUE(a.aa);
  EXPECT_EQ(a.records, Names{"1 60 1 10.0.0.1"});
  EXPECT_EQ(a.answers, 1u);
  a = Ask(s, "www.example.org.", wire::rrtype::kAaaa);
  EXPECT_EQ(a.records, Names{"28 60 1 2001:db8::1"});
}

TEST(HostsStage, MoreAddressesThanTheQueryBufferHoldsAreCutWithTcOverUdp) {
  // 200 addresses (3 200 octets of records) for one name: over UDP as many as the shard's
  // 1 960-octet buffer holds, TC set, as CoreDNS's writer cuts; over TCP SERVFAIL.
  std::string lines = " hosts /nonexistent {\n";
  for (int i = 0; i < 200; ++i)
    lines +=
        "  10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + " big.example.org\n";
  const HostsStage s = Stage(lines + " }");
  const Answer udp = Ask(s, "big.example.org.", wire::rrtype::kA, 1960);
  EXPECT_EQ(udp.rcode, wire::rcode::kNoError);
  EXPECT_TRUE(udp.aa);
  EXPECT_TRUE(udp.tc);
  EXPECT_GT(udp.records.size(), 100u);
  EXPECT_LT(udp.records.size(), 200u);
  const Answer tcp = Ask(s, "big.example.org.", wire::rrtype::kA, 1960, true);
  EXPECT_EQ(tcp.rcode, wire::rcode::kServFail);
  EXPECT_EQ(tcp.servfails, 1u);
  const Answer roomy = Ask(s, "big.example.org.", wire::rrtype::kA, 4096);
  EXPECT_EQ(roomy.records.size(), 200u);
  EXPECT_FALSE(roomy.tc);
}

TEST(HostsTable, FieldsAreApartByUnicodeWhiteSpaceAsGoSplitsThem) {
  // A non-breaking space (or an ideographic one) in a hosts file, as Go's bytes.Fields splits.
  const auto t = Table(
      "10.0.0.1\xc2\xa0nbsp.example.org\xe3\x80\x80"
      "other.example.org\n");
  EXPECT_EQ(Lookup(*t, "nbsp.example.org.", wire::rrtype::kA), Names{"10.0.0.1"});
  EXPECT_EQ(Lookup(*t, "other.example.org.", wire::rrtype::kA), Names{"10.0.0.1"});
}

TEST(HostsStage, AnotherTypeOfAKnownNameIsNoData) {
  const HostsStage s = Stage(" hosts /nonexistent {\n  10.0.0.1 www.example.org\n }");
  const Answer a = Ask(s, "www.example.org.", kMx);
  ASSERT_EQ(a.verdict, Verdict::kAnswered);
  EXPECT_EQ(a.rcode, wire::rcode::kNoError);
  EXPECT_TRUE(a.aa);
  EXPECT_TRUE(a.records.empty());
  // And so is AAAA of a name with only an IPv4 address.
  const Answer aaaa = Ask(s, "www.example.org.", wire::rrtype::kAaaa);
  EXPECT_EQ(aaaa.rcode, wire::rcode::kNoError);
  EXPECT_TRUE(aaaa.records.empty());
}

TEST(HostsStage, AnUnknownNameIsServfailWithoutFallthroughAndPassesOnWithIt) {
  const HostsStage closed = Stage(" hosts /nonexistent {\n  10.0.0.1 www.example.org\n }");
  const Answer a = Ask(closed, "nope.example.org.", wire::rrtype::kA);
  ASSERT_EQ(a.verdict, Verdict::kAnswered);
  EXPECT_EQ(a.rcode, wire::rcode::kServFail);
  EXPECT_EQ(a.servfails, 1u);
  EXPECT_EQ(Ask(closed, "nope.example.org.", kMx).rcode, wire::rcode::kServFail);

  const HostsStage open =
      Stage(" hosts /nonexistent {\n  10.0.0.1 www.example.org\n  fallthrough\n }");
  EXPECT_EQ(Ask(open, "nope.example.org.", wire::rrtype::kA).verdict, Verdict::kNext);
  // Fallthrough for some zones only.
  const HostsStage some =
      Stage(" hosts /nonexistent {\n  10.0.0.1 www.example.org\n  fallthrough sub.example.org\n }");
  EXPECT_EQ(Ask(some, "x.sub.example.org.", wire::rrtype::kA).verdict, Verdict::kNext);
  EXPECT_EQ(Ask(some, "x.example.org.", wire::rrtype::kA).rcode, wire::rcode::kServFail);
}

TEST(HostsStage, ANameOutsideTheZonesPassesOn) {
  const HostsStage s = Stage(" hosts /nonexistent {\n  10.0.0.1 www.example.org\n }");
  EXPECT_EQ(Ask(s, "www.example.net.", wire::rrtype::kA).verdict, Verdict::kNext);
  // ZONES on the line narrow the block's.
  const HostsStage narrow =
      Stage(" hosts /nonexistent a.example.org {\n  10.0.0.1 www.example.org\n }");
  EXPECT_EQ(Ask(narrow, "www.example.org.", wire::rrtype::kA).verdict, Verdict::kNext);
}

TEST(HostsStage, PtrAnswersForV4AndV6WhateverTheZonesAndPassesOnWhenUnknown) {
  const HostsStage s = Stage(
      " hosts /nonexistent {\n  10.0.0.1 www.example.org mail.example.org\n"
      "  2001:db8::1 www.example.org\n }");
  Answer a = Ask(s, "1.0.0.10.IN-ADDR.ARPA.", wire::rrtype::kPtr);  // not under example.org
  ASSERT_EQ(a.verdict, Verdict::kAnswered);
  EXPECT_TRUE(a.aa);
  EXPECT_EQ(a.records, (Names{"12 3600 1 www.example.org.", "12 3600 1 mail.example.org."}));
  a = Ask(s, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
          wire::rrtype::kPtr);
  EXPECT_EQ(a.records, Names{"12 3600 1 www.example.org."});
  // Unknown, partial or not a reverse name: passed on, even without fallthrough.
  EXPECT_EQ(Ask(s, "2.0.0.10.in-addr.arpa.", wire::rrtype::kPtr).verdict, Verdict::kNext);
  EXPECT_EQ(Ask(s, "0.10.in-addr.arpa.", wire::rrtype::kPtr).verdict, Verdict::kNext);
  EXPECT_EQ(Ask(s, "www.example.org.", wire::rrtype::kPtr).verdict, Verdict::kNext);

  const HostsStage none =
      Stage(" hosts /nonexistent {\n  10.0.0.1 www.example.org\n  no_reverse\n }");
  EXPECT_EQ(Ask(none, "1.0.0.10.in-addr.arpa.", wire::rrtype::kPtr).verdict, Verdict::kNext);
  EXPECT_EQ(Ask(none, "www.example.org.", wire::rrtype::kA).records, Names{"1 3600 1 10.0.0.1"});
}

// A scratch folder with a hosts file.
class HostsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ringdns-hosts-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
};

TEST_F(HostsFile, TheFilesAddressesComeBeforeTheInlineOnesAndARelativePathIsUnderRoot) {
  std::ofstream(dir_ + "/hosts") << "10.0.0.1 www.example.org\n";
  const HostsStage s = Stage(" root " + dir_ + "\n hosts hosts {\n  10.0.0.2 www.example.org\n }");
  EXPECT_EQ(Ask(s, "www.example.org.", wire::rrtype::kA).records,
            (Names{"1 3600 1 10.0.0.1", "1 3600 1 10.0.0.2"}));
}

TEST_F(HostsFile, AMissingFileIsAWarningAndTheInlineEntriesServe) {
  absl::StatusOr<config::Config> c =
      Parse(" hosts " + dir_ + "/missing {\n  10.0.0.2 www.example.org\n }");
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<std::string> warnings;
  absl::StatusOr<Pipeline> p = BuildPipeline(c->blocks.front(), &warnings);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("test/Corefile:2:2: hosts: file does not exist: " + dir_ + "/missing"),
            std::string::npos)
      << warnings[0];
  EXPECT_EQ(Ask(std::get<HostsStage>(p->after_cache.front()), "www.example.org.", wire::rrtype::kA)
                .records,
            Names{"1 3600 1 10.0.0.2"});
}

TEST_F(HostsFile, AFileThatCannotBeReachedIsAnError) {
  std::ofstream(dir_ + "/plain") << "x";
  absl::StatusOr<config::Config> c = Parse(" hosts " + dir_ + "/plain/hosts");  // ENOTDIR
  ASSERT_TRUE(c.ok()) << c.status();
  const absl::StatusOr<Pipeline> p = BuildPipeline(c->blocks.front());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("test/Corefile:2:2: unable to access hosts file"),
            std::string::npos)
      << p.status();
}

std::string Error(const std::string& hosts) { return std::string(Parse(hosts).status().message()); }

TEST(HostsConfig, RefusesWhatCoreDnsRefusesWithThePosition) {
  EXPECT_NE(Error(" hosts {\n  ttl\n }").find("test/Corefile:3:3: ttl needs a time in second"),
            std::string::npos)
      << Error(" hosts {\n  ttl\n }");
  EXPECT_NE(Error(" hosts {\n  ttl 0\n }").find("test/Corefile:3:7: ttl provided is invalid"),
            std::string::npos);
  EXPECT_NE(Error(" hosts {\n  ttl 65536\n }").find("ttl provided is invalid"), std::string::npos);
  EXPECT_NE(Error(" hosts {\n  ttl abc\n }").find("ttl needs a number of second"),
            std::string::npos);
  EXPECT_NE(Error(" hosts {\n  ttl -5\n }").find("ttl provided is invalid"), std::string::npos);
  EXPECT_EQ(Parse(" hosts {\n  ttl +30\n }")->blocks.front().hosts->ttl,
            30u);  // Go's Atoi takes a sign
  EXPECT_NE(Error(" hosts {\n  reload -1s\n }").find("invalid negative duration for reload"),
            std::string::npos);
  EXPECT_NE(Error(" hosts {\n  reload\n }").find("reload needs a duration"), std::string::npos);
  EXPECT_NE(Error(" hosts {\n  reload soon\n }").find("test/Corefile:3:10"), std::string::npos)
      << Error(" hosts {\n  reload soon\n }");
  EXPECT_NE(Error(" hosts {\n  fallthrough\n  10.0.0.1 a.example.org\n }")
                .find("test/Corefile:4:3: unknown property '10.0.0.1'"),
            std::string::npos);
  EXPECT_NE(Error(" hosts\n hosts\n").find("test/Corefile:3:2: hosts is given twice"),
            std::string::npos);
  EXPECT_NE(Error(" hosts /etc/hosts bad..zone\n").find("test/Corefile:2:19: invalid zone"),
            std::string::npos)
      << Error(" hosts /etc/hosts bad..zone\n");
}

TEST(HostsConfig, DefaultsAreCoreDnsesAndZonesComeFromTheBlock) {
  absl::StatusOr<config::Config> c = Parse(" hosts", "example.org:5353 example.net:5353");
  ASSERT_TRUE(c.ok()) << c.status();
  const config::Hosts& h = *c->blocks.front().hosts;
  EXPECT_EQ(h.path, "/etc/hosts");
  EXPECT_EQ(h.zones, (std::vector<std::string>{"example.org.", "example.net."}));
  EXPECT_EQ(h.ttl, 3600u);
  EXPECT_EQ(h.reload, absl::Seconds(5));
  EXPECT_FALSE(h.no_reverse);
  EXPECT_FALSE(h.fallthrough.has_value());
  // A CIDR zone is its reverse zones, as CoreDNS normalises it.
  c = Parse(" hosts /etc/hosts 10.0.0.0/8");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->blocks.front().hosts->zones, std::vector<std::string>{"10.in-addr.arpa."});
}

TEST(HostsConfig, TheNormalisedFormReadsBackToItself) {
  for (const std::string& hosts : {
           std::string(" hosts"),
           std::string(" hosts /etc/hosts.local example.org sub.example.org {\n  10.0.0.1 "
                       "a.example.org \"b.example.org\"\n"
                       "  ::1 c.example.org\n  ttl 60\n  reload 0\n  no_reverse\n  fallthrough "
                       "x.example.org y.example.org\n }"),
           std::string(" hosts {\n  fallthrough\n }"),
           std::string(
               " hosts relative {\n  reload 1m30s\n  10.0.0.1 a.example.org\n }\n root /srv"),
       }) {
    absl::StatusOr<config::Config> c = Parse(hosts);
    ASSERT_TRUE(c.ok()) << hosts << c.status();
    const std::string text = config::FormatCorefile(*c);
    EXPECT_NE(text.find("    hosts "), std::string::npos) << text;
    absl::StatusOr<config::Config> again = config::ParseCorefile(text, "normalised");
    ASSERT_TRUE(again.ok()) << text << again.status();
    EXPECT_EQ(config::FormatCorefile(*again), text);
    const config::Hosts& a = *c->blocks.front().hosts;
    const config::Hosts& b = *again->blocks.front().hosts;
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.zones, b.zones);
    EXPECT_EQ(a.ttl, b.ttl);
    EXPECT_EQ(a.reload, b.reload);
    EXPECT_EQ(a.no_reverse, b.no_reverse);
    EXPECT_EQ(a.fallthrough, b.fallthrough);
    ASSERT_EQ(a.inline_entries.size(), b.inline_entries.size());
    for (std::size_t i = 0; i < a.inline_entries.size(); ++i)
      EXPECT_EQ(a.inline_entries[i].fields, b.inline_entries[i].fields);
  }
}

}  // namespace
}  // namespace ringdns::core
