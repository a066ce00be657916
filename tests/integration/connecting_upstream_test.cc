// A TCP upstream whose connect is slow: the query waits in the new connection's queue,
// its attempt times out, and the client is answered (stale from the cache, or SERVFAIL)
// before the connection is up. The answer is written where the query was: the queued
// copy, now of no use, is dropped, and once connected the upstream gets neither it nor
// the client's answer in its place, and the connection keeps its framing for the next
// query.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/tcp.h"
#include "testing/tcp_upstream.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr char kName[] = "www.example.";       // answered while its query waits
constexpr char kNextName[] = "next.example.";  // asked after, on the same connection

Bytes Query(std::uint16_t id, const char* name = kName) {
  return MessageBuilder(id, 0x0100).Question(name, 1).bytes();
}

bool Readable(int fd, Clock::time_point until) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  if (left <= 0ms) return false;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) == 1;
}

bool ReadExactly(int fd, std::uint8_t* out, std::size_t len, Clock::time_point until) {
  while (len > 0) {
    if (!Readable(fd, until)) return false;
    const ssize_t n = ::read(fd, out, len);
    if (n <= 0) return false;
    out += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

// One framed message from `fd`; nullopt on timeout or close.
std::optional<Bytes> ReadFramed(int fd, Clock::time_point until) {
  std::uint8_t prefix[2];
  if (!ReadExactly(fd, prefix, 2, until)) return std::nullopt;
  Bytes msg(wire::LoadU16(prefix));
  if (!ReadExactly(fd, msg.data(), msg.size(), until)) return std::nullopt;
  return msg;
}

// A TCP socket on 127.0.0.1:`port` that its owner has not closed (established, or in
// CLOSE_WAIT: the peer closed, the owner not yet), from /proc/net/tcp.
bool OpenSocketOn(std::uint16_t port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    const std::size_t colon = local.find(':');
    if (colon == std::string::npos) continue;
    const bool open = state == "01" || state == "08";
    if (open && std::stoul(local.substr(colon + 1), nullptr, 16) == port) return true;
  }
  return false;
}

bool AsksFor(const Bytes& msg, const char* name) {
  const Bytes encoded = WireName(name);
  return msg.size() >= wire::header::kSize + encoded.size() &&
         std::equal(encoded.begin(), encoded.end(), msg.begin() + wire::header::kSize);
}

// The upstream, driven step by step from the test's thread.
class SlowConnectUpstream {
 public:
  SlowConnectUpstream() { listener_ = ListenOnLoopback(port_); }
  ~SlowConnectUpstream() {
    for (const int fd : accepted_) ::close(fd);
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }

  // Accepts one connection and answers its first query with TTL 1, then closes it and
  // waits until the forwarder has closed its end too (so the next query needs a new
  // connection).
  bool AnswerOnceWithTtl1() {
    const Clock::time_point until = Clock::now() + 10s;
    if (!Readable(listener_, until)) return false;
    const int conn = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return false;
    sockaddr_in forwarder{};
    socklen_t len = sizeof(forwarder);
    ::getpeername(conn, reinterpret_cast<sockaddr*>(&forwarder), &len);
    const std::optional<Bytes> query = ReadFramed(conn, until);
    bool answered = false;
    if (query) {
      const Bytes answer = Framed(AnswerWithTtl(*query, 1));
      answered = ::write(conn, answer.data(), answer.size()) == static_cast<ssize_t>(answer.size());
    }
    ::close(conn);
    for (int i = 0; i < 6000 && OpenSocketOn(ntohs(forwarder.sin_port)); ++i)
      std::this_thread::sleep_for(10ms);
    return answered && !OpenSocketOn(ntohs(forwarder.sin_port));
  }

  // From now on a new connection's SYN is dropped: the accept queue holds one
  // connection nobody accepts (with a backlog of 0, one is already full).
  void StopAccepting() {
    ::listen(listener_, 0);
    blocker_.emplace(port_);
  }

  // Accepts again: the blocker, then the forwarder's connection, whose dropped SYN is
  // sent again after about a second. False if it did not come within `timeout`.
  bool AcceptTheForwarder(std::chrono::milliseconds timeout) {
    ::listen(listener_, 64);
    const Clock::time_point until = Clock::now() + timeout;
    while (accepted_.size() < 2 && Readable(listener_, until)) {
      const int conn = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn >= 0) accepted_.push_back(conn);
    }
    return accepted_.size() >= 2;
  }

  // Reads every message from every connection (accepting more) until one asks for
  // `name`, or `timeout`.
  std::vector<Bytes> ReadUntil(const char* name, std::chrono::milliseconds timeout) {
    std::vector<Bytes> received;
    const Clock::time_point until = Clock::now() + timeout;
    while (Clock::now() < until) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (const int fd : accepted_) fds.push_back({fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) {
        const int conn = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn >= 0) accepted_.push_back(conn);
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if ((fds[i].revents & POLLIN) == 0) continue;
        // A length prefix that the bytes after it do not fill reads as a timeout.
        std::optional<Bytes> msg = ReadFramed(fds[i].fd, Clock::now() + 2s);
        if (!msg) {
          ::shutdown(fds[i].fd, SHUT_RDWR);  // closed, or out of step: read no more of it
          continue;
        }
        received.push_back(*msg);
        if (AsksFor(*msg, name)) return received;
      }
    }
    return received;
  }

 private:
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::optional<TcpClient> blocker_;
  std::vector<int> accepted_;
};

constexpr char kStaleCache[] = " cache {\n  success 1000 3600 1\n  serve_stale 1h verify\n }\n";

std::string Corefile(std::uint16_t upstream, const std::string& cache = kStaleCache) {
  // One attempt (so the first timeout ends it), and a connect that may take 30 s: the
  // dropped SYN is sent again 1, 3, 7 and 15 s after the first.
  return ".:{PORT} {\n bind 127.0.0.1\n" + cache +
         " forward . 127.0.0.1:" + std::to_string(upstream) +
         " {\n  force_tcp\n  max_connect_attempts 1\n  read_timeout 30s\n }\n}\n";
}

// What the upstream got once it accepted, up to the next query: only queries (QR clear),
// none for the answered name, and the next one whole (the framing held).
void ExpectNextQueryAlone(const std::vector<Bytes>& received) {
  ASSERT_FALSE(received.empty()) << "the next query never arrived";
  EXPECT_TRUE(AsksFor(received.back(), kNextName)) << "the next query never arrived whole";
  for (const Bytes& msg : received) {
    ASSERT_GE(msg.size(), wire::header::kSize);
    EXPECT_EQ(wire::LoadU16(msg.data() + wire::header::kFlags) & wire::flag::kQr, 0)
        << "the upstream was sent an answer";
    EXPECT_FALSE(AsksFor(msg, kName)) << "the answered query was sent anyway";
  }
}

// A client of either transport, behind one interface for the scenario below.
struct UdpAsker {
  explicit UdpAsker(std::uint16_t to) : port(to) {}
  bool Send(const Bytes& msg) {
    client.SendTo(port, msg);
    return true;
  }
  std::optional<Bytes> Receive(std::chrono::milliseconds timeout) {
    return client.Receive(timeout);
  }
  UdpClient client;
  std::uint16_t port;
};

// Caches the name with TTL 1, lets it expire, then asks again while the upstream's
// connect hangs: verify asks upstream first, the attempt times out, and the stale answer
// is served while the query still waits in the connection's queue.
template <typename Client>
void ServeStaleWhileTheUpstreamConnects() {
  SlowConnectUpstream up;
  Forwarder fwd(Corefile(up.port()));
  Client client(fwd.port());
  ASSERT_TRUE(client.Send(Query(1)));
  ASSERT_TRUE(up.AnswerOnceWithTtl1());
  ASSERT_TRUE(client.Receive(5s).has_value());
  std::this_thread::sleep_for(1100ms);  // the TTL runs out: a precondition, not a verdict

  up.StopAccepting();
  ASSERT_TRUE(client.Send(Query(2)));
  const std::optional<Bytes> stale = client.Receive(10s);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(wire::LoadU16(stale->data()), 2);
  EXPECT_EQ(wire::LoadU16(stale->data() + wire::header::kAnCount), 1);

  // Once connected, the connection carries the next query, and nothing before it.
  ASSERT_TRUE(up.AcceptTheForwarder(40s));
  ASSERT_TRUE(client.Send(Query(3, kNextName)));
  ExpectNextQueryAlone(up.ReadUntil(kNextName, 10s));
  EXPECT_EQ(fwd.Stop().cache_stale, 1u);
}

TEST(ConnectingUpstream, AStaleAnswerToAUdpClientIsNotSentUpstreamAfter) {
  ServeStaleWhileTheUpstreamConnects<UdpAsker>();
}

TEST(ConnectingUpstream, AStaleAnswerToATcpClientIsNotSentUpstreamAfter) {
  // A TCP client's answer also writes its own length prefix in front of the buffer: the
  // queued query's prefix, had they shared it.
  ServeStaleWhileTheUpstreamConnects<TcpClient>();
}

// The attempt times out while the query waits in the connecting connection's queue:
// SERVFAIL, with `tune` applied to the shard's pools.
template <typename Client>
void ServfailWhileTheUpstreamConnects(const std::function<void(core::ShardOptions&)>& tune) {
  SlowConnectUpstream up;
  Forwarder fwd(Corefile(up.port(), ""), 1, tune);
  Client client(fwd.port());
  ASSERT_TRUE(client.Send(Query(1)));
  ASSERT_TRUE(up.AnswerOnceWithTtl1());  // and a round trip to time the next attempt by
  ASSERT_TRUE(client.Receive(5s).has_value());

  up.StopAccepting();
  ASSERT_TRUE(client.Send(Query(2)));
  const std::optional<Bytes> servfail = client.Receive(10s);
  ASSERT_TRUE(servfail.has_value());
  EXPECT_EQ(wire::LoadU16(servfail->data()), 2);
  EXPECT_EQ(wire::LoadU16(servfail->data() + wire::header::kFlags) & 0xf, wire::rcode::kServFail);

  // Once connected, the connection carries the next query, and nothing before it.
  ASSERT_TRUE(up.AcceptTheForwarder(40s));
  ASSERT_TRUE(client.Send(Query(3, kNextName)));
  ExpectNextQueryAlone(up.ReadUntil(kNextName, 10s));
  const core::ShardCounters counters = fwd.Stop();
  EXPECT_EQ(counters.servfail_timeout, 2u);  // and the next query's, never answered
  EXPECT_EQ(counters.reply_failures, 0u);
}

TEST(ConnectingUpstream, AServfailToATcpClientIsNotSentUpstreamAfter) {
  ServfailWhileTheUpstreamConnects<TcpClient>([](core::ShardOptions&) {});
}

TEST(ConnectingUpstream, WithNoSpareBufferATcpClientIsStillAnswered) {
  // The only TCP query buffer holds the client's query.
  ServfailWhileTheUpstreamConnects<TcpClient>(
      [](core::ShardOptions& o) { o.tcp_query_buffers = 1; });
}

TEST(ConnectingUpstream, WithNoSpareBufferAUdpClientIsStillAnswered) {
  ServfailWhileTheUpstreamConnects<UdpAsker>(
      [](core::ShardOptions& o) { o.tcp_query_buffers = 0; });
}

}  // namespace
}  // namespace ringdns::testing
