// DNS over TCP seen from clients (RFC 7766): pipelined queries answered out of order
// with their own IDs, split and merged length prefixes, broken framing, slow and silent
// clients cut off by the read, write and idle timeouts, many idle connections while UDP
// keeps being served, TCP to upstreams (pooled and pipelined), and truncated UDP answers
// fetched again over TCP by ringdns itself.
#include "testing/tcp.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/nsd.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

std::string Upstream(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

Bytes Query(std::uint16_t id, const std::string& name, std::uint16_t type = 1) {
  return MessageBuilder(id, 0x0100).Question(name, type).bytes();
}

std::uint16_t IdOf(const Bytes& msg) { return wire::LoadU16(msg.data()); }
std::uint16_t RcodeOf(const Bytes& msg) { return wire::LoadU16(msg.data() + 2) & 0xf; }

// The tutorial's remote zone on a real nsd, which also serves TCP on its port.
class RemoteNsd {
 public:
  explicit RemoteNsd(const std::string& options = "")
      : nsd_({{"remote.svc.cluster.local.", ZonesDir() + "/remote.svc.cluster.local.zone"}},
             options) {}
  bool available() const { return nsd_.available(); }
  const std::string& error() const { return nsd_.error(); }
  std::uint16_t port() const { return nsd_.port(); }

 private:
  Nsd nsd_;
};

TEST(TcpClients, HundredPipelinedQueriesAreAllAnsweredWithTheirIds) {
  RemoteNsd nsd;
  if (!nsd.available()) GTEST_SKIP() << nsd.error();
  // A TCP client's queries go upstream over TCP (CoreDNS's default), pipelined on one
  // pooled connection.
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(nsd.port()) + "\n}\n");
  TcpClient client(fwd.port());
  ASSERT_TRUE(client.connected());
  Bytes all;
  for (std::uint16_t i = 0; i < 100; ++i) {
    const std::string name = i % 2 == 0
                                 ? "cb-example-srv.remote.svc.cluster.local."
                                 : "missing" + std::to_string(i) + ".remote.svc.cluster.local.";
    const Bytes framed = Framed(Query(static_cast<std::uint16_t>(1000 + i), name));
    all.insert(all.end(), framed.begin(), framed.end());
  }
  ASSERT_TRUE(client.Write(all));  // all 100 in one write
  std::set<std::uint16_t> ids;
  for (int i = 0; i < 100; ++i) {
    const std::optional<Bytes> answer = client.Receive(3s);
    ASSERT_TRUE(answer.has_value()) << "answer " << i;
    const std::uint16_t id = IdOf(*answer);
    EXPECT_EQ(RcodeOf(*answer),
              (id - 1000) % 2 == 0 ? wire::rcode::kNoError : wire::rcode::kNxDomain);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.tcp_queries, 100u);
  EXPECT_EQ(totals.upstream_tcp_connects, 1u);  // one pooled upstream connection
}

TEST(TcpClients, AnAnswerReadyFirstIsSentFirst) {
  // slow. waits 400 ms at its upstream; fast. is a cache hit: its answer overtakes.
  FakeUpstream slow(Behaviour::kAnswer, nullptr, 400ms);
  FakeUpstream fast(Behaviour::kAnswer);
  Forwarder fwd("slow:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(slow.port()) +
                " {\n  prefer_udp\n }\n}\n.:{PORT} {\n bind 127.0.0.1\n cache\n forward . " +
                Upstream(fast.port()) + " {\n  prefer_udp\n }\n}\n");
  TcpClient client(fwd.port());
  ASSERT_TRUE(client.Send(Query(1, "www.fast.")));
  ASSERT_TRUE(client.Receive(2s).has_value());  // now cached
  Bytes both = Framed(Query(2, "www.slow."));
  const Bytes second = Framed(Query(3, "www.fast."));
  both.insert(both.end(), second.begin(), second.end());
  ASSERT_TRUE(client.Write(both));
  const std::optional<Bytes> first_answer = client.Receive(2s);
  const std::optional<Bytes> second_answer = client.Receive(2s);
  ASSERT_TRUE(first_answer.has_value() && second_answer.has_value());
  EXPECT_EQ(IdOf(*first_answer), 3);  // out of order (RFC 7766 section 6.2.1.1)
  EXPECT_EQ(IdOf(*second_answer), 2);
}

TEST(TcpClients, SplitAndMergedLengthPrefixes) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up.port()) +
                " {\n  prefer_udp\n }\n}\n");
  TcpClient client(fwd.port());
  // One query a byte at a time.
  const Bytes one = Framed(Query(7, "www.example."));
  for (std::uint8_t b : one) {
    ASSERT_TRUE(client.Write({b}));
    std::this_thread::sleep_for(5ms);
  }
  std::optional<Bytes> answer = client.Receive(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(IdOf(*answer), 7);
  // Three queries in one write, the third's prefix split from its body.
  Bytes three;
  for (std::uint16_t id = 8; id <= 10; ++id) {
    const Bytes f = Framed(Query(id, "www.example."));
    three.insert(three.end(), f.begin(), f.end());
  }
  const Bytes tail(three.end() - 20, three.end());
  three.resize(three.size() - 20);
  ASSERT_TRUE(client.Write(three));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(client.Write(tail));
  std::set<std::uint16_t> ids;
  for (int i = 0; i < 3; ++i) {
    answer = client.Receive(2s);
    ASSERT_TRUE(answer.has_value());
    ids.insert(IdOf(*answer));
  }
  EXPECT_EQ(ids, (std::set<std::uint16_t>{8, 9, 10}));
}

TEST(TcpClients, BadFramingClosesTheConnectionCleanly) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up.port()) +
                " {\n  prefer_udp\n }\n}\n");
  {
    TcpClient zero(fwd.port());
    ASSERT_TRUE(zero.Write({0, 0}));  // a zero length
    EXPECT_TRUE(zero.WaitClosed(2s));
  }
  {
    TcpClient answer_sender(fwd.port());  // QR set: not a client
    Bytes answer = Query(1, "www.example.");
    answer[2] |= 0x80;
    ASSERT_TRUE(answer_sender.Send(answer));
    EXPECT_TRUE(answer_sender.WaitClosed(2s));
  }
  {
    TcpClient huge(fwd.port());  // more than any query
    ASSERT_TRUE(huge.Write({0xff, 0xff, 1, 2, 3}));
    EXPECT_TRUE(huge.WaitClosed(2s));
  }
  {
    // A well-formed 3 000-octet query (EDNS padding): larger than a query buffer.
    TcpClient padded(fwd.port());
    const Bytes padding(2990, 0);
    Bytes option = {0, 12, static_cast<std::uint8_t>(padding.size() >> 8),
                    static_cast<std::uint8_t>(padding.size())};
    option.insert(option.end(), padding.begin(), padding.end());
    ASSERT_TRUE(padded.Send(
        MessageBuilder(1, 0x0100).Question("www.example.", 1).Opt(1232, 0, option).bytes()));
    EXPECT_TRUE(padded.WaitClosed(2s));
  }
  // The listener still serves.
  TcpClient good(fwd.port());
  ASSERT_TRUE(good.Send(Query(5, "www.example.")));
  ASSERT_TRUE(good.Receive(2s).has_value());
  EXPECT_EQ(fwd.Stop().tcp_bad_frames, 4u);
}

TEST(TcpClients, SlowSenderIsCutOffByTheReadTimeout) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up.port()) + "\n}\n");
  TcpClient slow(fwd.port());
  // A prefix promising 40 octets, then one octet every 500 ms: the message is not
  // finished within 3 s, and the connection is closed.
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow.Write({0, 40}));
  bool closed = false;
  for (int i = 0; i < 12 && !closed; ++i) {
    if (!slow.Write({1})) break;
    closed = slow.WaitClosed(500ms);
  }
  EXPECT_TRUE(closed || slow.WaitClosed(1s));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 2900ms);
  // Before the 6 s the client keeps sending (a timer restarted by each octet never fires).
  EXPECT_LE(took, 5500ms);
  EXPECT_EQ(fwd.Stop().tcp_read_timeouts, 1u);
}

TEST(TcpClients, ReaderThatNeverReadsIsCutOffAndBuffersStayBounded) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache\n forward . " + Upstream(up.port()) +
                " {\n  prefer_udp\n }\n}\n");
  TcpClient reader(fwd.port(), 4096);  // a tiny window
  // Thousands of cache hits, never read: answers back up to the in-flight cap, reading
  // stops, and once a write has waited 5 s the connection is closed.
  // Queries until neither side's buffers take more (or 3 s pass).
  const Bytes framed = Framed(Query(1, "www.example."));
  Bytes burst;
  for (int i = 0; i < 200; ++i) burst.insert(burst.end(), framed.begin(), framed.end());
  std::size_t offset = 0;
  for (auto until = std::chrono::steady_clock::now() + 3s;
       std::chrono::steady_clock::now() < until;) {
    const std::size_t n =
        reader.WriteSome(Bytes(burst.begin() + static_cast<long>(offset), burst.end()));
    if (n == 0) break;
    offset = (offset + n) % burst.size();
  }
  // Meanwhile the shard keeps serving UDP.
  UdpClient udp;
  udp.SendTo(fwd.port(), Query(2, "www.example."));
  ASSERT_TRUE(udp.Receive(2s).has_value());
  std::this_thread::sleep_for(6500ms);
  udp.SendTo(fwd.port(), Query(3, "www.example."));
  ASSERT_TRUE(udp.Receive(2s).has_value());
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.tcp_write_timeouts, 1u);
  EXPECT_GT(totals.tcp_stalls, 0u);
}

TEST(TcpClients, ThousandIdleConnectionsDoNotStopUdpAndAreClosedWhenIdle) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(up.port()) + "\n}\n");
  std::vector<std::unique_ptr<TcpClient>> idle;
  for (int i = 0; i < 1000; ++i) {
    idle.push_back(std::make_unique<TcpClient>(fwd.port()));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  UdpClient udp;
  for (std::uint16_t id = 1; id <= 20; ++id) {
    udp.SendTo(fwd.port(), Query(id, "www.example."));
    const std::optional<Bytes> answer = udp.Receive(2s);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(IdOf(*answer), id);
  }
  // CoreDNS's idle timeout is 10 s.
  std::this_thread::sleep_for(9s);
  EXPECT_TRUE(idle.front()->WaitClosed(3s));
  EXPECT_TRUE(idle.back()->WaitClosed(1s));
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.tcp_accepted, 1000u);
  EXPECT_EQ(totals.tcp_idle_closed, 1000u);
}

// A zone with one name whose A RRset is far larger than 512 octets.
std::string BigZone() {
  const std::string path = ::testing::TempDir() + "/big.example.zone";
  std::ofstream zone(path);
  zone << "$ORIGIN big.example.\n$TTL 300\n@ IN SOA ns hostmaster 1 7200 1800 86400 60\n";
  for (int i = 1; i <= 120; ++i) zone << "many IN A 10.0." << i / 256 << "." << i % 256 << "\n";
  return path;
}

TEST(TcpUpstreams, TruncatedUdpAnswerIsFetchedOverTcpByRingdns) {
  // nsd answers UDP with at most 512 octets whatever the client asks: TC.
  Nsd nsd({{"big.example.", BigZone()}}, "  ipv4-edns-size: 512\n");
  if (!nsd.available()) GTEST_SKIP() << nsd.error();
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(nsd.port()) + "\n}\n");
  // A UDP client with room for it gets the whole answer over UDP.
  UdpClient udp;
  udp.SendTo(fwd.port(),
             MessageBuilder(1, 0x0100).Question("many.big.example.", 1).Opt(4096, 0).bytes());
  const std::optional<Bytes> full = udp.Receive(3s);
  ASSERT_TRUE(full.has_value());
  wire::Result<wire::ResponseInfo> info = wire::WalkResponse(*full);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->truncated());
  EXPECT_EQ(info->counts[0], 120);
  // A client without EDNS gets a correctly truncated answer: TC, question, no records.
  udp.SendTo(fwd.port(), Query(2, "many.big.example."));
  const std::optional<Bytes> cut = udp.Receive(3s);
  ASSERT_TRUE(cut.has_value());
  info = wire::WalkResponse(*cut);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->truncated());
  EXPECT_EQ(info->counts[0], 0);
  EXPECT_LE(cut->size(), 512u);
  // Over TCP: the whole answer.
  TcpClient tcp(fwd.port());
  ASSERT_TRUE(tcp.Send(Query(3, "many.big.example.")));
  const std::optional<Bytes> over_tcp = tcp.Receive(3s);
  ASSERT_TRUE(over_tcp.has_value());
  EXPECT_EQ(wire::WalkResponse(*over_tcp)->counts[0], 120);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.tc_retries, 2u);  // the two UDP queries; the TCP one went TCP at once
}

TEST(TcpUpstreams, ForceTcpAndPreferUdp) {
  RemoteNsd nsd;
  if (!nsd.available()) GTEST_SKIP() << nsd.error();
  {
    Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(nsd.port()) +
                  " {\n  force_tcp\n }\n}\n");
    UdpClient udp;
    udp.SendTo(fwd.port(), Query(1, "cb-example-srv.remote.svc.cluster.local."));
    const std::optional<Bytes> answer = udp.Receive(3s);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(wire::WalkResponse(*answer)->counts[0], 3);
    EXPECT_EQ(fwd.Stop().upstream_tcp_connects, 1u);
  }
  {
    Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(nsd.port()) +
                  " {\n  prefer_udp\n }\n}\n");
    TcpClient tcp(fwd.port());
    ASSERT_TRUE(tcp.Send(Query(1, "cb-example-srv.remote.svc.cluster.local.")));
    ASSERT_TRUE(tcp.Receive(3s).has_value());
    EXPECT_EQ(fwd.Stop().upstream_tcp_connects, 0u);
  }
}

// A TCP "upstream" that accepts, reads a little, and hangs up without answering.
class HangUpUpstream {
 public:
  HangUpUpstream() : listener_(ListenOnLoopback(port_)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        const int conn = ::accept(listener_, nullptr, nullptr);
        std::uint8_t buf[512];
        pollfd c{conn, POLLIN, 0};
        if (::poll(&c, 1, 1000) > 0) (void)::recv(conn, buf, sizeof(buf), 0);
        ::close(conn);
        ++hangups_;
      }
    });
  }
  ~HangUpUpstream() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }
  int hangups() const { return hangups_; }

 private:
  std::uint16_t port_ = 0;  // before listener_, whose initialiser sets it
  int listener_;
  std::atomic<bool> stop_{false};
  std::atomic<int> hangups_{0};
  std::thread thread_;
};

TEST(TcpUpstreams, ABrokenConnectionFailsItsQueriesOverAtOnce) {
  HangUpUpstream broken;
  RemoteNsd nsd;
  if (!nsd.available()) GTEST_SKIP() << nsd.error();
  // The product's attempt-timeout floor, which also paces a redial after a connection
  // that never answered (shard_tcp_upstream.cc).
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(broken.port()) + " " +
                    Upstream(nsd.port()) + " {\n  force_tcp\n  policy sequential\n }\n}\n",
                1, AdaptiveAttemptTimeouts);
  UdpClient udp;
  const auto start = std::chrono::steady_clock::now();
  udp.SendTo(fwd.port(), Query(1, "cb-example-srv.remote.svc.cluster.local."));
  const std::optional<Bytes> answer = udp.Receive(3s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::WalkResponse(*answer)->counts[0], 3);
  // Well before the 2 s read timeout: the hang-up itself moved the query on.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  EXPECT_EQ(broken.hangups(), 1);
  EXPECT_EQ(fwd.Stop().upstream_tcp_failures, 1u);
}

TEST(TcpUpstreams, AnUpstreamThatHangsUpBeforeAnyAnswerIsRedialledWithBackOff) {
  // Like a DoT server refusing our client certificate after TLS 1.3 finished our side:
  // each connection opens, takes the query and closes without an answer. Redialling at
  // once would make hundreds of connections a second for one query.
  HangUpUpstream broken;
  // The product's attempt-timeout floor: the redial back-off starts from it.
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(broken.port()) +
                    " {\n  force_tcp\n }\n}\n",
                1, AdaptiveAttemptTimeouts);
  UdpClient udp;
  udp.SendTo(fwd.port(), Query(1, "cb-example-srv.remote.svc.cluster.local."));
  EXPECT_FALSE(udp.Receive(2s).has_value());  // still trying: the deadline is 5 s
  // 50, 100, 200, 400 and 800 ms apart: 6 connections in 2 s, and once the upstream is
  // marked down a health probe every 0.5 s: 10 in all.
  EXPECT_GE(broken.hangups(), 4);
  EXPECT_LE(broken.hangups(), 13);
  const std::optional<Bytes> answer = udp.Receive(5s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kServFail);
}

}  // namespace
}  // namespace ringdns::testing
