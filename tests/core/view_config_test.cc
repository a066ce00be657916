// The view directive as CoreDNS reads it (errors with their positions), blocks that share
// a zone and port through views, and which block RouteTable::PickBlock gives a query.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

#include "core/config/loader.h"
#include "core/routes.h"
#include "core/view/expr.h"
#include "testing/message_builder.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::WireName;

absl::StatusOr<config::Config> Parse(const std::string& text) {
  return config::ParseCorefile(text, "test/Corefile");
}

std::string ErrorOf(const std::string& text) {
  absl::StatusOr<config::Config> c = Parse(text);
  EXPECT_FALSE(c.ok()) << text;
  return std::string(c.status().message());
}

TEST(ViewConfig, ReadsNameAndExpressions) {
  absl::StatusOr<config::Config> c = Parse(
      ".:5353 {\n view inner {\n  expr incidr(client_ip(), '127.0.0.0/24')\n  expr type() == 'A'\n "
      "}\n}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->blocks[0].view.has_value());
  EXPECT_EQ(c->blocks[0].view->name, "inner");
  ASSERT_EQ(c->blocks[0].view->exprs.size(), 2u);
  EXPECT_EQ(c->blocks[0].view->exprs[0].source,
            "incidr(client_ip(), '127.0.0.0/24')");  // arguments joined by one space
  EXPECT_EQ(c->blocks[0].view->exprs[1].source, "type() == 'A'");
}

// -validate's form reads back to itself, also where one quoted token cannot hold the
// expression: a \" in it reads as an escaped quote, and '{$A' and 'B}', two words, would
// be one environment variable in one token.
TEST(ViewConfig, PrintedExpressionsReadBackToThemselves) {
  for (const std::string& expr :
       {std::string("type() == 'A'"), std::string(R"(name() == 'a\"b.' || type() == 'A')"),
        std::string(R"(name() matches 'x\\\\')"), std::string(R"(name() == 'c\\')"),
        std::string("name() == 'two  spaces.'"), std::string("name() == '{$A B}'"),
        std::string("name() == '{%A B%}'")}) {
    SCOPED_TRACE(expr);
    absl::StatusOr<config::Config> c = Parse(".:53 {\n view v {\n  expr " + expr + "\n }\n}\n");
    ASSERT_TRUE(c.ok()) << c.status();
    const std::string printed = config::FormatCorefile(*c);
    absl::StatusOr<config::Config> again = Parse(printed);
    ASSERT_TRUE(again.ok()) << again.status() << "\n" << printed;
    EXPECT_EQ(again->blocks[0].view->exprs[0].source, c->blocks[0].view->exprs[0].source);
    EXPECT_EQ(config::FormatCorefile(*again), printed);
  }
}

TEST(ViewConfig, ErrorsNameFileLineAndColumn) {
  // The expression's column 8 is in the line's third argument, "==", at file column 15.
  EXPECT_THAT(
      ErrorOf(".:53 {\n view v {\n  expr type() == 1\n }\n}\n"),
      StartsWith(
          "test/Corefile:3:15: view v: in expression column 8: mismatched types string and int"));
  EXPECT_THAT(ErrorOf(".:53 {\n view v {\n  expr nosuch()\n }\n}\n"),
              StartsWith("test/Corefile:3:8: view v: in expression column 1: unknown function "
                         "'nosuch', expected one of"));
  // Inside a quoted argument the opening quote counts.
  EXPECT_THAT(
      ErrorOf(".:53 {\n view v {\n  expr \"type() == 'A' &&\"\n }\n}\n"),
      StartsWith("test/Corefile:3:25: view v: in expression column 17: expected an operand"));
  EXPECT_THAT(
      ErrorOf(".:53 {\n view v {\n  expr type() == 'A'\n }\n view w {\n  expr do()\n }\n}\n"),
      StartsWith("test/Corefile:5:2: view is given twice in this server block"));
  EXPECT_THAT(ErrorOf(".:53 {\n view {\n  expr do()\n }\n}\n"), StartsWith("test/Corefile:2:2:"));
  EXPECT_THAT(ErrorOf(".:53 {\n view v {\n  match do()\n }\n}\n"),
              StartsWith("test/Corefile:3:3: view: unknown property 'match', expected expr"));
  EXPECT_THAT(ErrorOf(".:53 {\n view v {\n  expr\n }\n}\n"),
              StartsWith("test/Corefile:3:3: view: expr needs an expression"));
  EXPECT_THAT(ErrorOf(".:53 {\n view v\n}\n"),
              StartsWith("test/Corefile:2:2: view v has no expression"));
}

TEST(ViewConfig, BlocksWithViewsShareAZoneAndPortBeforeTheDefault) {
  const std::string view_a =
      ".:5353 {\n view a {\n  expr type() == 'A'\n }\n forward . 127.0.0.1:1\n}\n";
  const std::string view_b = ".:5353 {\n view b {\n  expr do()\n }\n forward . 127.0.0.1:2\n}\n";
  const std::string plain = ".:5353 {\n forward . 127.0.0.1:3\n}\n";
  EXPECT_TRUE(Parse(view_a + view_b + plain).ok()) << Parse(view_a + view_b + plain).status();
  EXPECT_TRUE(Parse(view_a + view_b).ok());
  // The default must come last: CoreDNS refuses a view after it.
  EXPECT_THAT(
      ErrorOf(plain + view_a),
      HasSubstr("test/Corefile:4:1: zone . on dns port 5353 is already served by the block without "
                "a view at "
                "test/Corefile:1:1; expected the blocks with a view before the one without"));
  // Two blocks without a view are still refused, views or not around them.
  EXPECT_THAT(ErrorOf(view_a + plain + plain),
              HasSubstr("is already served by the block at test/Corefile:7:1"));
}

struct Client {
  sockaddr_in addr{};
  explicit Client(const char* ip) {
    addr.sin_family = AF_INET;
    addr.sin_port = htons(1000);
    inet_pton(AF_INET, ip, &addr.sin_addr);
  }
};

view::Request RequestFor(std::span<const std::uint8_t> qname, std::uint16_t qtype,
                         const Client& client) {
  return view::Request{.qname = qname,
                       .qtype = qtype,
                       .qclass = 1,
                       .client = reinterpret_cast<const sockaddr*>(&client.addr)};
}

TEST(ViewRoutes, TheFirstBlockWhoseViewTakesTheQueryServesIt) {
  absl::StatusOr<config::Config> c = Parse(
      ".:5353 {\n bind 127.0.0.1\n view local {\n  expr client_ip() == '127.0.0.1'\n }\n forward . "
      "127.0.0.1:1\n}\n"
      ".:5353 {\n bind 127.0.0.1\n view mail {\n  expr type() in ['MX', 'TXT']\n }\n forward . "
      "127.0.0.1:2\n}\n"
      ".:5353 {\n bind 127.0.0.1\n forward . 127.0.0.1:3\n}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<RouteTable> routes = BuildRoutes(*c);
  ASSERT_TRUE(routes.ok()) << routes.status();
  ASSERT_TRUE(routes->views);
  ASSERT_EQ(routes->listeners.size(), 1u);
  const ListenerSpec& l = routes->listeners[0];
  EXPECT_EQ(routes->blocks[0].view_name, "local");
  EXPECT_EQ(routes->blocks[2].view_name, "");
  const Bytes name = WireName("www.example.");
  const Client local("127.0.0.1");
  const Client other("127.0.0.2");
  const view::Request r1 = RequestFor(name, 1, local);
  const view::Request r2 = RequestFor(name, 1, other);
  const view::Request r3 = RequestFor(name, 15, other);
  const view::Request r4 = RequestFor(name, 15, local);
  EXPECT_EQ(routes->PickBlock(l, name, &r1), 0u);
  EXPECT_EQ(routes->PickBlock(l, name, &r2), 2u);
  EXPECT_EQ(routes->PickBlock(l, name, &r3), 1u);
  EXPECT_EQ(routes->PickBlock(l, name, &r4), 0u);  // written order: the first that matches
}

TEST(ViewRoutes, NoViewTakesTheQueryGoesUpTheNameThenRefused) {
  // CoreDNS's Server.ServeDNS: no block of example. takes it, so the next shorter zone
  // is tried; with none left, REFUSED (kNoRoute).
  absl::StatusOr<config::Config> c = Parse(
      "example.:5353 {\n view a {\n  expr type() == 'A'\n }\n forward . 127.0.0.1:1\n}\n"
      ".:5353 {\n view txt {\n  expr type() == 'TXT'\n }\n forward . 127.0.0.1:2\n}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<RouteTable> routes = BuildRoutes(*c);
  ASSERT_TRUE(routes.ok()) << routes.status();
  const ListenerSpec& l = routes->listeners[0];
  const Bytes name = WireName("www.example.");
  const Client local("127.0.0.1");
  const view::Request a = RequestFor(name, 1, local);
  const view::Request txt = RequestFor(name, 16, local);
  const view::Request mx = RequestFor(name, 15, local);
  EXPECT_EQ(routes->PickBlock(l, name, &a), 0u);
  EXPECT_EQ(routes->PickBlock(l, name, &txt), 1u);
  EXPECT_EQ(routes->PickBlock(l, name, &mx), zones::kNoRoute);
}

TEST(ViewRoutes, SpellingsOfOneZoneShareItsCandidates) {
  absl::StatusOr<config::Config> c = Parse(
      "\\065.:5353 {\n view a {\n  expr type() == 'A'\n }\n forward . 127.0.0.1:1\n}\n"
      "A.:5353 {\n forward . 127.0.0.1:2\n}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<RouteTable> routes = BuildRoutes(*c);
  ASSERT_TRUE(routes.ok()) << routes.status();
  const Bytes name = WireName("www.a.");
  const Client local("127.0.0.1");
  const view::Request a = RequestFor(name, 1, local);
  const view::Request mx = RequestFor(name, 15, local);
  EXPECT_EQ(routes->PickBlock(routes->listeners[0], name, &a), 0u);
  EXPECT_EQ(routes->PickBlock(routes->listeners[0], name, &mx), 1u);
}

// A forward's identity keeps its cache across a reload: two blocks that differ only in
// their view (they share their keys) or their rewrite rules must not share it, or a
// reload hands one view's cached answers to another's clients.
TEST(ViewConfig, AForwardsCacheIdentityIncludesItsViewAndRewrites) {
  const std::string inner =
      ". {\n view inner {\n  expr incidr(client_ip(), '10.0.0.0/8')\n }\n cache\n forward . "
      "127.0.0.1:53\n}\n";
  const std::string renamed =
      ". {\n view inner {\n  expr incidr(client_ip(), '10.0.0.0/8')\n }\n"
      " rewrite name exact a.example. b.example.\n cache\n forward . 127.0.0.1:53\n}\n";
  const std::string plain = ". {\n cache\n forward . 127.0.0.1:53\n}\n";
  absl::StatusOr<config::Config> c = Parse(inner + plain);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string with_view =
      config::FormatForwardIdentity(c->blocks[0], c->blocks[0].forwards[0]);
  const std::string without = config::FormatForwardIdentity(c->blocks[1], c->blocks[1].forwards[0]);
  EXPECT_NE(with_view, without);
  absl::StatusOr<config::Config> r = Parse(renamed + plain);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(config::FormatForwardIdentity(r->blocks[0], r->blocks[0].forwards[0]), with_view);
  // The same block read again keeps its identity.
  absl::StatusOr<config::Config> again = Parse(inner + plain);
  EXPECT_EQ(config::FormatForwardIdentity(again->blocks[0], again->blocks[0].forwards[0]),
            with_view);
}

TEST(ViewRoutes, WithoutViewsEachZoneHasOneBlock) {
  absl::StatusOr<config::Config> c =
      Parse("example.:5353 {\n forward . 127.0.0.1:1\n}\n.:5353 {\n forward . 127.0.0.1:2\n}\n");
  ASSERT_TRUE(c.ok());
  absl::StatusOr<RouteTable> routes = BuildRoutes(*c);
  ASSERT_TRUE(routes.ok());
  EXPECT_FALSE(routes->views);
  const Bytes under = WireName("a.example.");
  const Bytes other = WireName("a.other.");
  EXPECT_EQ(routes->PickBlock(routes->listeners[0], under, nullptr), 0u);
  EXPECT_EQ(routes->PickBlock(routes->listeners[0], other, nullptr), 1u);
}

}  // namespace
}  // namespace ringdns::core
