// Operations endpoints over real HTTP: /metrics counts what clients sent, under
// CoreDNS's names and labels, in text promtool accepts; /health and /ready answer.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/http_endpoints.h"
#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/tcp.h"
#include "testing/udp.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The value of the sample whose line starts with `series` ("name{labels}"), or -1.
double Sample(const std::string& text, const std::string& series) {
  const std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(Metrics, ScrapeCountsWhatClientsSentInCoreDnsTermsAndPassesPromtool) {
  FakeUpstream up(Behaviour::kAnswer);
  const std::uint16_t metrics_port = FreeUdpPort();
  const std::uint16_t health_port = FreeUdpPort();
  const std::uint16_t ready_port = FreeUdpPort();
  std::string corefile =
      ".:{PORT} {\n bind 127.0.0.1\n prometheus 127.0.0.1:{M}\n health 127.0.0.1:{H}\n"
      " ready 127.0.0.1:{R}\n cache\n forward . 127.0.0.1:" +
      std::to_string(up.port()) + " {\n  prefer_udp\n }\n}\n";
  corefile = Replace(Replace(Replace(corefile, "{M}", std::to_string(metrics_port)), "{H}",
                             std::to_string(health_port)),
                     "{R}", std::to_string(ready_port));
  Forwarder fwd(corefile);
  absl::StatusOr<std::unique_ptr<core::HttpEndpoints>> endpoints = core::HttpEndpoints::Start(
      fwd.config(), {[&] { return fwd.daemon().Metrics(); }, [&] { return fwd.daemon().ready(); },
                     [] { return true; }});
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();

  const Bytes query = MessageBuilder(1, 0x0100).Question("www.example.", 1).bytes();
  UdpClient udp;
  for (int i = 0; i < 20; ++i) {
    udp.SendTo(fwd.port(), query);
    ASSERT_TRUE(udp.Receive(2s).has_value());
  }
  TcpClient tcp(fwd.port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(tcp.Send(query));
    ASSERT_TRUE(tcp.Receive(2s).has_value());
  }

  httplib::Client http("127.0.0.1", metrics_port);
  const httplib::Result res = http.Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const std::string& text = res->body;
  const std::string block =
      "server=\"dns://127.0.0.1:" + std::to_string(fwd.port()) + "\",zone=\".\",view=\"\"";
  EXPECT_EQ(Sample(text, "coredns_dns_requests_total{" + block +
                             ",proto=\"udp\",family=\"1\",type=\"A\"}"),
            20);
  EXPECT_EQ(Sample(text, "coredns_dns_requests_total{" + block +
                             ",proto=\"tcp\",family=\"1\",type=\"A\"}"),
            5);
  EXPECT_EQ(
      Sample(text, "coredns_dns_responses_total{" + block + ",rcode=\"NOERROR\",plugin=\"\"}"), 25);
  EXPECT_EQ(Sample(text, "coredns_dns_request_duration_seconds_count{" + block + ",type=\"A\"}"),
            25);
  const std::string cache =
      "server=\"dns://127.0.0.1:" + std::to_string(fwd.port()) + "\",zones=\".\",view=\"\"";
  EXPECT_EQ(Sample(text, "coredns_cache_hits_total{" + cache + ",type=\"success\"}"), 24);
  EXPECT_EQ(Sample(text, "coredns_cache_misses_total{" + cache + "}"), 1);
  EXPECT_EQ(
      Sample(text, "coredns_cache_entries{server=\"\",type=\"success\",zones=\"\",view=\"\"}"), 1);
  // One answer made one entry and one 4 KiB segment of the answer log; the denial pool nothing.
  EXPECT_GE(Sample(text, "ringdns_cache_bytes{type=\"success\"}"), 4096);
  EXPECT_LT(Sample(text, "ringdns_cache_bytes{type=\"success\"}"), 4096 + 256);
  EXPECT_EQ(Sample(text, "ringdns_cache_bytes{type=\"denial\"}"), 0);
  EXPECT_EQ(
      Sample(text,
             "coredns_proxy_request_duration_seconds_count{proxy_name=\"forward\",to=\"127.0.0.1:" +
                 std::to_string(up.port()) + "\"}"),
      1);
  EXPECT_EQ(Sample(text, "ringdns_tcp_queries_total{shard=\"0\"}"), 5);
  EXPECT_NE(text.find("coredns_build_info{version=\""), std::string::npos);

  // promtool (Debian's prometheus package) is the strict parser.
  if (FILE* promtool = ::popen("promtool check metrics > /dev/null 2>&1", "w")) {
    std::fwrite(text.data(), 1, text.size(), promtool);
    const int status = ::pclose(promtool);
    if (status != -1 && WEXITSTATUS(status) != 127) {  // 127: no promtool here
      EXPECT_EQ(WEXITSTATUS(status), 0) << text;
    }
  }

  httplib::Client health("127.0.0.1", health_port);
  const httplib::Result h = health.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  httplib::Client ready("127.0.0.1", ready_port);
  const httplib::Result r = ready.Get("/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(Metrics, AnEndpointAddressInUseIsAnErrorWithItsPosition) {
  const std::uint16_t port = FreeUdpPort();
  const int holder = ListenOnLoopbackAt(port);
  ASSERT_GE(holder, 0);
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n prometheus 127.0.0.1:" + std::to_string(port) +
                "\n forward . 127.0.0.1:" + std::to_string(up.port()) + "\n}\n");
  absl::StatusOr<std::unique_ptr<core::HttpEndpoints>> endpoints = core::HttpEndpoints::Start(
      fwd.config(), {[] { return std::string(); }, [] { return true; }, [] { return true; }});
  ASSERT_FALSE(endpoints.ok());
  EXPECT_NE(std::string(endpoints.status().message()).find("test/Corefile:1:1"), std::string::npos)
      << endpoints.status();
  ::close(holder);
}

}  // namespace
}  // namespace ringdns::testing
