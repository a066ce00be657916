// Reloading the configuration while queries flow: the new routes answer on the same
// sockets, listeners come and go, caches of unchanged forwards and upstream health
// survive, a bad configuration changes nothing, and no query is lost across reloads.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_replace.h"
#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

// A query counts as lost only when it is never answered, or its connection closes: its
// client waits for the answer as long as it takes, up to kNeverAnswered. Under a sanitizer
// a reload takes seconds and everything runs several times slower, so how long an answer
// took is reported (to see a stall), never judged: the verdict must not hang on a guess
// of the build's speed. A deliberately broken hand-off still fails: the connection closes.
constexpr auto kNeverAnswered = 60s;

std::string Upstream(const FakeUpstream& u) { return "127.0.0.1:" + std::to_string(u.port()); }

// The echo answer with its A record's address ending in `last_octet` (which upstream
// answered), TTL 300 so a cached copy lives through the test.
FakeUpstream::AnswerFn AnswerFrom(std::uint8_t last_octet) {
  return [last_octet](const Bytes& query) {
    Bytes out = EchoAnswer(query);
    wire::StoreU32(out.data() + out.size() - 10, 300);
    out.back() = last_octet;
    return out;
  };
}

// The last octet of the A record in the answer to `name`; -1 when there is no answer.
int Ask(std::uint16_t port, const std::string& name, std::uint16_t id = 7) {
  UdpClient client;
  client.SendTo(port, MessageBuilder(id, 0x0100).Question(name, 1).bytes());
  const std::optional<Bytes> answer = client.Receive(kNeverAnswered);
  if (!answer || answer->size() < 16 || wire::LoadU16(answer->data()) != id) return -1;
  return answer->back();
}

std::string Block(const std::string& zone, const std::string& port, const FakeUpstream& up,
                  const std::string& extra = "") {
  return zone + ":" + port + " {\n bind 127.0.0.1\n" + extra + " forward . " + Upstream(up) +
         "\n}\n";
}

// For TCP clients of a UDP-only fake upstream (prefer_udp).
std::string TcpBlock(const FakeUpstream& up, const std::string& extra = "") {
  return ".:{PORT} {\n bind 127.0.0.1\n" + extra + " forward . " + Upstream(up) +
         " {\n  prefer_udp\n }\n}\n";
}

TEST(Reload, NewUpstreamsAnswerOnTheSameListenerOverUdpAndTcp) {
  FakeUpstream one(Behaviour::kAnswer, AnswerFrom(1));
  FakeUpstream two(Behaviour::kAnswer, AnswerFrom(2));
  // prefer_udp: the fake upstreams serve UDP only.
  const std::string block = ".:{PORT} {\n bind 127.0.0.1\n forward . {UP} {\n  prefer_udp\n }\n}\n";
  Forwarder fwd(absl::StrReplaceAll(block, {{"{UP}", Upstream(one)}}), 2);
  EXPECT_EQ(Ask(fwd.port(), "www.example."), 1);
  TcpClient before(fwd.port());  // accepted by the old shards: kept across the reload
  ASSERT_TRUE(before.connected());

  ASSERT_TRUE(fwd.Reload(absl::StrReplaceAll(block, {{"{UP}", Upstream(two)}})).ok());
  EXPECT_EQ(Ask(fwd.port(), "www.example."), 2);
  EXPECT_EQ(Ask(fwd.port(), "other.example."), 2);
  EXPECT_EQ(one.queries(), 1);
  TcpClient after(fwd.port());
  ASSERT_TRUE(after.Send(MessageBuilder(9, 0x0100).Question("tcp.example.", 1).bytes()));
  const std::optional<Bytes> answer = after.Receive(kNeverAnswered);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->back(), 2);
  ASSERT_TRUE(before.Send(MessageBuilder(10, 0x0100).Question("kept.example.", 1).bytes()));
  const std::optional<Bytes> on_kept = before.Receive(kNeverAnswered);
  ASSERT_TRUE(on_kept.has_value()) << "the connection from before the reload still serves";
  EXPECT_EQ(wire::LoadU16(on_kept->data()), 10);
  EXPECT_EQ(on_kept->back(), 2);
  EXPECT_EQ(fwd.daemon().reloads(), 1u);
}

TEST(Reload, AQueryHalfSentBeforeAReloadIsAnsweredAfterIt) {
  // The old shard had read the first half: it goes to the successor with the socket.
  // The reload builds the successor's cache before the old shard stops: seconds under
  // ThreadSanitizer, past the 3 s a client may take to finish a message (and be closed).
  // That timeout is not what this test is about: a minute.
  FakeUpstream up(Behaviour::kAnswer, AnswerFrom(1));
  Forwarder fwd(TcpBlock(up), 1, [](core::ShardOptions& o) { o.tcp_read_timeout_ms = 60000; });
  TcpClient client(fwd.port());
  ASSERT_TRUE(client.Send(MessageBuilder(1, 0x0100).Question("first.example.", 1).bytes()));
  ASSERT_TRUE(client.Receive(kNeverAnswered).has_value());
  const Bytes framed = Framed(MessageBuilder(2, 0x0100).Question("second.example.", 1).bytes());
  const std::size_t half = framed.size() / 2;
  ASSERT_TRUE(
      client.Write(Bytes(framed.begin(), framed.begin() + static_cast<std::ptrdiff_t>(half))));
  std::this_thread::sleep_for(50ms);  // read by the old shard
  ASSERT_TRUE(fwd.Reload(TcpBlock(up, " cache 30\n")).ok());
  ASSERT_TRUE(
      client.Write(Bytes(framed.begin() + static_cast<std::ptrdiff_t>(half), framed.end())));
  const std::optional<Bytes> answer = client.Receive(kNeverAnswered);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data()), 2);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.tcp_handed_over, 1u);
  EXPECT_EQ(totals.tcp_adopted, 1u);
  EXPECT_EQ(totals.tcp_accepted, 1u) << "one connection throughout";
}

TEST(Reload, CacheOfUnchangedForwardsIsKeptAndOfChangedOnesIsNot) {
  FakeUpstream zone_up(Behaviour::kAnswer, AnswerFrom(1));
  FakeUpstream rest_up(Behaviour::kAnswer, AnswerFrom(2));
  FakeUpstream new_rest_up(Behaviour::kAnswer, AnswerFrom(3));
  const std::string zone = Block("a.test", "{PORT}", zone_up, " cache\n");
  Forwarder fwd(zone + Block(".", "{PORT}", rest_up, " cache\n"), 2);
  EXPECT_EQ(Ask(fwd.port(), "x.a.test."), 1);
  EXPECT_EQ(Ask(fwd.port(), "y.example."), 2);
  // Ask again from many source ports so every shard's cache has both (SO_REUSEPORT
  // spreads clients by their address).
  for (std::uint16_t i = 0; i < 16; ++i) {
    EXPECT_EQ(Ask(fwd.port(), "x.a.test.", i), 1);
    EXPECT_EQ(Ask(fwd.port(), "y.example.", i), 2);
  }
  const int zone_queries = zone_up.queries();
  ASSERT_LE(zone_queries, 2);  // one per shard at most

  ASSERT_TRUE(fwd.Reload(zone + Block(".", "{PORT}", new_rest_up, " cache\n")).ok());
  for (std::uint16_t i = 0; i < 16; ++i) {
    EXPECT_EQ(Ask(fwd.port(), "x.a.test.", i), 1);   // still cached
    EXPECT_EQ(Ask(fwd.port(), "y.example.", i), 3);  // its forward changed: asked anew
  }
  EXPECT_EQ(zone_up.queries(), zone_queries);
  EXPECT_GE(new_rest_up.queries(), 1);
  EXPECT_GE(fwd.Stop().cache_hits, 16u);
}

TEST(Reload, ListenersComeAndGo) {
  FakeUpstream up(Behaviour::kAnswer, AnswerFrom(1));
  const std::string second_port = std::to_string(FreeUdpPort());
  Forwarder fwd(Block(".", "{PORT}", up));
  ASSERT_TRUE(fwd.Reload(Block(".", "{PORT}", up) + Block("extra.test", second_port, up)).ok());
  EXPECT_EQ(Ask(static_cast<std::uint16_t>(std::stoi(second_port)), "x.extra.test."), 1);
  ASSERT_TRUE(fwd.Reload(Block(".", "{PORT}", up)).ok());
  fwd.daemon().ReapRetired();
  for (int i = 0; i < 100 && fwd.daemon().retiring() > 0; ++i) {
    std::this_thread::sleep_for(10ms);
    fwd.daemon().ReapRetired();
  }
  UdpClient client;
  client.SendTo(static_cast<std::uint16_t>(std::stoi(second_port)),
                MessageBuilder(3, 0x0100).Question("x.extra.test.", 1).bytes());
  EXPECT_FALSE(client.Receive(300ms).has_value()) << "the dropped listener still answers";
  EXPECT_EQ(Ask(fwd.port(), "www.example."), 1);
}

TEST(Reload, BadConfigurationKeepsTheRunningOne) {
  FakeUpstream up(Behaviour::kAnswer, AnswerFrom(1));
  FakeUpstream other(Behaviour::kAnswer, AnswerFrom(2));
  // A descriptor limit that lowers the upstream sockets, differently for each
  // configuration: a failed reload must leave the running one's sizes and warning.
  Forwarder fwd(Block(".", "{PORT}", up), 1, [](core::DaemonOptions& o) {
    o.shard.upstream_sockets = 256;
    o.descriptor_limit = 2700;
  });
  const std::string warning = fwd.daemon().descriptor_warning();
  ASSERT_FALSE(warning.empty());
  const absl::Status parse =
      fwd.Reload(".:{PORT} {\n bind 127.0.0.1\n forwrd . " + Upstream(other) + "\n}\n");
  ASSERT_FALSE(parse.ok());
  EXPECT_NE(parse.message().find("test/Corefile:3:2:"), std::string::npos) << parse.message();
  // A port another program holds (without SO_REUSEPORT) cannot be bound: the new
  // shards fail to start and the old ones never stopped.
  const int holder = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const absl::Status bind =
      fwd.Reload(Block(".", "{PORT}", other) +
                 Block("held.test", std::to_string(ntohs(addr.sin_port)), other));
  ::close(holder);
  EXPECT_FALSE(bind.ok());
  EXPECT_EQ(fwd.daemon().descriptor_warning(), warning);
  EXPECT_EQ(Ask(fwd.port(), "www.example."), 1);
  EXPECT_EQ(other.queries(), 0);
  EXPECT_NE(fwd.daemon().Metrics().find("coredns_reload_failed_total 2"), std::string::npos);
}

TEST(Reload, UpstreamHealthSurvives) {
  FakeUpstream dead(Behaviour::kDrop);
  FakeUpstream extra(Behaviour::kAnswer, AnswerFrom(2));
  const std::string block = ".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(dead) +
                            " {\n  max_fails 1\n  health_check 1h\n  read_timeout 100ms\n  "
                            "max_connect_attempts 1\n }\n}\n";
  Forwarder fwd(block);
  for (std::uint16_t id = 1; id <= 3 && !fwd.daemon().health().down(0); ++id)
    Ask(fwd.port(), "www.example.", id);
  ASSERT_TRUE(fwd.daemon().health().down(0));
  ASSERT_TRUE(fwd.Reload(block + Block("extra.test", "{PORT}", extra)).ok());
  EXPECT_TRUE(fwd.daemon().health().down(0)) << "a reload forgot that the upstream is down";
}

// What the clients of a reload-under-load test saw.
struct Tally {
  std::atomic<int> answered{0};
  std::atomic<int> lost{0};
  std::atomic<int> slow{0};  // answered, but after more than a second
  std::atomic<std::int64_t> slowest_ms{0};

  void Answered(std::chrono::steady_clock::time_point asked) {
    const std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - asked)
                                .count();
    answered.fetch_add(1);
    if (ms > 1000) slow.fetch_add(1);
    std::int64_t seen = slowest_ms.load();
    while (ms > seen && !slowest_ms.compare_exchange_weak(seen, ms)) {
    }
  }
  // For whoever looks into a run: how slow answers were across the reloads.
  void Print() const {
    std::printf("answered %d, %d after more than 1 s, the slowest after %lld ms; lost %d\n",
                answered.load(), slow.load(), static_cast<long long>(slowest_ms.load()),
                lost.load());
  }
};

// The time left until `deadline`, for a Receive.
std::chrono::milliseconds Left(std::chrono::steady_clock::time_point deadline) {
  return std::max(1ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                           deadline - std::chrono::steady_clock::now()));
}

// Four client threads run `client(c, done)` (c = 0..3) until `done`, while the
// configuration is reloaded 50 times, 20 ms apart, alternating between two Corefiles.
// True when every reload was taken.
template <typename Client>
bool ReloadFiftyTimesUnderLoad(Forwarder& fwd, const std::string& even, const std::string& odd,
                               Client&& client) {
  std::atomic<bool> done{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) clients.emplace_back([&, c] { client(c, done); });
  bool reloaded = true;
  for (int i = 0; i < 50 && reloaded; ++i) {
    reloaded = fwd.Reload(i % 2 == 0 ? even : odd).ok();
    fwd.daemon().ReapRetired();
    std::this_thread::sleep_for(20ms);
  }
  done.store(true);
  for (std::thread& t : clients) t.join();
  return reloaded;
}

TEST(Reload, NoQueryIsLostAcrossFiftyReloads) {
  FakeUpstream up(Behaviour::kAnswer, AnswerFrom(1));
  const std::string plain = Block(".", "{PORT}", up);
  Forwarder fwd(plain, 2);
  Tally tally;
  EXPECT_TRUE(ReloadFiftyTimesUnderLoad(
      fwd, Block(".", "{PORT}", up, " cache\n"), plain, [&](int c, const std::atomic<bool>& done) {
        UdpClient client;  // one source port each: spread over the shards
        for (std::uint16_t id = 1; !done.load(); ++id) {
          const auto asked = std::chrono::steady_clock::now();
          client.SendTo(fwd.port(), MessageBuilder(id, 0x0100)
                                        .Question("n" + std::to_string(c) + ".example.", 1)
                                        .bytes());
          // Skip stray late answers to earlier IDs (there should be none).
          std::optional<Bytes> answer;
          do answer = client.Receive(Left(asked + kNeverAnswered));
          while (answer && answer->size() >= 2 && wire::LoadU16(answer->data()) != id);
          if (answer) {
            tally.Answered(asked);
          } else {
            tally.lost.fetch_add(1);
          }
        }
      }));
  EXPECT_EQ(tally.lost.load(), 0);
  EXPECT_GT(tally.answered.load(), 100);
  EXPECT_EQ(fwd.daemon().reloads(), 50u);
  tally.Print();
}

TEST(Reload, TcpConnectionsLoseNoQueryAcrossFiftyReloads) {
  // Each client keeps one connection and pipelines two queries at a time on it while
  // the configuration is reloaded 50 times: every query answered, no connection closed.
  FakeUpstream up(Behaviour::kAnswer, AnswerFrom(1));
  Forwarder fwd(TcpBlock(up), 2);
  Tally tally;
  std::atomic<int> wrong_id{0};
  EXPECT_TRUE(ReloadFiftyTimesUnderLoad(
      fwd, TcpBlock(up, " cache\n"), TcpBlock(up), [&](int c, const std::atomic<bool>& done) {
        TcpClient client(fwd.port());
        const std::string name = "t" + std::to_string(c) + ".example.";
        for (std::uint16_t id = 1; !done.load(); id = static_cast<std::uint16_t>(id + 2)) {
          const auto asked = std::chrono::steady_clock::now();
          const auto second = static_cast<std::uint16_t>(id + 1);
          if (!client.Send(MessageBuilder(id, 0x0100).Question(name, 1).bytes()) ||
              !client.Send(MessageBuilder(second, 0x0100).Question(name, 1).bytes())) {
            tally.lost.fetch_add(2);
            return;
          }
          for (int k = 0; k < 2; ++k) {
            // Nothing before the deadline: the connection closed (at once), or the answer
            // never came. Either way the connection is done with.
            const std::optional<Bytes> answer = client.Receive(Left(asked + kNeverAnswered));
            if (!answer) {
              tally.lost.fetch_add(2 - k);
              return;
            }
            const std::uint16_t got = answer->size() >= 2 ? wire::LoadU16(answer->data()) : 0;
            if (got != id && got != second) wrong_id.fetch_add(1);
            tally.Answered(asked);
          }
        }
      }));
  EXPECT_EQ(tally.lost.load(), 0);
  EXPECT_EQ(wrong_id.load(), 0);
  EXPECT_GT(tally.answered.load(), 100);
  // A client never reconnects: a connection closed by a reload shows above as lost.
  // Each reload hands every connection over (four per reload).
  EXPECT_GE(fwd.Stop().tcp_handed_over, 50u);
  tally.Print();
}

}  // namespace
}  // namespace ringdns::testing
