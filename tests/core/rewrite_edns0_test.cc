// rewrite's edns0 rules without a socket: the directive as CoreDNS's edns0.go reads it
// (and its errors, with positions), and each action on queries with and without an OPT,
// the variables, the client subnet, and how an edns0 rule's `stop` ends the list.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/config/loader.h"
#include "core/pipeline/rewrite_stage.h"
#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/message.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::MessageBuilder;
using testing::WireName;

absl::StatusOr<config::Config> Parse(const std::string& directives) {
  return config::ParseCorefile(".:5353 {\n" + directives + " forward . 127.0.0.1:53\n}\n",
                               "test/Corefile");
}

RewriteStage Stage(const std::string& directives) {
  absl::StatusOr<config::Config> c = Parse(directives);
  EXPECT_TRUE(c.ok()) << c.status();
  absl::StatusOr<RewriteStage> s = RewriteStage::Build(c->blocks.front().rewrites);
  EXPECT_TRUE(s.ok()) << s.status();
  return std::move(*s);
}

sockaddr_in V4(const char* address, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, address, &a.sin_addr);
  return a;
}

sockaddr_in6 V6(const char* address, std::uint16_t port) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  inet_pton(AF_INET6, address, &a.sin6_addr);
  return a;
}

Bytes Option(std::uint16_t code, const Bytes& data) {
  Bytes out = {static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code),
               static_cast<std::uint8_t>(data.size() >> 8), static_cast<std::uint8_t>(data.size())};
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }

struct Edited {
  RewriteStage::QueryResult result;
  Bytes message;
  bool has_opt = false;
  std::uint16_t udp_size = 0;
  std::vector<std::pair<std::uint16_t, Bytes>> options;  // in order
  std::string name;
};

// `query` through the stage from `client`; its options afterwards.
Edited Edit(const RewriteStage& stage, const Bytes& query, const QueryOrigin& origin) {
  Edited e;
  e.message = query;
  const wire::Result<wire::QueryView> before = wire::ParseQuery(query);
  EXPECT_TRUE(before.has_value());
  e.message.resize(2048);
  e.result = stage.RewriteQuery(e.message, query.size(), before->qname_len, before->qtype,
                                before->qclass, origin);
  e.message.resize(e.result.len);
  const wire::Result<wire::QueryView> q = wire::ParseQuery(e.message);
  EXPECT_TRUE(q.has_value()) << "the edited query parses";
  if (!q) return e;
  e.name = std::string(reinterpret_cast<const char*>(q->qname(e.message).data()), q->qname_len);
  e.has_opt = q->opt.present();
  e.udp_size = q->opt.udp_size;
  if (e.has_opt) {
    wire::ForEachOption(e.message, q->opt,
                        [&](std::uint16_t code, std::span<const std::uint8_t> data) {
                          e.options.emplace_back(code, Bytes(data.begin(), data.end()));
                        });
  }
  return e;
}

Bytes Query(const Bytes& options, bool with_opt = true) {
  MessageBuilder m(7, 0x0100);
  m.Question("www.example.org.", 1, 1);
  if (with_opt) m.Opt(4000, 0, options);
  return m.bytes();
}

TEST(RewriteEdns0Config, ReadsEveryFormAndPrintsOneThatReadsBack) {
  absl::StatusOr<config::Config> c = Parse(
      " rewrite edns0 local set 0xffee 0x61626364\n"
      " rewrite continue edns0 local replace 65518 abcd\n"
      " rewrite edns0 local append 0xffed {client_ip}\n"
      " rewrite edns0 local unset 0xffee\n"
      " rewrite edns0 nsid set\n"
      " rewrite stop edns0 subnet set 24 56\n"
      " rewrite edns0 subnet unset\n"
      " rewrite edns0 local set 0xfff0 0x\n");
  ASSERT_TRUE(c.ok()) << c.status();
  const std::vector<config::Rewrite>& r = c->blocks.front().rewrites;
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(r[0].field, config::RewriteField::kEdns0);
  EXPECT_EQ(r[0].from_code, 0xffee);
  EXPECT_EQ(r[0].edns_data, "abcd");
  EXPECT_EQ(r[1].edns_action, config::EdnsAction::kReplace);
  EXPECT_EQ(r[1].from_code, 0xffee);
  EXPECT_EQ(r[1].edns_data, "abcd");
  EXPECT_FALSE(r[1].stop);
  EXPECT_EQ(r[2].edns_variable, config::EdnsVariable::kClientIp);
  EXPECT_EQ(r[3].edns_action, config::EdnsAction::kUnset);
  EXPECT_EQ(r[4].edns_option, config::EdnsOptionKind::kNsid);
  EXPECT_EQ(r[5].edns_option, config::EdnsOptionKind::kSubnet);
  EXPECT_EQ(r[5].subnet_v4, 24);
  EXPECT_EQ(r[5].subnet_v6, 56);
  EXPECT_TRUE(r[7].edns_data.empty());
  const std::string text = config::FormatCorefile(*c);
  EXPECT_NE(text.find("rewrite stop edns0 local set 0xffee 0x61626364"), std::string::npos) << text;
  EXPECT_NE(text.find("rewrite stop edns0 subnet set 24 56"), std::string::npos) << text;
  absl::StatusOr<config::Config> again = config::ParseCorefile(text, "normalised");
  ASSERT_TRUE(again.ok()) << text << again.status();
  EXPECT_EQ(config::FormatCorefile(*again), text);
}

TEST(RewriteEdns0Config, RefusesWhatCoreDnsRefusesWithItsPosition) {
  auto refused = [](const std::string& directives, const std::string& expected) {
    const std::string error = std::string(Parse(directives).status().message());
    EXPECT_NE(error.find(expected), std::string::npos) << directives << "\n -> " << error;
  };
  refused(" rewrite edns0 local\n",
          "test/Corefile:2:10: rewrite: too few arguments for an EDNS0 rule");
  refused(" rewrite edns0 local put 1 a\n",
          "test/Corefile:2:22: rewrite: invalid EDNS0 action 'put', expected set, replace, "
          "append or unset");
  refused(" rewrite edns0 local set 0xffee\n",
          "test/Corefile:2:16: rewrite: EDNS0 local rules require exactly two arguments");
  refused(" rewrite edns0 local set 0x1ffff a\n",
          "test/Corefile:2:26: rewrite: invalid EDNS0 option code '0x1ffff'");
  refused(" rewrite edns0 local set ffee a\n", "rewrite: invalid EDNS0 option code 'ffee'");
  // CoreDNS reads a leading 0 as octal (010 is 8, the client subnet): refused, not misread.
  refused(" rewrite edns0 local set 010 a\n", "rewrite: invalid EDNS0 option code '010'");
  refused(" rewrite edns0 subnet set 024 56\n", "rewrite: invalid IPv4 bit mask length '024'");
  refused(" rewrite edns0 local set 1 0xabc\n",
          "test/Corefile:2:28: rewrite: invalid hex data '0xabc'");
  refused(" rewrite edns0 local set 1 0xzz\n", "rewrite: invalid hex data '0xzz'");
  refused(" rewrite edns0 local set 1 {server_ip}\n",
          "the variable {server_ip} is not supported by ringdns yet, expected {qname}, {qtype}, "
          "{client_ip}, {client_port} or {protocol}");
  refused(" rewrite edns0 local set 1 {some-plugin/label}\n",
          "unsupported variable name '{some-plugin/label}' (ringdns has no metadata plugin), "
          "expected {qname}, {qtype}, {client_ip}, {client_port} or {protocol}");
  refused(" rewrite edns0 local set 1 " + std::string(513, 'x') + "\n",
          "EDNS0 local data of 513 octets, expected at most 512");
  refused(" rewrite edns0 local unset 1 a\n", "rewrite: expected edns0 local unset CODE");
  refused(" rewrite edns0 nsid set x\n",
          "test/Corefile:2:25: rewrite: EDNS0 NSID rules do not accept arguments");
  refused(" rewrite edns0 subnet set 24\n",
          "rewrite: EDNS0 subnet rules require exactly two arguments");
  refused(" rewrite edns0 subnet set 33 56\n",
          "test/Corefile:2:27: rewrite: invalid IPv4 bit mask length '33'");
  refused(" rewrite edns0 subnet set 24 129\n", "rewrite: invalid IPv6 bit mask length '129'");
  refused(" rewrite edns0 cookie set\n",
          "test/Corefile:2:16: rewrite: invalid EDNS0 rule type 'cookie'");
}

TEST(RewriteEdns0Query, SetReplacesTheOptionOrAddsIt) {
  const RewriteStage stage = Stage(" rewrite edns0 local set 0xffee 0x61626364\n");
  const sockaddr_in client = V4("10.1.2.3", 5000);
  Edited with = Edit(stage, Query(Option(0xffee, Text("old data"))),
                     {reinterpret_cast<const sockaddr*>(&client), false});
  EXPECT_EQ(with.result.outcome, RewriteStage::Outcome::kRewritten);
  ASSERT_EQ(with.options.size(), 1u);
  EXPECT_EQ(with.options[0].second, Text("abcd"));
  EXPECT_FALSE(with.result.opt_created);
  EXPECT_FALSE(stage.per_client());

  Edited other = Edit(stage, Query(Option(10, Bytes(8, 1))), {});
  ASSERT_EQ(other.options.size(), 2u);
  EXPECT_EQ(other.options[0].first, 10);  // the client's cookie stays, first
  EXPECT_EQ(other.options[1], (std::pair<std::uint16_t, Bytes>{0xffee, Text("abcd")}));

  Edited none = Edit(stage, Query({}, false), {});
  EXPECT_TRUE(none.has_opt);
  EXPECT_TRUE(none.result.opt_created);
  EXPECT_EQ(none.udp_size, 1232);
  ASSERT_EQ(none.options.size(), 1u);
  EXPECT_EQ(none.options[0].second, Text("abcd"));
  EXPECT_EQ(wire::LoadU16(none.message.data() + wire::header::kArCount), 1);
}

TEST(RewriteEdns0Query, ReplaceAppendAndUnsetOnlyWhereTheyApply) {
  const Bytes has = Query(Option(0xffee, Text("x")));
  const Bytes lacks = Query({});
  const RewriteStage replace = Stage(" rewrite edns0 local replace 0xffee yz\n");
  EXPECT_EQ(Edit(replace, lacks, {}).result.outcome, RewriteStage::Outcome::kUnchanged);
  EXPECT_EQ(Edit(replace, has, {}).options.at(0).second, Text("yz"));
  EXPECT_FALSE(Edit(replace, Query({}, false), {}).has_opt) << "replace adds no OPT";

  const RewriteStage append = Stage(" rewrite edns0 local append 0xffee yz\n");
  EXPECT_EQ(Edit(append, has, {}).result.outcome, RewriteStage::Outcome::kUnchanged);
  EXPECT_EQ(Edit(append, lacks, {}).options.at(0).second, Text("yz"));

  const RewriteStage unset = Stage(" rewrite edns0 local unset 0xffee\n");
  Edited gone = Edit(
      unset,
      Query(testing::Concat({Option(0xffee, Text("a")), Option(3, {}), Option(0xffee, Text("b"))})),
      {});
  EXPECT_EQ(gone.result.outcome, RewriteStage::Outcome::kRewritten);
  ASSERT_EQ(gone.options.size(), 1u);
  EXPECT_EQ(gone.options[0].first, 3);
  EXPECT_EQ(Edit(unset, lacks, {}).result.outcome, RewriteStage::Outcome::kUnchanged);
}

TEST(RewriteEdns0Query, VariablesTakeTheQueryAndItsClient) {
  const sockaddr_in v4 = V4("192.0.2.7", 0x1234);
  const sockaddr_in6 v6 = V6("2001:db8::9", 53);
  const QueryOrigin udp4{reinterpret_cast<const sockaddr*>(&v4), false};
  const QueryOrigin tcp6{reinterpret_cast<const sockaddr*>(&v6), true};
  auto data = [](const std::string& variable, const QueryOrigin& origin) {
    const RewriteStage stage = Stage(" rewrite edns0 local set 0xffee " + variable + "\n");
    const Edited e = Edit(stage, Query({}), origin);
    return e.options.empty() ? Bytes{0xde, 0xad} : e.options[0].second;
  };
  EXPECT_EQ(data("{qname}", udp4), Text("www.example.org."));
  EXPECT_EQ(data("{qtype}", udp4), (Bytes{0, 1}));
  EXPECT_EQ(data("{client_ip}", udp4), (Bytes{192, 0, 2, 7}));
  EXPECT_EQ(data("{client_port}", udp4), (Bytes{0x12, 0x34}));
  EXPECT_EQ(data("{protocol}", udp4), Text("udp"));
  EXPECT_EQ(data("{protocol}", tcp6), Text("tcp"));
  Bytes v6_bytes(16, 0);
  std::memcpy(v6_bytes.data(), v6.sin6_addr.s6_addr, 16);
  EXPECT_EQ(data("{client_ip}", tcp6), v6_bytes);
  // Without a client (a cache refresh), a rule that needs one does nothing.
  EXPECT_EQ(data("{client_ip}", {}), (Bytes{0xde, 0xad}));
  const RewriteStage stage = Stage(" rewrite edns0 local set 0xffee {client_ip}\n");
  EXPECT_TRUE(stage.per_client());
  EXPECT_TRUE(Stage(" rewrite edns0 local set 0xffee {protocol}\n").per_client())
      << "a TCP answer is not a UDP one";
  EXPECT_FALSE(Stage(" rewrite edns0 local set 0xffee {qname}\n").per_client());
  EXPECT_FALSE(Stage(" rewrite edns0 subnet unset\n").per_client());
}

TEST(RewriteEdns0Query, SubnetIsTheClientsAddressCutToThePrefix) {
  const RewriteStage stage = Stage(" rewrite edns0 subnet set 24 56\n");
  const sockaddr_in v4 = V4("198.51.100.77", 1);
  const sockaddr_in6 mapped = V6("::ffff:198.51.100.77", 1);
  const sockaddr_in6 v6 = V6("2001:db8:aaaa:bbcc:1::1", 1);
  const Bytes expected4 = {0,   1,  24, 0,
                           198, 51, 100};  // RFC 7871: family 1, /24, scope 0, 3 octets
  Edited e = Edit(stage, Query({}), {reinterpret_cast<const sockaddr*>(&v4), false});
  EXPECT_TRUE(stage.per_client());
  ASSERT_EQ(e.options.size(), 1u);
  EXPECT_EQ(e.options[0], (std::pair<std::uint16_t, Bytes>{8, expected4}));
  EXPECT_EQ(Edit(stage, Query({}), {reinterpret_cast<const sockaddr*>(&mapped), false})
                .options.at(0)
                .second,
            expected4);
  EXPECT_EQ(
      Edit(stage, Query({}), {reinterpret_cast<const sockaddr*>(&v6), false}).options.at(0).second,
      (Bytes{0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xaa, 0xbb}));
  // A subnet the client sent keeps the shorter prefix; an odd prefix masks its last octet.
  const RewriteStage odd = Stage(" rewrite edns0 subnet replace 20 56\n");
  const Bytes sent = Option(8, {0, 1, 16, 0, 10, 20});
  EXPECT_EQ(
      Edit(odd, Query(sent), {reinterpret_cast<const sockaddr*>(&v4), false}).options.at(0).second,
      (Bytes{0, 1, 16, 0, 198, 51}));
  EXPECT_EQ(Edit(odd, Query(Option(8, {0, 1, 32, 0, 1, 2, 3, 4})),
                 {reinterpret_cast<const sockaddr*>(&v4), false})
                .options.at(0)
                .second,
            (Bytes{0, 1, 20, 0, 198, 51, 96}));
  EXPECT_EQ(Edit(stage, Query({}), {}).result.outcome, RewriteStage::Outcome::kUnchanged)
      << "no client, no subnet";
}

TEST(RewriteEdns0Query, AnEdnsRuleThatAppliesStopsTheListAndOneThatDoesNotGoesOn) {
  const RewriteStage stage = Stage(
      " rewrite edns0 local replace 0xffee x\n"  // stop, but applies only where the option is
      " rewrite name exact www.example.org. other.example.org.\n");
  Edited lacks = Edit(stage, Query({}), {});
  EXPECT_EQ(lacks.name,
            std::string(reinterpret_cast<const char*>(WireName("other.example.org.").data()),
                        WireName("other.example.org.").size()));
  Edited has = Edit(stage, Query(Option(0xffee, Text("y"))), {});
  EXPECT_EQ(has.name,
            std::string(reinterpret_cast<const char*>(WireName("www.example.org.").data()),
                        WireName("www.example.org.").size()))
      << "the edns0 rule applied and stopped the list";
  EXPECT_EQ(has.options.at(0).second, Text("x"));

  // With continue, the name changes and the options too; the question's new length is reported.
  const RewriteStage both = Stage(
      " rewrite continue edns0 nsid set\n"
      " rewrite name exact www.example.org. a.much.longer.name.example.org.\n");
  Edited e = Edit(both, Query({}, false), {});
  EXPECT_EQ(e.result.qname_len, WireName("a.much.longer.name.example.org.").size());
  EXPECT_TRUE(e.result.opt_created);
  ASSERT_EQ(e.options.size(), 1u);
  EXPECT_EQ(e.options[0], (std::pair<std::uint16_t, Bytes>{3, Bytes{}}));
}

TEST(RewriteEdns0Query, AQueryWhoseOptIsNotLastIsLeftAlone) {
  const RewriteStage stage = Stage(" rewrite edns0 local set 0xffee x\n");
  MessageBuilder m(7, 0x0100);
  m.Question("www.example.org.", 1, 1);
  m.Opt(1232, 0);
  m.Additional("key.", 250, 0, Bytes(20, 0));  // a TSIG must stay last
  EXPECT_EQ(Edit(stage, m.bytes(), {}).result.outcome, RewriteStage::Outcome::kUnchanged);
  MessageBuilder n(7, 0x0100);
  n.Question("www.example.org.", 1, 1);
  n.Additional("key.", 250, 0, Bytes(20, 0));
  Edited e = Edit(stage, n.bytes(), {});
  EXPECT_EQ(e.result.outcome, RewriteStage::Outcome::kUnchanged);
  EXPECT_FALSE(e.has_opt);
}

TEST(RewriteEdns0Query, AnOptionWithNoRoomIsLeftOutAndTheRestApplies) {
  const RewriteStage stage =
      Stage(" rewrite continue edns0 local set 0xffee " + std::string(500, 'x') +
            "\n rewrite continue edns0 local set 0xffef yz\n");
  const Bytes query = Query({});
  Bytes room = query;
  room.resize(query.size() + 100);
  const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
  const RewriteStage::QueryResult r =
      stage.RewriteQuery(room, query.size(), q->qname_len, 1, 1, {});
  EXPECT_EQ(r.outcome, RewriteStage::Outcome::kRewritten);
  room.resize(r.len);
  const wire::Result<wire::QueryView> edited = wire::ParseQuery(room);
  ASSERT_TRUE(edited.has_value());
  std::vector<std::uint16_t> codes;
  wire::ForEachOption(room, edited->opt, [&](std::uint16_t code, std::span<const std::uint8_t>) {
    codes.push_back(code);
  });
  EXPECT_EQ(codes, std::vector<std::uint16_t>{0xffef}) << "only the second option, added";
}

TEST(RewriteEdns0Query, TheClientsQuestionAlwaysFitsBackOverTheQuery) {
  // A name rule that shortens the name frees room the options may not take: Unrewritten
  // writes the client's longer question back over the query, in the same room.
  const std::string long_suffix = "." + std::string(60, 'a') + "." + std::string(60, 'b') + "." +
                                  std::string(60, 'c') + ".example.";
  const RewriteStage stage = Stage(" rewrite continue name suffix " + long_suffix +
                                   " .x.\n"
                                   " rewrite edns0 local set 0xffee " +
                                   std::string(512, 'd') + "\n");
  MessageBuilder m(7, 0x0100);
  m.Question("w" + long_suffix, 1, 1);
  m.Opt(1232, 0, Option(12, Bytes(300, 0)));  // padded
  const Bytes asked = m.bytes();
  const std::size_t asked_qname = WireName("w" + long_suffix).size();
  for (const std::size_t room_size : {asked.size() + 100, asked.size() + 400, asked.size() + 700}) {
    Bytes room = asked;
    room.resize(room_size);
    const RewriteStage::QueryResult r =
        stage.RewriteQuery(room, asked.size(), asked_qname, 1, 1, {});
    ASSERT_EQ(r.outcome, RewriteStage::Outcome::kRewritten) << room_size;
    EXPECT_LE(r.len - r.qname_len + asked_qname, room_size) << room_size;
  }
}

}  // namespace
}  // namespace ringdns::core
