// Upstream pools seen from clients: a dead upstream is routed around within tens of
// milliseconds and, once marked down, costs nothing; it is probed and used again when
// it returns; policies spread load as documented; max_concurrent refuses; failfast
// answers SERVFAIL with an Extended DNS Error at once; a late answer to an earlier
// attempt is still taken; `failover` and `next` act on RCODEs.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string Upstream(const FakeUpstream& u) { return "127.0.0.1:" + std::to_string(u.port()); }

Bytes Query(std::uint16_t id, const std::string& name = "www.example.") {
  return MessageBuilder(id, 0x0100).Question(name, 1).Opt(1232, 0).bytes();
}

std::uint16_t RcodeOf(const Bytes& msg) { return wire::LoadU16(msg.data() + 2) & 0xf; }

// The echo answer, or SERVFAIL while `servfail` is set, after `delay` while it is > 0.
FakeUpstream::AnswerFn Controlled(const std::atomic<bool>* servfail,
                                  const std::atomic<int>* delay_ms) {
  return [servfail, delay_ms](const Bytes& query) {
    if (delay_ms != nullptr && delay_ms->load() > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms->load()));
    Bytes out = EchoAnswer(query);
    if (servfail != nullptr && servfail->load()) {
      out.resize(out.size() - 16);
      wire::StoreU16(out.data() + wire::header::kAnCount, 0);
      wire::StoreU16(out.data() + 2, static_cast<std::uint16_t>(wire::LoadU16(out.data() + 2) |
                                                                wire::rcode::kServFail));
    }
    return out;
  };
}

struct Timing {
  int answered = 0;
  int failed = 0;
  std::vector<double> ms;
  double Percentile(double p) {
    std::sort(ms.begin(), ms.end());
    return ms.empty() ? 0
                      : ms[std::min(ms.size() - 1,
                                    static_cast<std::size_t>(p * static_cast<double>(ms.size())))];
  }
};

// Sends `n` queries one after another; records each answer's time and RCODE.
Timing AskSerially(std::uint16_t port, int n) {
  Timing t;
  UdpClient client;
  for (int i = 0; i < n; ++i) {
    const auto start = Clock::now();
    client.SendTo(port, Query(static_cast<std::uint16_t>(i)));
    const std::optional<Bytes> answer = client.Receive(6s);
    t.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (answer.has_value() && RcodeOf(*answer) == wire::rcode::kNoError) {
      ++t.answered;
    } else {
      ++t.failed;
    }
  }
  return t;
}

TEST(Upstreams, ADeadUpstreamIsRoutedAroundThenProbedAndUsedAgain) {
  FakeUpstream a(Behaviour::kAnswer);
  FakeUpstream b(Behaviour::kAnswer);
  // Adaptive timeouts: the few queries that meet the dead one wait tens of milliseconds.
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(a) + " " + Upstream(b) +
                    " {\n  policy round_robin\n }\n}\n",
                1, AdaptiveAttemptTimeouts);
  ASSERT_EQ(AskSerially(fwd.port(), 50).answered, 50);  // both measured: fast
  a.set_behaviour(Behaviour::kDrop);
  const int a_before = a.queries();
  const auto dead_start = Clock::now();
  Timing dead = AskSerially(fwd.port(), 1000);
  const double dead_seconds = std::chrono::duration<double>(Clock::now() - dead_start).count();
  // No client query failed: the first few waited one adaptive timeout, then a was
  // marked down (after max_fails 2) and skipped.
  EXPECT_EQ(dead.answered, 1000);
  EXPECT_EQ(dead.failed, 0);
  const double median = dead.Percentile(0.5);
  const double p99 = dead.Percentile(0.99);
  const double worst = dead.Percentile(1.0);
  std::printf("one of two upstreams dead: median %.3f ms, p99 %.3f ms, max %.1f ms\n", median, p99,
              worst);
  // Tens of milliseconds here; what must never happen is the 2 s read_timeout (the
  // bounds leave room for a sanitizer build on a loaded machine).
  EXPECT_LT(worst, 1500);
  EXPECT_LT(p99, 500);
  // The failures that marked it down, and the health probes: one a second at most while
  // it times out (every 0.5 s, each waiting its 1 s timeout), however long the 1 000
  // queries took on this machine.
  EXPECT_LE(a.queries() - a_before, 3 + 2 + static_cast<int>(dead_seconds));
  // a returns: a probe finds it and round_robin uses it again.
  a.set_behaviour(Behaviour::kAnswer);
  // Probed every 0.5 s; a probe sent while it was still silent waits out its 1 s timeout.
  std::this_thread::sleep_for(2000ms);
  const int a_back = a.queries();
  ASSERT_EQ(AskSerially(fwd.port(), 100).answered, 100);
  EXPECT_GE(a.queries() - a_back, 45);
}

TEST(Upstreams, RoundRobinSpreadsEvenlyAndSequentialPrefersTheFirst) {
  FakeUpstream u1(Behaviour::kAnswer), u2(Behaviour::kAnswer), u3(Behaviour::kAnswer);
  {
    Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(u1) + " " + Upstream(u2) +
                  " " + Upstream(u3) + " {\n  policy round_robin\n }\n}\n");
    ASSERT_EQ(AskSerially(fwd.port(), 10000).answered, 10000);
  }
  for (const FakeUpstream* u : {&u1, &u2, &u3}) {
    EXPECT_NEAR(u->queries(), 10000 / 3, 100) << "within 1 % of 10 000";
  }
  const int before = u1.queries();
  {
    Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(u1) + " " + Upstream(u2) +
                  " {\n  policy sequential\n }\n}\n");
    ASSERT_EQ(AskSerially(fwd.port(), 100).answered, 100);
  }
  EXPECT_EQ(u1.queries() - before, 100);
}

TEST(Upstreams, MaxConcurrentRefusesAboveTheLimitAtOnce) {
  const std::atomic<int> delay{300};
  FakeUpstream slow(Behaviour::kAnswer, Controlled(nullptr, &delay));
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(slow) +
                " {\n  max_concurrent 4\n }\n}\n");
  std::vector<std::unique_ptr<UdpClient>> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(std::make_unique<UdpClient>());
    clients.back()->SendTo(
        fwd.port(), Query(static_cast<std::uint16_t>(i), "n" + std::to_string(i) + ".example."));
  }
  int refused = 0;
  for (auto& c : clients) {
    const std::optional<Bytes> answer = c->Receive(6s);
    ASSERT_TRUE(answer.has_value());
    refused += RcodeOf(*answer) == wire::rcode::kRefused;
  }
  EXPECT_EQ(refused, 6);
  EXPECT_EQ(fwd.Stop().refused_max_concurrent, 6u);
}

// The INFO-CODE of the answer's Extended DNS Error, or -1.
int EdeOf(const Bytes& msg) {
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(msg);
  int code = -1;
  if (!info) return code;
  wire::ForEachOption(msg, info->opt(),
                      [&](std::uint16_t option, std::span<const std::uint8_t> data) {
                        if (option == wire::edns::kOptionExtendedError && data.size() >= 2)
                          code = wire::LoadU16(data.data());
                      });
  return code;
}

TEST(Upstreams, FailfastAnswersServfailWithNoReachableAuthorityOnceAllAreDown) {
  FakeUpstream dead(Behaviour::kDrop);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(dead) +
                " {\n  failfast_all_unhealthy_upstreams\n  max_connect_attempts 1\n  read_timeout "
                "100ms\n }\n}\n");
  UdpClient client;
  for (std::uint16_t id = 1; id <= 3; ++id) {  // max_fails 2: the third failure marks it down
    client.SendTo(fwd.port(), Query(id));
    const std::optional<Bytes> answer = client.Receive(2s);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(RcodeOf(*answer), wire::rcode::kServFail);
    EXPECT_EQ(EdeOf(*answer), 22);  // after the timeout: No Reachable Authority too
  }
  // At once: no attempt is made. servfail_all_down below says so (an attempt would have
  // timed out, a SERVFAIL not counted there), not a stopwatch on a loaded machine.
  client.SendTo(fwd.port(), Query(4));
  const std::optional<Bytes> answer = client.Receive(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kServFail);
  EXPECT_EQ(EdeOf(*answer), 22);
  // dig shows it as an operator would see it.
  const std::string command =
      "dig @127.0.0.1 -p " + std::to_string(fwd.port()) + " +tries=1 +timeout=2 www.example. 2>&1";
  if (FILE* dig = ::popen(command.c_str(), "r")) {
    std::string out;
    char line[512];
    while (std::fgets(line, sizeof(line), dig) != nullptr) out += line;
    if (::pclose(dig) == 0) {
      EXPECT_NE(out.find("EDE: 22 (No Reachable Authority)"), std::string::npos) << out;
    }
  }
  EXPECT_EQ(fwd.Stop().servfail_all_down, 2u);  // the query above and dig's
}

TEST(Upstreams, FailfastStopsRetryingOnceTheLastUpstreamGoesDown) {
  // Both upstreams die while a query is out: its attempts mark one, then the other,
  // down. From then on failfast_all_unhealthy_upstreams holds for its retries too: the
  // SERVFAIL comes after two attempt timeouts, not at the 5 s query deadline.
  FakeUpstream a(Behaviour::kDrop);
  FakeUpstream b(Behaviour::kDrop);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(a) + " " + Upstream(b) +
                " {\n  failfast_all_unhealthy_upstreams\n  max_fails 1\n  read_timeout 200ms\n" +
                "  health_check 10s\n }\n}\n");
  UdpClient client;
  const auto start = Clock::now();
  client.SendTo(fwd.port(), Query(1));
  const std::optional<Bytes> answer = client.Receive(6s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kServFail);
  EXPECT_EQ(EdeOf(*answer), 22);
  EXPECT_EQ(fwd.Stop().servfail_all_down, 1u);
}

TEST(Upstreams, ALateAnswerToTheEarlierAttemptIsStillTaken) {
  std::atomic<int> delay{0};
  FakeUpstream first(Behaviour::kAnswer, Controlled(nullptr, &delay));
  FakeUpstream dead(Behaviour::kDrop);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(first) + " " +
                    Upstream(dead) + " {\n  policy sequential\n  max_fails 0\n }\n}\n",
                1, AdaptiveAttemptTimeouts);
  ASSERT_EQ(AskSerially(fwd.port(), 20).answered, 20);  // first's RTT: well under a millisecond
  // Now first takes 200 ms: the 50 ms adaptive timeout fires, the retry goes to the
  // dead one, and first's answer is taken when it comes.
  delay.store(200);
  const Timing slow = AskSerially(fwd.port(), 1);
  EXPECT_EQ(slow.answered, 1);
  EXPECT_LT(slow.ms[0], 1000);
  EXPECT_GE(fwd.Stop().retries, 1u);
}

TEST(Upstreams, FailoverRcodeTriesTheNextUpstream) {
  const std::atomic<bool> servfail{true};
  FakeUpstream broken(Behaviour::kAnswer, Controlled(&servfail, nullptr));
  FakeUpstream good(Behaviour::kAnswer);
  {
    Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(broken) + " " +
                  Upstream(good) +
                  " {\n  policy sequential\n  failover SERVFAIL\n  max_fails 0\n }\n}\n");
    EXPECT_EQ(AskSerially(fwd.port(), 5).answered, 5);
  }
  EXPECT_EQ(good.queries(), 5);
  {
    // Without failover the SERVFAIL is the answer (CoreDNS's default).
    Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(broken) + " " +
                  Upstream(good) + " {\n  policy sequential\n  max_fails 0\n }\n}\n");
    EXPECT_EQ(AskSerially(fwd.port(), 5).failed, 5);
  }
}

TEST(Upstreams, NextRcodePassesTheQueryToTheBlocksNextForward) {
  FakeUpstream nx(Behaviour::kAnswer, [](const Bytes& query) {
    Bytes out = EchoAnswer(query);
    out.resize(out.size() - 16);
    wire::StoreU16(out.data() + wire::header::kAnCount, 0);
    wire::StoreU16(out.data() + 2, static_cast<std::uint16_t>(wire::LoadU16(out.data() + 2) |
                                                              wire::rcode::kNxDomain));
    return out;
  });
  FakeUpstream fallback(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . " + Upstream(nx) +
                " {\n  next NXDOMAIN\n }\n forward . " + Upstream(fallback) + "\n}\n");
  EXPECT_EQ(AskSerially(fwd.port(), 5).answered, 5);
  EXPECT_EQ(nx.queries(), 5);
  EXPECT_EQ(fallback.queries(), 5);
}

}  // namespace
}  // namespace ringdns::testing
