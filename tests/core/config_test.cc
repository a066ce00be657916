// Corefile parsing: CoreDNS's grammar and directives, the tutorial's and the production
// Corefiles with every value as written, and bad inputs with their exact positions.
// Upstream addresses here are for parsing only; no packet is sent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/config/lexer.h"
#include "core/config/loader.h"

namespace ringdns::core::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Config MustParse(const std::string& text, LoadOptions options = {}) {
  absl::StatusOr<Config> config = ParseCorefile(text, "Corefile", options);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config{};
}

std::string ErrorOf(const std::string& text, LoadOptions options = {}) {
  absl::StatusOr<Config> config = ParseCorefile(text, "Corefile", options);
  EXPECT_FALSE(config.ok()) << "parsed but should not:\n" << text;
  return config.ok() ? "" : std::string(config.status().message());
}

std::string Ip(const Upstream& up) { return up.address.ToString(); }

TEST(Corefile, TutorialDeploymentAsWritten) {
  const Config config = MustParse(R"(remote.svc.cluster.local:5353 {
  forward . 10.1.17.2 10.1.46.2
}
.:5353 {
  forward . 172.20.0.10
}
)");
  ASSERT_EQ(config.blocks.size(), 2u);
  const ServerBlock& remote = config.blocks[0];
  ASSERT_EQ(remote.keys.size(), 1u);
  EXPECT_EQ(remote.keys[0].zone, "remote.svc.cluster.local.");
  EXPECT_EQ(remote.keys[0].port, 5353);
  EXPECT_EQ(remote.keys[0].transport, Transport::kDns);
  ASSERT_EQ(remote.forwards.size(), 1u);
  const Forward& f = remote.forwards[0];
  EXPECT_EQ(f.from, ".");
  ASSERT_EQ(f.to.size(), 2u);
  EXPECT_EQ(Ip(f.to[0]), "10.1.17.2");
  EXPECT_EQ(f.to[0].port, 53);
  EXPECT_EQ(Ip(f.to[1]), "10.1.46.2");
  // CoreDNS's defaults are filled in.
  EXPECT_EQ(f.policy, Policy::kRandom);
  EXPECT_EQ(f.read_timeout, absl::Seconds(2));
  EXPECT_EQ(f.expire, absl::Seconds(10));
  EXPECT_EQ(f.max_fails, 2u);
  EXPECT_EQ(f.health_check.interval, absl::Milliseconds(500));
  EXPECT_FALSE(remote.cache.has_value());
  EXPECT_EQ(config.blocks[1].keys[0].zone, ".");
  EXPECT_EQ(Ip(config.blocks[1].forwards[0].to[0]), "172.20.0.10");
}

TEST(Corefile, OneLineBlocksAsInTheReadme) {
  const Config config = MustParse(
      "remote.svc.cluster.local:5353 { forward . 10.1.17.2 10.1.46.2 }\n"
      ".:5353 { forward . 172.20.0.10 }\n");
  ASSERT_EQ(config.blocks.size(), 2u);
  EXPECT_EQ(config.blocks[0].forwards[0].to.size(), 2u);
  EXPECT_EQ(config.blocks[1].forwards[0].to.size(), 1u);
}

TEST(Corefile, ProductionVariantLoadsWithEveryValueAsWritten) {
  ::setenv("CLUSTER_DNS", "10.96.0.10", 1);
  const Config config = MustParse(R"((common) {
    errors
    log . {combined} {
        class denial error
    }
    prometheus :9153
    ready :8181
    reload 30s
    loop
}
remote.svc.cluster.local:5353 {
    import common
    cache 30 {
        success 9984 30
        denial 9984 5
        servfail 0
    }
    forward . 10.1.0.10 10.1.0.11 {
        policy round_robin
        max_concurrent 1000
        health_check 2s domain remote.svc.cluster.local
        prefer_udp
    }
}
.:5353 {
    import common
    health :8080 {
        lameduck 5s
    }
    forward . {$CLUSTER_DNS}
}
tls://remote.svc.cluster.local:8853 {
    tls /certs/server.crt /certs/server.key /certs/ca.crt {
        client_auth require_and_verify
    }
    forward . 127.0.0.1:5353
}
remote.svc.cluster.local:5354 {
    forward . tls://10.1.0.20%dns.remote.example tls://10.1.0.21%dns.remote.example {
        tls /certs/client.crt /certs/client.key /certs/ca.crt
    }
}
)");
  ASSERT_EQ(config.blocks.size(), 4u);

  const ServerBlock& remote = config.blocks[0];
  ASSERT_TRUE(remote.errors.has_value());
  ASSERT_EQ(remote.logs.size(), 1u);
  EXPECT_THAT(remote.logs[0].names, ElementsAre("."));
  EXPECT_EQ(remote.logs[0].format, "{combined}");
  EXPECT_THAT(remote.logs[0].classes, ElementsAre(LogClass::kDenial, LogClass::kError));
  ASSERT_TRUE(remote.prometheus.has_value());
  EXPECT_EQ(remote.prometheus->host, "");
  EXPECT_EQ(remote.prometheus->port, 9153);
  EXPECT_EQ(remote.ready->port, 8181);
  EXPECT_EQ(remote.reload->interval, absl::Seconds(30));
  EXPECT_EQ(remote.reload->jitter, absl::Seconds(15));
  EXPECT_TRUE(remote.loop);
  ASSERT_TRUE(remote.cache.has_value());
  EXPECT_EQ(remote.cache->success.capacity, 9984u);
  EXPECT_EQ(remote.cache->success.max_ttl, absl::Seconds(30));
  EXPECT_EQ(remote.cache->denial.capacity, 9984u);
  EXPECT_EQ(remote.cache->denial.max_ttl, absl::Seconds(5));
  EXPECT_EQ(remote.cache->servfail_ttl, absl::ZeroDuration());
  const Forward& rf = remote.forwards.at(0);
  EXPECT_EQ(rf.policy, Policy::kRoundRobin);
  EXPECT_EQ(rf.max_concurrent, 1000u);
  EXPECT_EQ(rf.health_check.interval, absl::Seconds(2));
  EXPECT_EQ(rf.health_check.domain, "remote.svc.cluster.local.");
  EXPECT_TRUE(rf.prefer_udp);
  EXPECT_EQ(Ip(rf.to[1]), "10.1.0.11");

  const ServerBlock& local = config.blocks[1];
  EXPECT_EQ(local.health->address.port, 8080);
  EXPECT_EQ(local.health->lameduck, absl::Seconds(5));
  EXPECT_EQ(Ip(local.forwards.at(0).to.at(0)), "10.96.0.10");
  EXPECT_TRUE(local.loop);  // from the snippet

  const ServerBlock& dot = config.blocks[2];
  EXPECT_EQ(dot.keys[0].transport, Transport::kTls);
  EXPECT_EQ(dot.keys[0].port, 8853);
  ASSERT_TRUE(dot.tls.has_value());
  EXPECT_EQ(dot.tls->cert, "/certs/server.crt");
  EXPECT_EQ(dot.tls->ca, "/certs/ca.crt");
  EXPECT_EQ(dot.tls->client_auth, ClientAuth::kRequireAndVerify);
  EXPECT_EQ(dot.forwards.at(0).to.at(0).port, 5353);

  const Forward& tf = config.blocks[3].forwards.at(0);
  ASSERT_EQ(tf.to.size(), 2u);
  EXPECT_EQ(tf.to[0].transport, Transport::kTls);
  EXPECT_EQ(tf.to[0].port, 853);
  EXPECT_EQ(tf.to[0].tls_servername, "dns.remote.example");
  EXPECT_EQ(Ip(tf.to[1]), "10.1.0.21");
  ASSERT_TRUE(tf.tls.has_value());
  EXPECT_EQ(tf.tls->cert, "/certs/client.crt");
  EXPECT_EQ(tf.tls->key, "/certs/client.key");
  EXPECT_EQ(tf.tls->ca, "/certs/ca.crt");
}

// CoreDNS's debug (its README: "debug" alone) is accepted and printed back; it changes
// nothing in ringdns (README, Status).
TEST(Corefile, DebugIsAcceptedAndPrintedBack) {
  const Config c = MustParse(".:53 {\n debug\n forward . 127.0.0.1\n}\n");
  EXPECT_TRUE(c.blocks[0].debug);
  EXPECT_FALSE(MustParse(".:53 {\n forward . 127.0.0.1\n}\n").blocks[0].debug);
  const std::string printed = FormatCorefile(c);
  EXPECT_NE(printed.find("\n    debug\n"), std::string::npos) << printed;
  EXPECT_EQ(FormatCorefile(MustParse(printed)), printed);
  EXPECT_THAT(ErrorOf(".:53 {\n debug on\n}\n"), ::testing::StartsWith("Corefile:2:8:"));
}

// The forward examples of CoreDNS's documentation.
TEST(Corefile, CoreDnsForwardDocumentationExamples) {
  const std::string resolv = std::string(RINGDNS_TESTDATA) + "/resolv.conf";
  MustParse(". {\n forward . 127.0.0.1:9005\n}\n");
  MustParse("example.org {\n forward . 127.0.0.1:9005\n}\n");
  Config c = MustParse(". {\n forward . " + resolv + "\n}\n");
  ASSERT_EQ(c.blocks[0].forwards[0].to.size(), 2u);
  EXPECT_EQ(Ip(c.blocks[0].forwards[0].to[1]), "fd00::10");
  c = MustParse(". {\n forward . " + resolv + " {\n  except miek.nl example.org\n }\n}\n");
  EXPECT_THAT(c.blocks[0].forwards[0].except, ElementsAre("miek.nl.", "example.org."));
  c = MustParse(". {\n forward . 10.0.0.10:53 10.0.0.11:1053 [2003::1]:53 [2003::2]:1053\n}\n");
  EXPECT_EQ(c.blocks[0].forwards[0].to[3].port, 1053);
  EXPECT_EQ(Ip(c.blocks[0].forwards[0].to[3]), "2003::2");
  c = MustParse(
      ". {\n forward . tls://9.9.9.9 {\n  tls_servername dns.quad9.net\n  health_check 5s\n "
      "}\n}\n");
  EXPECT_EQ(c.blocks[0].forwards[0].tls_servername, "dns.quad9.net");
  EXPECT_EQ(c.blocks[0].forwards[0].to[0].port, 853);
  c = MustParse(
      ". {\n forward . tls://1.1.1.1 tls://1.0.0.1 {\n  tls_servername cloudflare-dns.com\n  "
      "health_check 5s\n }\n}\n");
  EXPECT_EQ(c.blocks[0].forwards[0].to.size(), 2u);
  c = MustParse(
      ". {\n forward example.org 1.2.3.4\n forward . 5.6.7.8 {\n  next NXDOMAIN\n }\n}\n");
  ASSERT_EQ(c.blocks[0].forwards.size(), 2u);  // chained in written order
  EXPECT_EQ(c.blocks[0].forwards[0].from, "example.org.");
  EXPECT_THAT(c.blocks[0].forwards[1].next_rcodes, ElementsAre(3));
  c = MustParse(
      ". {\n forward . 10.0.0.10:53 {\n  max_concurrent 100\n  failfast_all_unhealthy_upstreams\n"
      "  failover SERVFAIL REFUSED\n  force_tcp\n  max_connect_attempts 3\n"
      "  health_check 1s no_rec\n  policy sequential\n  read_timeout 500ms\n"
      "  expire 30s\n  max_idle_conns 10\n  max_age 1m\n  max_fails 3\n"
      "  source_address 127.0.0.2\n }\n}\n");
  const Forward& f = c.blocks[0].forwards[0];
  EXPECT_TRUE(f.failfast_all_unhealthy_upstreams);
  EXPECT_THAT(f.failover_rcodes, ElementsAre(2, 5));
  EXPECT_TRUE(f.force_tcp);
  EXPECT_EQ(f.max_connect_attempts, 3u);
  EXPECT_FALSE(f.health_check.recursion_desired);
  EXPECT_EQ(f.policy, Policy::kSequential);
  EXPECT_EQ(f.read_timeout, absl::Milliseconds(500));
  EXPECT_EQ(f.max_age, absl::Minutes(1));
  EXPECT_EQ(f.source_address->ToString(), "127.0.0.2");
}

// The cache examples of CoreDNS's documentation.
TEST(Corefile, CoreDnsCacheDocumentationExamples) {
  Config c = MustParse(". {\n cache 10\n forward . 127.0.0.1:9005\n}\n");
  EXPECT_EQ(c.blocks[0].cache->success.max_ttl, absl::Seconds(10));
  EXPECT_EQ(c.blocks[0].cache->denial.max_ttl, absl::Seconds(10));
  c = MustParse(". {\n forward . 127.0.0.1:9005\n cache example.org\n}\n");
  EXPECT_THAT(c.blocks[0].cache->zones, ElementsAre("example.org."));
  EXPECT_EQ(c.blocks[0].cache->success.max_ttl, absl::Seconds(3600));  // defaults
  EXPECT_EQ(c.blocks[0].cache->denial.max_ttl, absl::Seconds(1800));
  EXPECT_EQ(c.blocks[0].cache->success.capacity, 9984u);
  EXPECT_EQ(c.blocks[0].cache->servfail_ttl, absl::Seconds(5));
  c = MustParse(
      ". {\n cache {\n  success 5000\n  denial 2500 300 10\n  prefetch 10 1m 20%\n"
      "  serve_stale 2h verify\n  servfail 1m\n  disable denial sub.example.org\n"
      "  keepttl\n }\n}\n");
  const Cache& cache = *c.blocks[0].cache;
  EXPECT_EQ(cache.success.capacity, 5000u);
  EXPECT_EQ(cache.denial.max_ttl, absl::Seconds(300));
  EXPECT_EQ(cache.denial.min_ttl, absl::Seconds(10));
  EXPECT_EQ(cache.prefetch_amount, 10u);
  EXPECT_EQ(cache.prefetch_percentage, 20u);
  EXPECT_TRUE(cache.serve_stale);
  EXPECT_EQ(cache.serve_stale_duration, absl::Hours(2));
  EXPECT_EQ(cache.serve_stale_refresh, StaleRefresh::kVerify);
  EXPECT_EQ(cache.servfail_ttl, absl::Minutes(1));
  EXPECT_THAT(cache.disable_denial, ElementsAre("sub.example.org."));
  EXPECT_TRUE(cache.keepttl);
  c = MustParse(". {\n cache {\n  serve_stale\n }\n}\n");
  EXPECT_EQ(c.blocks[0].cache->serve_stale_duration, absl::Hours(1));
}

TEST(Corefile, RepeatedRcodeListsAddUpOnceEachAndNormaliseBack) {
  // corefile_fuzz: failover repeated 12 times printed 24 RCODEs on one line, which the
  // parser (16 at most) then refused.
  std::string text = ". {\n forward . 10.0.0.10 {\n";
  for (int i = 0; i < 12; ++i) text += "  failover SERVFAIL YXDOMAIN\n  next NXDOMAIN\n";
  text += "  failover REFUSED\n }\n}\n";
  const Config c = MustParse(text);
  EXPECT_THAT(c.blocks[0].forwards[0].failover_rcodes, ElementsAre(2, 6, 5));
  EXPECT_THAT(c.blocks[0].forwards[0].next_rcodes, ElementsAre(3));
  const std::string once = FormatCorefile(c);
  EXPECT_EQ(FormatCorefile(MustParse(once)), once);
}

TEST(Corefile, KeysWithSpecialOctetsNormaliseInPresentationForm) {
  // corefile_fuzz: the zone "\044." (a label ",") printed raw became "dns://,.:53",
  // which parses back as two keys.
  const Config c = MustParse("\\044\n");
  ASSERT_EQ(c.blocks[0].keys.size(), 1u);
  EXPECT_EQ(c.blocks[0].keys[0].zone, ",.");
  const std::string once = FormatCorefile(c);
  EXPECT_THAT(once, ::testing::StartsWith("dns://\\044.:53 {"));
  EXPECT_EQ(FormatCorefile(MustParse(once)), once);
}

TEST(Corefile, EscapesInKeysStayAsTheyAre) {
  // corefile_fuzz: the key "$" is kept as "\$." and must not print as "\092\036.".
  const std::string once = FormatCorefile(MustParse("$\n"));
  EXPECT_THAT(once, ::testing::StartsWith("dns://\\$.:53 {"));
  EXPECT_EQ(FormatCorefile(MustParse(once)), once);
}

TEST(Corefile, KeysNormalise) {
  LoadOptions options;
  options.dns_port = 1053;
  Config c = MustParse("Example.ORG, dns://b.example:5300,\n  c.example {\n}\n", options);
  ASSERT_EQ(c.blocks[0].keys.size(), 3u);
  EXPECT_EQ(c.blocks[0].keys[0].zone, "example.org.");
  EXPECT_EQ(c.blocks[0].keys[0].port, 1053);  // -dns.port
  EXPECT_EQ(c.blocks[0].keys[1].port, 5300);
  EXPECT_EQ(c.blocks[0].keys[2].zone, "c.example.");
  c = MustParse("10.0.0.0/8 172.16.0.0/12 192.168.1.0/27 fd00::/7 {\n}\n");
  std::vector<std::string> zones;
  for (const ServerKey& k : c.blocks[0].keys) zones.push_back(k.zone);
  ASSERT_EQ(zones.size(), 1u + 16u + 32u + 2u);
  EXPECT_EQ(zones[0], "10.in-addr.arpa.");
  EXPECT_EQ(zones[1], "16.172.in-addr.arpa.");
  EXPECT_EQ(zones[16], "31.172.in-addr.arpa.");
  EXPECT_EQ(zones[17], "0.1.168.192.in-addr.arpa.");
  EXPECT_EQ(zones[48], "31.1.168.192.in-addr.arpa.");
  EXPECT_EQ(zones[49], "c.f.ip6.arpa.");
  EXPECT_EQ(zones[50], "d.f.ip6.arpa.");
  c = MustParse("tls://example.org {\n tls a.crt a.key\n forward . 127.0.0.1\n}\n");
  EXPECT_EQ(c.blocks[0].keys[0].port, 853);
}

TEST(Corefile, SingleBlockMayOmitBraces) {
  const Config c = MustParse(".:5353\nforward . 127.0.0.1:5300\ncache 30\n");
  ASSERT_EQ(c.blocks.size(), 1u);
  EXPECT_EQ(c.blocks[0].forwards.size(), 1u);
  EXPECT_TRUE(c.blocks[0].cache.has_value());
}

TEST(Corefile, QuotesCommentsAndEnvironment) {
  ::setenv("RINGDNS_TEST_UPSTREAM", "127.0.0.9", 1);
  ::unsetenv("RINGDNS_TEST_UNSET");
  const Config c = MustParse(
      "# a comment\n.:53 { # trailing comment\n"
      " forward . {$RINGDNS_TEST_UPSTREAM}:53{$RINGDNS_TEST_UNSET}\n"
      " log . \"{remote} said \\\"{name}\\\"\"\n}\n");
  EXPECT_EQ(Ip(c.blocks[0].forwards[0].to[0]), "127.0.0.9");
  EXPECT_EQ(c.blocks[0].logs[0].format, "{remote} said \"{name}\"");
}

TEST(Corefile, SnippetsAndFileImports) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ringdns_import_test";
  std::filesystem::create_directories(dir / "conf.d");
  std::ofstream(dir / "conf.d" / "a.server") << "a.example:5353 {\n forward . 127.0.0.1\n}\n";
  std::ofstream(dir / "conf.d" / "b.server") << "b.example:5353 {\n forward . 127.0.0.2\n}\n";
  std::ofstream(dir / "extra.conf") << "cache 20\n";
  std::ofstream(dir / "Corefile") << "(snip) {\n loop\n}\n"
                                     ".:5353 {\n import snip\n import extra.conf\n"
                                     " import missing/*.override\n forward . 127.0.0.3\n}\n"
                                     "import conf.d/*.server\n";
  absl::StatusOr<Config> c = LoadCorefile((dir / "Corefile").string());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->blocks.size(), 3u);
  EXPECT_TRUE(c->blocks[0].loop);
  EXPECT_EQ(c->blocks[0].cache->success.max_ttl, absl::Seconds(20));
  EXPECT_EQ(c->blocks[1].keys[0].zone, "a.example.");
  EXPECT_EQ(c->blocks[2].keys[0].zone, "b.example.");
  std::filesystem::remove_all(dir);
}

TEST(Corefile, ImportCyclesAndRunawayExpansionAreErrorsNotHangs) {
  EXPECT_THAT(ErrorOf("(a) {\n import a\n}\n.:53 {\n import a\n}\n"),
              HasSubstr("import cycle: a -> a"));
  EXPECT_THAT(ErrorOf("(a) {\n import b\n}\n(b) {\n import a\n}\n.:53 {\n import a\n}\n"),
              HasSubstr("import cycle: a -> b -> a"));
  // Each level doubles the tokens: 2^30 would never finish.
  std::string text = "(s0) {\n loop\n}\n";
  for (int i = 1; i <= 30; ++i) {
    text += "(s" + std::to_string(i) + ") {\n import s" + std::to_string(i - 1) + "\n import s" +
            std::to_string(i - 1) + "\n}\n";
  }
  text += ".:53 {\n import s30\n}\n";
  EXPECT_THAT(ErrorOf(text), HasSubstr("imports expand to more than"));
}

TEST(Corefile, NormalisedOutputParsesBackToTheSameConfig) {
  ::setenv("CLUSTER_DNS", "10.96.0.10", 1);
  const std::string original =
      "remote.svc.cluster.local:5353 {\n view split {\n  expr incidr(client_ip(), '10.0.0.0/8')  "
      "&&  type() in [\"A\", 'AAAA']\n"
      "  expr \"name() matches '^a\\\\.b\\\\.$' || do()\"\n }\n cache 30 {\n  success 9984 30\n  "
      "prefetch 5 2m 30%\n }\n"
      " forward . 10.1.0.10 [fd00::1]:5300 {\n  policy round_robin\n  except "
      "a.remote.svc.cluster.local\n }\n"
      " acl {\n  block type AAAA net 10.0.0.0/8\n  allow\n }\n log . {common}\n errors\n}\n"
      "tls://.:8853 {\n tls a.crt \"b key.pem\" {\n  client_auth require\n }\n"
      " forward . tls://10.0.0.1%dns.example {\n  tls c.crt c.key ca.crt\n }\n}\n";
  const std::string once = FormatCorefile(MustParse(original));
  const std::string twice = FormatCorefile(MustParse(once));
  EXPECT_EQ(once, twice);
  // view: each expression one token, its arguments joined by one space as CoreDNS joins them.
  EXPECT_THAT(once, HasSubstr("    view split {\n        expr \"incidr(client_ip(), '10.0.0.0/8') "
                              "&& type() in [\\\"A\\\", 'AAAA']\"\n"));
  EXPECT_THAT(once, HasSubstr("        expr \"name() matches '^a\\\\.b\\\\.$' || do()\"\n    }\n"));
}

struct BadCorefile {
  const char* rule;
  const char* text;
  const char* error;  // exact prefix: position, then the message's start
};

class BadCorefiles : public ::testing::TestWithParam<BadCorefile> {};

TEST_P(BadCorefiles, FailWithFileLineColumnAndWhatWasExpected) {
  const BadCorefile& c = GetParam();
  EXPECT_THAT(ErrorOf(c.text), ::testing::StartsWith(c.error)) << c.rule;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadCorefiles,
    ::testing::Values(
        BadCorefile{
            "unknown directive names it and lists the supported ones", ".:53 {\n  frobnicate\n}\n",
            "Corefile:2:3: unknown directive 'frobnicate'; ringdns supports acl, any, bind"},
        BadCorefile{"a plugin that serves names itself is out of a forwarder's scope",
                    ".:53 {\n  kubernetes cluster.local\n}\n",
                    "Corefile:2:3: unknown directive 'kubernetes': a CoreDNS plugin that serves "
                    "names itself, "
                    "outside a forwarder's scope; keep this block on CoreDNS and have ringdns "
                    "forward to it"},
        BadCorefile{
            "file, etcd and dnssec too", ".:53 {\n file db.example.org\n}\n",
            "Corefile:2:2: unknown directive 'file': a CoreDNS plugin that serves names itself"},
        BadCorefile{"a misspelt directive gets a suggestion", ".:53 {\n  forwrd . 127.0.0.1\n}\n",
                    "Corefile:2:3: unknown directive 'forwrd'; did you mean 'forward'? ringdns "
                    "supports acl"},
        BadCorefile{"letters swapped", ".:53 {\n  cahce 30\n}\n",
                    "Corefile:2:3: unknown directive 'cahce'; did you mean 'cache'?"},
        BadCorefile{"two letters swapped in a short name", ".:53 {\n  lgo\n}\n",
                    "Corefile:2:3: unknown directive 'lgo'; did you mean 'log'?"},
        BadCorefile{"a short name only a letter away", ".:53 {\n  lg\n}\n",
                    "Corefile:2:3: unknown directive 'lg'; did you mean 'log'?"},
        BadCorefile{"a short name two letters away is not guessed", ".:53 {\n  ab\n}\n",
                    "Corefile:2:3: unknown directive 'ab'; ringdns supports"},
        BadCorefile{"a back-reference in consolidate (found by corefile_fuzz: UB in std::regex)",
                    ".:53 {\n errors {\n  consolidate 5m (a)\\1111111111111111111\n }\n}\n",
                    "Corefile:3:18: consolidate: invalid REGEXP '(a)\\1111111111111111111': "
                    "back-references"},
        BadCorefile{
            "a repeat count over RE2's 1000",
            ".:53 {\n errors {\n  consolidate 5m a{99999999999}\n }\n}\n",
            "Corefile:3:18: consolidate: invalid REGEXP 'a{99999999999}': repeat count over 1000"},
        BadCorefile{
            "dns64 is not supported yet", ".:53 {\n dns64\n}\n",
            "Corefile:2:2: unknown directive 'dns64': a CoreDNS plugin ringdns does not have yet; "
            "ringdns supports acl"},
        BadCorefile{"unknown forward option", ".:53 {\n forward . 1.2.3.4 {\n   bogus 1\n }\n}\n",
                    "Corefile:3:4: unknown forward option 'bogus', expected one of except"},
        BadCorefile{"bad upstream", ".:53 {\n forward . 1.2.3.4 nowhere.example\n}\n",
                    "Corefile:2:20: 'nowhere.example' is not an IP address, IP:port, tls://IP"},
        BadCorefile{"bad upstream port", ".:53 {\n forward . 1.2.3.4:99999\n}\n",
                    "Corefile:2:12: invalid port in '1.2.3.4:99999', expected a number from 1"},
        BadCorefile{"forward without upstream", ".:53 {\n forward .\n}\n",
                    "Corefile:2:2: forward: expected forward FROM TO..."},
        BadCorefile{
            "sixteen upstreams",
            ".:53 {\n forward . 1.0.0.1 1.0.0.2 1.0.0.3 1.0.0.4 1.0.0.5 1.0.0.6 1.0.0.7 "
            "1.0.0.8 1.0.0.9 1.0.0.10 1.0.0.11 1.0.0.12 1.0.0.13 1.0.0.14 1.0.0.15 1.0.0.16\n}\n",
            "Corefile:2:138: forward: more than 15 upstreams"},
        BadCorefile{
            "bad policy", ".:53 {\n forward . 1.2.3.4 {\n  policy fastest\n }\n}\n",
            "Corefile:3:10: unknown policy 'fastest', expected random, round_robin or sequential"},
        BadCorefile{"bad duration", ".:53 {\n forward . 1.2.3.4 {\n  expire soon\n }\n}\n",
                    "Corefile:3:10: invalid expire 'soon', expected a duration"},
        BadCorefile{"negative integer", ".:53 {\n forward . 1.2.3.4 {\n  max_fails -1\n }\n}\n",
                    "Corefile:3:13: invalid max_fails '-1', expected an integer from 0"},
        BadCorefile{"tls upstream without a name to verify",
                    ".:53 {\n forward . tls://1.2.3.4\n}\n",
                    "Corefile:2:2: forward: tls upstream 1.2.3.4 has no server name to verify"},
        BadCorefile{"cache TTL zero", ".:53 {\n cache 0\n}\n",
                    "Corefile:2:8: invalid cache TTL '0', expected an integer from 1"},
        BadCorefile{"cache twice", ".:53 {\n cache\n cache\n}\n",
                    "Corefile:3:2: cache is given twice in this server block"},
        BadCorefile{"prefetch percentage", ".:53 {\n cache {\n  prefetch 3 1m 95%\n }\n}\n",
                    "Corefile:3:17: invalid prefetch percentage '95%', expected 10% to 90%"},
        BadCorefile{"servfail over 5m", ".:53 {\n cache {\n  servfail 10m\n }\n}\n",
                    "Corefile:3:12: servfail duration must be at most 5m"},
        BadCorefile{
            "same zone and port twice", ".:53 {\n}\n.:53 {\n}\n",
            "Corefile:3:1: zone . on dns port 53 is already served by the block at Corefile:1:1"},
        BadCorefile{"same zone and port on a shared address",
                    ".:53 {\n bind 127.0.0.1 ::1\n}\n.:53 {\n bind ::1\n}\n",
                    "Corefile:4:1: zone . on dns port 53 is already served by the block at "
                    "Corefile:1:1; expected each "
                    "zone and port once per address"},
        BadCorefile{
            "same zone and port, one block on every address",
            ".:53 {\n bind 127.0.0.1\n}\n.:53 {\n}\n",
            "Corefile:4:1: zone . on dns port 53 is already served by the block at Corefile:1:1"},
        BadCorefile{
            "same zone and port, one block on 0.0.0.0",
            ".:53 {\n bind 0.0.0.0\n}\n.:53 {\n bind 127.0.0.1\n}\n",
            "Corefile:4:1: zone . on dns port 53 is already served by the block at Corefile:1:1"},
        BadCorefile{"unterminated quote", ".:53 {\n log . \"{remote}\n}\n",
                    "Corefile:2:8: unterminated quoted string"},
        BadCorefile{"missing closing brace", ".:53 {\n forward . 1.2.3.4\n",
                    "Corefile:2:12: unexpected end of file, expected '}' to close the block opened "
                    "at Corefile:1:6"},
        BadCorefile{"stray closing brace", "}\n", "Corefile:1:1: unexpected '}'"},
        BadCorefile{"second block without braces", ".:53 {\n}\nexample.org:53\nforward . 1.2.3.4\n",
                    "Corefile:3:1: expected '{' after the server block keys"},
        BadCorefile{
            "brace against the key", ".:53 {\n}\n.:5301{\n forward . 1.2.3.4\n}\n",
            "Corefile:3:1: '.:5301{': expected a space between the server block key and '{'"},
        BadCorefile{"dangling comma", "a.example, {\n}\n",
                    "Corefile:1:1: expected another server block key after ','"},
        BadCorefile{"bad zone", "a..b:53 {\n}\n", "Corefile:1:1: invalid zone 'a..b'"},
        BadCorefile{"zone too long",
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa {\n}\n",
                    "Corefile:1:1: invalid zone"},
        BadCorefile{
            "unsupported scheme", "https://.:443 {\n}\n",
            "Corefile:1:1: 'https://.:443': https:// (DNS over HTTPS) is not supported by ringdns, "
            "expected dns:// or tls://"},
        BadCorefile{
            "grpc key", "grpc://.:443 {\n}\n",
            "Corefile:1:1: 'grpc://.:443': grpc:// (DNS over gRPC) is not supported by ringdns"},
        BadCorefile{"https upstream", ".:53 {\n forward . https://dns.google/dns-query\n}\n",
                    "Corefile:2:12: 'https://dns.google/dns-query': https:// (DNS over HTTPS) is "
                    "not supported by "
                    "ringdns, expected dns://IP[:port] or tls://IP[%name][:port]"},
        BadCorefile{"quic upstream", ".:53 {\n forward . quic://127.0.0.1:853\n}\n",
                    "Corefile:2:12: 'quic://127.0.0.1:853': quic:// (DNS over QUIC) is not "
                    "supported by ringdns"},
        BadCorefile{
            "unknown scheme upstream", ".:53 {\n forward . udp://127.0.0.1\n}\n",
            "Corefile:2:12: 'udp://127.0.0.1': udp:// (a transport) is not supported by ringdns"},
        BadCorefile{"tls block without tls directive", "tls://.:853 {\n forward . 1.2.3.4\n}\n",
                    "Corefile:1:1: a tls:// server block needs a 'tls CERT KEY [CA]' directive"},
        BadCorefile{"client_auth mode", "tls://.:853 {\n tls a b {\n  client_auth maybe\n }\n}\n",
                    "Corefile:3:15: unknown client_auth 'maybe', expected nocert"},
        BadCorefile{"bind interface name", ".:53 {\n bind eth0\n}\n",
                    "Corefile:2:7: bind: 'eth0' is not an IP address"},
        BadCorefile{
            "acl action", ".:53 {\n acl {\n  permit\n }\n}\n",
            "Corefile:3:3: unknown acl action 'permit', expected allow, block, filter or drop"},
        BadCorefile{"acl qtype", ".:53 {\n acl {\n  block type BOGUS\n }\n}\n",
                    "Corefile:3:14: unknown query type 'BOGUS'"},
        BadCorefile{"log class", ".:53 {\n log {\n  class most\n }\n}\n",
                    "Corefile:3:9: unknown log class 'most'"},
        BadCorefile{"reload interval", ".:53 {\n reload 1s\n}\n",
                    "Corefile:2:9: reload interval must be at least 2s"},
        BadCorefile{"health address", ".:53 {\n health eighty\n}\n",
                    "Corefile:2:9: invalid address 'eighty', expected [HOST]:PORT"},
        BadCorefile{"import with two arguments", ".:53 {\n import a b\n}\n",
                    "Corefile:2:2: import takes exactly one argument"},
        BadCorefile{"import of a missing file", ".:53 {\n import nosuchfile\n}\n",
                    "Corefile:2:2: import: no snippet named 'nosuchfile' and no file"},
        BadCorefile{"loop takes no arguments", ".:53 {\n loop now\n}\n",
                    "Corefile:2:7: loop: unexpected argument 'now', expected loop"},
        BadCorefile{"empty file", "", "Corefile:1:1: the Corefile is empty"},
        BadCorefile{
            "mixed transports", ".:53 {\n forward . 1.2.3.4 tls://1.2.3.5%x\n}\n",
            "Corefile:2:12: forward: all upstreams of one forward must use the same transport"}));

TEST(Corefile, MissingFileIsAClearError) {
  absl::StatusOr<Config> c = LoadCorefile("/nonexistent/ringdns/Corefile");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("cannot read the Corefile"));
}

TEST(Corefile, DefaultCorefileParses) {
  const Config c = MustParse(kDefaultCorefile);
  ASSERT_EQ(c.blocks.size(), 1u);
  EXPECT_EQ(c.blocks[0].keys[0].port, 5353);
  EXPECT_TRUE(c.blocks[0].cache.has_value());
  EXPECT_FALSE(c.blocks[0].forwards[0].to.empty());
}

}  // namespace
}  // namespace ringdns::core::config

namespace ringdns::core::config {
namespace {

// Found by corefile_fuzz: snippets alone parsed into a Config with no server block, whose
// normalised form (empty) did not parse back.
TEST(Corefile, SnippetsWithoutAServerBlockAreAnError) {
  EXPECT_THAT(ErrorOf("(a) {\n loop\n}\n"), ::testing::StartsWith("Corefile:1:1: no server block"));
}

}  // namespace
}  // namespace ringdns::core::config

namespace ringdns::core::config {
namespace {

// Found by corefile_fuzz: a key with colons inside the zone printed back differently.
TEST(Corefile, ColonInsideAZoneKeyIsAnError) {
  EXPECT_THAT(ErrorOf("a:b.example:53 {\n}\n"),
              ::testing::StartsWith("Corefile:1:1: invalid server block key 'a:b.example:53'"));
  // An IPv6 network key keeps its colons, with or without a port.
  EXPECT_EQ(MustParse("fd00::/8:5300 {\n}\n").blocks[0].keys[0].port, 5300);
}

}  // namespace
}  // namespace ringdns::core::config

namespace ringdns::core::config {
namespace {

// Found by corefile_fuzz: an empty quoted key read past the last token.
TEST(Corefile, ABlockOfEmptyKeysOnlyIsAnError) {
  EXPECT_THAT(ErrorOf(".:53 {\n}\n\"\"\n"),
              ::testing::StartsWith("Corefile:3:1: empty server block key"));
  EXPECT_THAT(
      ErrorOf("\"\" {$RINGDNS_TEST_UNSET} {\n}\n"),
      ::testing::StartsWith("Corefile:1:4: empty server block key (an environment variable"));
  // The keys end with their line: the next line is the block's first directive, not keys.
  EXPECT_THAT(ErrorOf("{$RINGDNS_TEST_UNSET}\nforward . 1.2.3.4\n"),
              ::testing::StartsWith("Corefile:1:1: empty server block key"));
  EXPECT_EQ(MustParse("a.example , b.example {\n}\n").blocks[0].keys.size(), 2u);
}

// CoreDNS skips an empty key ("", or a {$VAR} that expands to nothing) and serves the
// others of the block.
TEST(Corefile, EmptyKeysBesideOthersAreSkipped) {
  const Config c =
      MustParse("\"\" example.org:5300 {$RINGDNS_TEST_UNSET} {\n forward . 127.0.0.1\n}\n");
  ASSERT_EQ(c.blocks.size(), 1u);
  ASSERT_EQ(c.blocks[0].keys.size(), 1u);
  EXPECT_EQ(c.blocks[0].keys[0].zone, "example.org.");
  EXPECT_EQ(c.blocks[0].keys[0].port, 5300);
  EXPECT_EQ(MustParse("\"\" , example.org {\n}\n").blocks[0].keys.size(), 1u);
  // After a trailing comma the next key is still due, across an empty one and a line.
  EXPECT_EQ(MustParse("a.example,\n\"\"\nb.example {\n}\n").blocks[0].keys.size(), 2u);
  EXPECT_THAT(ErrorOf("a.example, {$RINGDNS_TEST_UNSET} {\n}\n"),
              ::testing::StartsWith("Corefile:1:12: expected another server block key after ','"));
}

// -validate's text of an IPv6 listen address reads back: "[::]:8181", not ":::8181".
TEST(Corefile, AnIpv6EndpointRoundTrips) {
  const Config c =
      MustParse(".:53 {\n ready [::]:8181\n health [::1]:8080\n prometheus [::]:9153\n}\n");
  const std::string text = FormatCorefile(c);
  EXPECT_THAT(text, HasSubstr("ready [::]:8181"));
  EXPECT_THAT(text, HasSubstr("health [::1]:8080"));
  EXPECT_THAT(text, HasSubstr("prometheus [::]:9153"));
  EXPECT_EQ(FormatCorefile(MustParse(text)), text);
}

// A leading integer of `cache` is its TTL, as in CoreDNS: zero or negative is refused,
// never taken for a zone.
TEST(Corefile, CacheRefusesAZeroOrNegativeTtl) {
  EXPECT_THAT(
      ErrorOf(".:53 {\n cache -5\n}\n"),
      ::testing::StartsWith("Corefile:2:8: invalid cache TTL '-5', expected an integer from 1"));
  EXPECT_THAT(
      ErrorOf(".:53 {\n cache 0 example.org\n}\n"),
      ::testing::StartsWith("Corefile:2:8: invalid cache TTL '0', expected an integer from 1"));
  EXPECT_EQ(MustParse(".:53 {\n cache 30 example.org\n}\n").blocks[0].cache->zones,
            std::vector<std::string>{"example.org."});
}

}  // namespace
}  // namespace ringdns::core::config

namespace ringdns::core::config {
namespace {

std::vector<std::string> Texts(absl::string_view corefile) {
  absl::StatusOr<std::vector<Token>> tokens =
      Lex(corefile, std::make_shared<const std::string>("L"), 0);
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  std::vector<std::string> out;
  if (tokens.ok()) {
    for (const Token& t : *tokens) out.push_back(t.text);
  }
  return out;
}

// The cases of CoreDNS's Caddyfile lexer, each as its lexer reads it.
TEST(Lexer, ReadsTokensAsCoreDnsLexerDoes) {
  using V = std::vector<std::string>;
  // Unicode white space (unicode.IsSpace): a non-breaking space pasted from a web page,
  // an ideographic space, NEL, \v and \f all separate tokens.
  EXPECT_EQ(Texts("\xc2\xa0\xc2\xa0 forward\xc2\xa0. 1.1.1.1\xe3\x80\x80x\xc2\x85y\vz\fw"),
            (V{"forward", ".", "1.1.1.1", "x", "y", "z", "w"}));
  // '#' starts a comment anywhere outside quotes, in a token too.
  EXPECT_EQ(Texts("forward . 1.1.1.1#primary\nlog # all\n\"a#b\""),
            (V{"forward", ".", "1.1.1.1", "log", "a#b"}));
  // In quotes only \" is an escape; other backslashes stay, so "a\\" ends after a\\.
  EXPECT_EQ(Texts("\"a\\\\\" \"say \\\"hi\\\"\" \"C:\\dir\" \"x\\\ny\""),
            (V{"a\\\\", "say \"hi\"", "C:\\dir", "x\\\ny"}));
  // A quote opens a string only at a token's start; a closing quote ends the token.
  EXPECT_EQ(Texts("a\"b c\" \"d\"e"), (V{"a\"b", "c\"", "d", "e"}));
  EXPECT_EQ(Texts("\"\" \"{\" }"), (V{"", "{", "}"}));
}

TEST(Lexer, ReplacesBothFormsOfEnvironmentVariables) {
  ::setenv("RINGDNS_LEX_A", "10.0.0.1", 1);
  ::unsetenv("RINGDNS_LEX_UNSET");
  EXPECT_EQ(Texts("{$RINGDNS_LEX_A} {%RINGDNS_LEX_A%}:53 x{$RINGDNS_LEX_UNSET}y {$} {%%}"),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.1:53", "xy", "{$}", "{%%}"}));
}

TEST(Lexer, ColumnsCountCharactersAndPositionsSurviveUnicode) {
  absl::StatusOr<std::vector<Token>> tokens =
      Lex("\xc2\xa0\xc2\xa0x \xe2\x80\x83y", std::make_shared<const std::string>("L"), 0);
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].where.column, 3);
  EXPECT_EQ((*tokens)[1].where.column, 6);
}

TEST(Lexer, APastedNonBreakingSpaceNoLongerMakesAnUnknownDirective) {
  absl::StatusOr<Config> c = ParseCorefile(
      ".:53 {\n\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0"
      "forward . 127.0.0.1\n}\n",
      "Corefile");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->blocks.front().forwards.size(), 1u);
  // And a token holding such a space prints quoted, so -validate's form reads back.
  absl::StatusOr<Config> tpl = ParseCorefile(
      ".:53 {\n template IN A {\n  answer \"a.example. 60 IN TXT x\xc2\xa0y\"\n }\n}\n",
      "Corefile");
  ASSERT_TRUE(tpl.ok()) << tpl.status();
  const std::string once = FormatCorefile(*tpl);
  absl::StatusOr<Config> again = ParseCorefile(once, "normalised");
  ASSERT_TRUE(again.ok()) << once << again.status();
  EXPECT_EQ(again->blocks.front().templates.front().answer,
            tpl->blocks.front().templates.front().answer);
}

}  // namespace
}  // namespace ringdns::core::config
