// The TCP and TLS upstream path under the faults production meets: clients holding every
// TCP query buffer while a slow upstream answers, freed buffers shared between waiting
// clients, cache refreshes on a TCP-only or TLS upstream, an upstream connection that
// goes silent without FIN or RST, and client TLS sessions holding every slot.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/pki.h"
#include "testing/tcp.h"
#include "testing/tcp_upstream.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

Bytes Query(std::uint16_t id, const std::string& name) {
  return MessageBuilder(id, 0x0100).Question(name, 1).bytes();
}
std::uint16_t RcodeOf(const Bytes& msg) { return wire::LoadU16(msg.data() + 2) & 0xf; }

std::string ForceTcpBlock(std::uint16_t upstream, const std::string& extra = "") {
  return ".:{PORT} {\n bind 127.0.0.1\n" + extra +
         " forward . 127.0.0.1:" + std::to_string(upstream) + " {\n  force_tcp\n }\n}\n";
}

// ringdns as a DNS-over-TLS server in front of `upstream` (over TCP): the far end of a
// DoT link.
std::string TlsServerBlock(const ServerCertificate& cert, std::uint16_t upstream) {
  return "tls://.:{PORT} {\n bind 127.0.0.1\n tls " + cert.cert + " " + cert.key +
         "\n forward . 127.0.0.1:" + std::to_string(upstream) + " {\n  force_tcp\n }\n}\n";
}

// A block forwarding to a DoT server at `port`, trusting `cert`.
std::string DotForwardBlock(const ServerCertificate& cert, std::uint16_t port,
                            const std::string& extra = "") {
  return ".:{PORT} {\n bind 127.0.0.1\n" + extra +
         " forward . tls://127.0.0.1:" + std::to_string(port) + " {\n  tls " + cert.cert +
         "\n  tls_servername dns.test\n }\n}\n";
}

// `connections` TCP clients each pipeline `per_connection` queries for distinct names at
// once; returns how many came back NOERROR (each waits as long as the 5 s query deadline
// allows, and more: a late answer is still counted, only its rcode decides).
int PipelineFromManyConnections(std::uint16_t port, int connections, int per_connection) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<TcpClient>> clients;
  for (int c = 0; c < connections; ++c) {
    clients.push_back(std::make_unique<TcpClient>(port));
    Bytes all;
    for (int q = 0; q < per_connection; ++q) {
      const Bytes framed =
          Framed(Query(static_cast<std::uint16_t>(q + 1),
                       "q" + std::to_string(c) + "-" + std::to_string(q) + ".example."));
      all.insert(all.end(), framed.begin(), framed.end());
    }
    EXPECT_TRUE(clients.back()->Write(all));
  }
  int noerror = 0;
  std::vector<std::chrono::steady_clock::duration> latencies;
  for (auto& client : clients) {
    for (int q = 0; q < per_connection; ++q) {
      const std::optional<Bytes> answer = client->Receive(15s);
      if (!answer) break;
      latencies.push_back(std::chrono::steady_clock::now() - start);
      if (RcodeOf(*answer) == wire::rcode::kNoError) ++noerror;
    }
  }
  // A figure for the notes, not a verdict: when the answers had arrived (read one
  // connection after another, so an upper bound on each answer's latency).
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    const auto ms = [](std::chrono::steady_clock::duration d) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    std::printf("%zu answers: p50 %lld ms, last %lld ms after the queries were sent\n",
                latencies.size(), static_cast<long long>(ms(latencies[latencies.size() / 2])),
                static_cast<long long>(ms(latencies.back())));
  }
  return noerror;
}

TEST(TcpUpstreamFaults, ClientsHoldingEveryTcpBufferStillGetTheirAnswers) {
  // 64 connections pipelining 64 queries each to an upstream that answers after 100 ms:
  // 4 096 queries against the shard's 1 024 TCP query buffers. Answers never wait for
  // those buffers, so the queries flow through in rounds; none reaches the deadline.
  TcpUpstream up({.delay = 100ms});
  Forwarder fwd(ForceTcpBlock(up.port()), 1, [](core::ShardOptions& o) { o.slots = 4096; });
  EXPECT_EQ(PipelineFromManyConnections(fwd.port(), 64, 64), 64 * 64);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.servfail_timeout, 0u);
  EXPECT_GT(totals.tcp_stalls, 0u) << "the clients were never held back: the test proves nothing";
}

TEST(TcpUpstreamFaults, ClientsHoldingEveryTcpBufferStillGetTheirAnswersOverTls) {
  const ServerCertificate cert = MakeServerCertificate();
  if (!cert.ok) GTEST_SKIP() << cert.error;
  TcpUpstream up({.delay = 100ms});
  Forwarder far(TlsServerBlock(cert, up.port()));
  Forwarder near(DotForwardBlock(cert, far.port()), 1,
                 [](core::ShardOptions& o) { o.tcp_query_buffers = 64; });
  EXPECT_EQ(PipelineFromManyConnections(near.port(), 16, 16), 16 * 16);
  const core::ShardCounters totals = near.Stop();
  EXPECT_EQ(totals.servfail_timeout, 0u);
  EXPECT_GT(totals.tcp_stalls, 0u);
  EXPECT_GE(totals.tls_handshakes, 1u);
}

TEST(TcpUpstreamFaults, FreedBuffersGoRoundTheWaitingConnections) {
  // One connection asks 64 queries at once and holds all 8 buffers; a second asks one
  // query just after. Freed buffers go round the waiting connections, so the second is
  // answered in the next round, not after all 64 of the first.
  TcpUpstream up({.delay = 100ms});
  Forwarder fwd(ForceTcpBlock(up.port()), 1,
                [](core::ShardOptions& o) { o.tcp_query_buffers = 8; });
  TcpClient busy(fwd.port());
  Bytes all;
  for (int q = 0; q < 64; ++q) {
    const Bytes framed =
        Framed(Query(static_cast<std::uint16_t>(q + 1), "busy" + std::to_string(q) + ".example."));
    all.insert(all.end(), framed.begin(), framed.end());
  }
  ASSERT_TRUE(busy.Write(all));
  // The bound only ends a broken run. On a loaded machine the first answers may already
  // be back (and more queries out) by the time this thread looks: the order below holds
  // all the same.
  for (int i = 0; i < 6000 && up.queries() < 8; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_GE(up.queries(), 8) << "the busy connection should hold every buffer now";
  // Busy queries already out (answered or not) when the polite one arrives: without
  // fair turns it would wait behind all 64; with them, a round or two after these.
  const int out_before = up.queries();
  TcpClient polite(fwd.port());
  ASSERT_TRUE(polite.Send(Query(7, "polite.example.")));
  int busy_answers_first = 0;
  std::optional<Bytes> polite_answer;
  for (int turns = 0; turns < 400 && !polite_answer; ++turns) {
    pollfd fds[2] = {{busy.fd(), POLLIN, 0}, {polite.fd(), POLLIN, 0}};
    ::poll(fds, 2, 50);
    if ((fds[1].revents & POLLIN) != 0) polite_answer = polite.Receive(5s);
    if (!polite_answer && (fds[0].revents & POLLIN) != 0 && busy.Receive(5s)) ++busy_answers_first;
  }
  ASSERT_TRUE(polite_answer.has_value());
  EXPECT_EQ(RcodeOf(*polite_answer), wire::rcode::kNoError);
  // Its turn came once the queries out before it were answered (and a round more); the
  // rest of the 64 came after it.
  EXPECT_LT(busy_answers_first, std::min(out_before + 16, 63))
      << out_before << " were out before it";
}

// Asks `name` over UDP, waits for the answer's one-second TTL to run out, and asks
// again: the stale answer comes at once and a refresh goes upstream. Returns once the
// upstream has seen the refresh (or 3 s have passed).
void AskExpireAndRefresh(std::uint16_t port, const std::string& name, const TcpUpstream& up) {
  UdpClient client;
  client.SendTo(port, Query(1, name));
  ASSERT_TRUE(client.Receive(5s).has_value());
  ASSERT_EQ(up.queries(), 1);
  std::this_thread::sleep_for(1500ms);
  client.SendTo(port, Query(2, name));
  const std::optional<Bytes> stale = client.Receive(5s);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(RcodeOf(*stale), wire::rcode::kNoError);
  for (int i = 0; i < 300 && up.queries() < 2; ++i) std::this_thread::sleep_for(10ms);
}

TEST(TcpUpstreamFaults, CacheRefreshesGoOverTcpToATcpOnlyUpstream) {
  TcpUpstream up({.ttl = 1});
  Forwarder fwd(ForceTcpBlock(up.port(), " cache {\n  success 1000 3600 1\n  serve_stale\n }\n"));
  AskExpireAndRefresh(fwd.port(), "refresh.example.", up);
  EXPECT_EQ(up.queries(), 2) << "the stale answer's refresh never reached the upstream over TCP";
  EXPECT_EQ(up.udp_datagrams(), 0) << "a refresh went over UDP to a force_tcp upstream";
  EXPECT_GE(fwd.Stop().cache_stale_refreshes, 1u);
}

TEST(TcpUpstreamFaults, CacheRefreshesGoOverTlsToATlsUpstream) {
  const ServerCertificate cert = MakeServerCertificate();
  if (!cert.ok) GTEST_SKIP() << cert.error;
  TcpUpstream up({.ttl = 1});
  Forwarder far(TlsServerBlock(cert, up.port()));
  // Anything sent in clear to the DoT server's port lands here.
  const int clear = BoundSocket(far.port());
  Forwarder near(
      DotForwardBlock(cert, far.port(), " cache {\n  success 1000 3600 1\n  serve_stale\n }\n"));
  AskExpireAndRefresh(near.port(), "refresh.example.", up);
  EXPECT_EQ(up.queries(), 2) << "the stale answer's refresh never went over the TLS link";
  std::uint8_t buf[512];
  EXPECT_LT(::recv(clear, buf, sizeof(buf), MSG_DONTWAIT), 0)
      << "a query went in clear text to port 853's peer";
  ::close(clear);
}

TEST(TcpUpstreamFaults, AConnectionThatGoesSilentIsGivenUpAfterReadTimeout) {
  // Each connection answers 5 queries and then goes silent, open, as a peer that
  // vanished without FIN or RST looks. Every query is still answered: once a query has
  // waited read_timeout with nothing back, the connection is given up and its queries
  // asked again on a fresh one, well inside the 5 s deadline.
  TcpUpstream up({.answers_per_connection = 5});
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(up.port()) +
                " {\n  force_tcp\n  read_timeout 1s\n }\n}\n");
  UdpClient client;
  int noerror = 0;
  for (std::uint16_t id = 1; id <= 20; ++id) {
    client.SendTo(fwd.port(), Query(id, "n" + std::to_string(id) + ".example."));
    const std::optional<Bytes> answer = client.Receive(10s);  // the deadline is 5 s
    if (answer && RcodeOf(*answer) == wire::rcode::kNoError) ++noerror;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(noerror, 20);
  EXPECT_GE(up.connections(), 4);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_GE(totals.upstream_tcp_silent, 3u);
  EXPECT_EQ(totals.servfail_timeout, 0u);
}

TEST(TcpUpstreamFaults, ClientsHoldingEveryTlsSessionDoNotStopTlsForwarding) {
  // The shard has 2 client TLS sessions, both held by connections that never finish
  // their handshake; its own DoT connection to the upstream has a session of its own.
  const ServerCertificate cert = MakeServerCertificate();
  if (!cert.ok) GTEST_SKIP() << cert.error;
  TcpUpstream up({});
  Forwarder far(TlsServerBlock(cert, up.port()));
  const std::uint16_t tls_port = FreeUdpPort();
  const std::string listener = "tls://.:" + std::to_string(tls_port) +
                               " {\n bind 127.0.0.1\n tls " + cert.cert + " " + cert.key +
                               "\n forward . 127.0.0.1:" + std::to_string(up.port()) + "\n}\n";
  Forwarder near(DotForwardBlock(cert, far.port()) + listener, 1,
                 [](core::ShardOptions& o) { o.tls_connections = 2; });
  TcpClient idle1(tls_port);
  TcpClient idle2(tls_port);
  ASSERT_TRUE(idle1.connected() && idle2.connected());
  std::this_thread::sleep_for(100ms);  // accepted: both sessions taken
  UdpClient client;
  client.SendTo(near.port(), Query(1, "through.example."));
  const std::optional<Bytes> answer = client.Receive(5s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kNoError);
  TcpClient third(tls_port);
  EXPECT_TRUE(third.WaitClosed(3s)) << "a third client session should have been refused";
  EXPECT_GE(near.Stop().tls_refused, 1u);
}

TEST(TcpUpstreamFaults, HandshakesUnderWayAreBoundedAndOneGivenUpFreesItsPlace) {
  // tls_handshakes 1: of two connections that begin and never finish a handshake, the one
  // accepted second is refused at once. When the other goes away, a DoT client's
  // handshake (another forwarder's, to this one) takes the place and is answered.
  const ServerCertificate cert = MakeServerCertificate();
  if (!cert.ok) GTEST_SKIP() << cert.error;
  TcpUpstream up({});
  // No handshake times out during the test: only giving up may free the place.
  Forwarder dut(TlsServerBlock(cert, up.port()), 1, [](core::ShardOptions& o) {
    o.tls_handshakes = 1;
    o.tls_handshake_timeout_ms = 600'000;
  });
  Forwarder front(DotForwardBlock(cert, dut.port()));
  std::unique_ptr<TcpClient> first = std::make_unique<TcpClient>(dut.port());
  std::unique_ptr<TcpClient> second = std::make_unique<TcpClient>(dut.port());
  ASSERT_TRUE(first->connected() && second->connected());
  bool first_closed = false;
  bool second_closed = false;
  for (int i = 0; i < 100 && !first_closed && !second_closed; ++i) {
    first_closed = first->WaitClosed(50ms);
    if (!first_closed) second_closed = second->WaitClosed(50ms);
  }
  ASSERT_TRUE(first_closed || second_closed) << "neither connection was refused";
  (first_closed ? second : first).reset();  // the handshake under way gives up

  UdpClient client;
  bool answered = false;
  for (std::uint16_t id = 1; id <= 20 && !answered; ++id) {
    client.SendTo(front.port(), Query(id, "through.example."));
    const std::optional<Bytes> answer = client.Receive(1s);
    answered = answer && RcodeOf(*answer) == wire::rcode::kNoError;
  }
  EXPECT_TRUE(answered) << "no DoT handshake was taken after the place was freed";
  const core::ShardCounters totals = dut.Stop();
  EXPECT_GE(totals.tls_refused, 1u);
  EXPECT_GE(totals.tls_handshakes, 1u);
}

TEST(TcpUpstreamFaults, AnUpstreamThatResetsConnectionsWithQueriesWaitingIsMarkedDown) {
  // Each connection is reset once a query has arrived on it: the upstream is failing
  // (max_fails 1), so the query's retry finds every upstream down and fails fast,
  // rather than redial it until the deadline.
  std::uint16_t port = 0;
  const int listener = ListenOnLoopback(port);
  std::atomic<bool> stop{false};
  std::thread server([&] {
    while (!stop) {
      pollfd p{listener, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int conn = ::accept(listener, nullptr, nullptr);
      if (conn < 0) continue;
      pollfd readable{conn, POLLIN, 0};
      std::uint8_t buf[512];
      if (::poll(&readable, 1, 2000) > 0) (void)::recv(conn, buf, sizeof(buf), 0);
      const linger reset{1, 0};
      ::setsockopt(conn, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
      ::close(conn);
    }
  });
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(port) +
          " {\n  force_tcp\n  max_fails 1\n  failfast_all_unhealthy_upstreams\n  health_check "
          "10s\n }\n}\n",
      1, AdaptiveAttemptTimeouts);  // the retry after the reset, paced by the product's floor
  UdpClient client;
  client.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("www.example.", 1).bytes());
  const std::optional<Bytes> answer = client.Receive(std::chrono::seconds(8));
  stop = true;
  server.join();
  ::close(listener);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ((*answer)[3] & 0x0f, wire::rcode::kServFail);
  EXPECT_EQ(fwd.Stop().servfail_all_down.get(), 1u);
}

}  // namespace
}  // namespace ringdns::testing
