// DNS 0x20 towards upstreams (wire/name_case.h): the name of each UDP query goes out in a
// secret random case, the answer must echo it, the client still gets its own spelling,
// and an upstream that folds case is served plain names instead of being lost.
#include "core/upstream/case_randomization.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/name.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

Bytes QuestionName(const Bytes& msg) {
  const wire::Result<std::size_t> len = wire::ScanUncompressedName(msg, wire::header::kSize);
  const std::uint8_t* name = msg.data() + wire::header::kSize;
  return len ? Bytes(name, name + *len) : Bytes();
}

// The question names an upstream received, as spelled on the wire.
class NameRecorder {
 public:
  FakeUpstream::AnswerFn Answering() {
    return [this](const Bytes& query) {
      std::lock_guard<std::mutex> lock(mu_);
      names_.push_back(QuestionName(query));
      return EchoAnswer(query);
    };
  }
  std::vector<Bytes> names() const {
    std::lock_guard<std::mutex> lock(mu_);
    return names_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Bytes> names_;
};

std::string Corefile(std::uint16_t upstream) {
  return ".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(upstream) + "\n}\n";
}

TEST(CaseRandomization, EachQueryGoesOutInItsOwnCaseAndTheClientGetsItsSpellingBack) {
  NameRecorder recorder;
  FakeUpstream up(Behaviour::kAnswer, recorder.Answering());
  Forwarder fwd(Corefile(up.port()));
  UdpClient client;
  const std::string asked = "Mixed.Case.Example.";
  for (std::uint16_t id = 1; id <= 20; ++id) {
    client.SendTo(fwd.port(), MessageBuilder(id, 0x0100).Question(asked, 1).bytes());
    const std::optional<Bytes> answer = client.Receive(2s);
    ASSERT_TRUE(answer.has_value()) << id;
    EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kFlags) & 0xf, 0) << id;
    EXPECT_EQ(QuestionName(*answer), WireName(asked)) << id;
  }
  const std::vector<Bytes> names = recorder.names();
  ASSERT_EQ(names.size(), 20u);
  const std::set<Bytes> spellings(names.begin(), names.end());
  // 15 letters: 20 queries in 20 spellings (a repeat is 1 in 2^15 per pair).
  EXPECT_GE(spellings.size(), 19u);
  for (const Bytes& name : names) EXPECT_TRUE(wire::NamesEqualIgnoreCase(name, WireName(asked)));
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.dropped_case_mismatch.get(), 0u);
}

TEST(CaseRandomization, AnUpstreamThatFoldsCaseGetsPlainNamesAndEveryQueryIsAnswered) {
  NameRecorder recorder;
  FakeUpstream up(Behaviour::kFoldsCase, recorder.Answering(), 0ms,
                  FakeUpstream::Transports::kUdpAndTcp);
  Forwarder fwd(Corefile(up.port()));
  UdpClient client;
  for (std::uint16_t id = 1; id <= 10; ++id) {
    client.SendTo(fwd.port(), MessageBuilder(id, 0x0100).Question("www.Example.", 1).bytes());
    const std::optional<Bytes> answer = client.Receive(2s);
    ASSERT_TRUE(answer.has_value()) << id;
    EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kFlags) & 0xf, 0) << id;
    EXPECT_EQ(QuestionName(*answer), WireName("www.Example.")) << id;
  }
  // The first query's folded answer was dropped and the query asked again at once with
  // a fresh spelling; the second fold sent it over TCP (as the client spelled it) and
  // made the upstream plain; every later query went plain over UDP (a retry on a loaded
  // machine may add a query, never a spelled one after the fall-back).
  const std::vector<Bytes> names = recorder.names();
  ASSERT_GE(names.size(), 10u + core::CaseRandomization::kFoldsToFallBack);
  for (std::size_t i = names.size() - 10; i < names.size(); ++i)
    EXPECT_EQ(names[i], WireName("www.Example.")) << i;
  EXPECT_EQ(up.tcp_queries(), 1);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_GE(totals.dropped_case_mismatch.get(), core::CaseRandomization::kFoldsToFallBack);
  EXPECT_EQ(totals.case_tcp_retries.get(), 1u);
  EXPECT_EQ(totals.case_fallback_refused.get(), 0u);
}

TEST(CaseRandomization, FindingAFoldingUpstreamIsNoTimeoutAndNoFailure) {
  // Each re-ask after a fold gets a fresh attempt timeout: with a 300 ms upstream and
  // 500 ms attempts, the round trips that find it out (two folds, then TCP) take more
  // than one attempt, and not one of them may count as a timeout or against its health.
  NameRecorder recorder;
  FakeUpstream up(Behaviour::kAnswer, recorder.Answering(), 300ms,
                  FakeUpstream::Transports::kUdpAndTcp);
  Forwarder fwd(Corefile(up.port()), 1,
                [](core::ShardOptions& o) { o.min_attempt_timeout_ms = 500; });
  UdpClient client;
  for (std::uint16_t id = 1; id <= 3; ++id) {  // the round trip learned: 300 ms
    client.SendTo(fwd.port(), MessageBuilder(id, 0x0100).Question("warm.example.", 1).bytes());
    ASSERT_TRUE(client.Receive(3s).has_value()) << id;
  }
  up.set_behaviour(Behaviour::kFoldsCase);
  client.SendTo(fwd.port(), MessageBuilder(4, 0x0100).Question("www.example.", 1).bytes());
  const std::optional<Bytes> answer = client.Receive(4s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kFlags) & 0xf, 0);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.retries.get(), 0u);
  EXPECT_EQ(totals.dropped_case_mismatch.get(), core::CaseRandomization::kFoldsToFallBack);
  EXPECT_EQ(totals.case_tcp_retries.get(), 1u);
  // It echoed the warm-up's spellings a moment ago (all three in one case: 2^-30):
  // the folds may be forged, so it keeps 0x20.
  EXPECT_EQ(totals.case_fallback_refused.get(), 1u);
}

TEST(CaseRandomization, AFoldingUpstreamWithoutTcpIsAskedPlainOverUdpAndKeepsItsHealth) {
  // Its TCP port refuses: the TCP attempt that two folds lead to fails at once, and the
  // query goes to it plain over UDP instead of failing or counting against its health.
  // It echoed case just before, so it keeps 0x20 and each query is checked; with
  // max_fails 1 two failures would mark it down.
  NameRecorder recorder;
  FakeUpstream up(Behaviour::kAnswer, recorder.Answering());
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(up.port()) +
                " {\n  max_fails 1\n }\n}\n");
  UdpClient client;
  client.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("warm.Example.", 1).bytes());
  ASSERT_TRUE(client.Receive(3s).has_value());
  up.set_behaviour(Behaviour::kFoldsCase);
  for (std::uint16_t id = 2; id <= 3; ++id) {
    client.SendTo(fwd.port(), MessageBuilder(id, 0x0100).Question("www.Example.", 1).bytes());
    const std::optional<Bytes> answer = client.Receive(3s);
    ASSERT_TRUE(answer.has_value()) << id;
    EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kFlags) & 0xf, 0) << id;
  }
  const std::vector<Bytes> names = recorder.names();
  ASSERT_EQ(names.size(), 7u);  // warm-up; then twice spelled, spelled, plain
  EXPECT_EQ(names[3], WireName("www.Example."));
  EXPECT_EQ(names[6], WireName("www.Example."));
  const std::string metrics = fwd.daemon().Metrics();
  EXPECT_NE(metrics.find("to=\"127.0.0.1:" + std::to_string(up.port()) + "\"} 1"),
            std::string::npos)
      << metrics.substr(metrics.find("ringdns_upstream_up{"), 120);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.case_tcp_retries.get(), 2u);
  EXPECT_EQ(totals.case_tcp_failures.get(), 2u);
  EXPECT_EQ(totals.case_fallback_refused.get(), 2u);
  EXPECT_EQ(totals.retries.get(), 0u);  // no attempt failed
  EXPECT_EQ(totals.servfail_timeout.get(), 0u);
}

TEST(CaseRandomization, AFoldedTruncatedAnswerGoesToTcpAtOnce) {
  // Genuine or forged, a truncated answer leads to TCP: no second UDP round trip first.
  FakeUpstream up(
      Behaviour::kFoldsCase,
      [](const Bytes& query) {
        Bytes answer = EchoAnswer(query);
        answer[2] |= 0x02;  // TC
        return answer;
      },
      0ms, FakeUpstream::Transports::kUdpAndTcp);
  Forwarder fwd(Corefile(up.port()));
  UdpClient client;
  client.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("www.Example.", 1).bytes());
  ASSERT_TRUE(client.Receive(3s).has_value());
  EXPECT_EQ(up.queries(), 1);
  EXPECT_EQ(up.tcp_queries(), 1);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.dropped_case_mismatch.get(), 1u);
  EXPECT_EQ(totals.tc_retries.get(), 1u);
  EXPECT_EQ(totals.case_tcp_retries.get(), 0u);
}

TEST(CaseRandomization, OffSendsTheClientsSpelling) {
  NameRecorder recorder;
  FakeUpstream up(Behaviour::kAnswer, recorder.Answering());
  Forwarder fwd(Corefile(up.port()), 1, [](core::ShardOptions& o) { o.randomize_case = false; });
  UdpClient client;
  client.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("www.Example.", 1).bytes());
  ASSERT_TRUE(client.Receive(2s).has_value());
  const std::vector<Bytes> names = recorder.names();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0], WireName("www.Example."));
}

TEST(ForgeryResistance, GuessesPerQueryForABlindForgerAreMeasured) {
  // What a blind forger must guess for one query to the tutorial's SRV name, measured
  // from the queries an upstream receives: the source ports in use (the shard's pool,
  // seen over enough queries to meet each), the 16-bit ID, and the letters whose case
  // varied from query to query (DNS 0x20). SECURITY.md quotes the figure.
  NameRecorder recorder;
  FakeUpstream up(Behaviour::kAnswer, recorder.Answering());
  const core::ShardOptions defaults;
  Forwarder fwd(Corefile(up.port()), 1, [&](core::ShardOptions& o) {
    o.upstream_sockets = defaults.upstream_sockets;
    o.upstream_socket_lifetime_ms = defaults.upstream_socket_lifetime_ms;
  });
  const std::string name = "_couchbase._tcp.cb-example-srv.remote.svc.cluster.local.";
  UdpClient client;
  constexpr int kQueries = 3000;  // 256 ports: each met with probability 1 - e^-11.7
  for (int i = 0; i < kQueries; ++i) {
    client.SendTo(fwd.port(),
                  MessageBuilder(static_cast<std::uint16_t>(i), 0x0100).Question(name, 33).bytes());
    ASSERT_TRUE(client.Receive(2s).has_value()) << i;
  }
  const std::vector<std::uint16_t> port_list = up.source_ports();
  const std::set<std::uint16_t> ports(port_list.begin(), port_list.end());
  const std::vector<Bytes> names = recorder.names();
  ASSERT_EQ(names.size(), static_cast<std::size_t>(kQueries));
  // A letter counts when both of its cases went out.
  int case_bits = 0;
  for (std::size_t i = 0; i < names[0].size(); ++i) {
    bool upper = false, lower = false;
    for (const Bytes& n : names) {
      upper = upper || (n[i] >= 'A' && n[i] <= 'Z');
      lower = lower || (n[i] >= 'a' && n[i] <= 'z');
    }
    case_bits += (upper && lower) ? 1 : 0;
  }
  const double bits = std::log2(static_cast<double>(ports.size())) + 16 + case_bits;
  std::printf("guesses per query: %zu ports x 2^16 IDs x 2^%d case bits = 2^%.1f\n", ports.size(),
              case_bits, bits);
  EXPECT_GE(ports.size(), 250u);
  EXPECT_EQ(case_bits, 45);
  EXPECT_GE(bits, 32.0);
}

}  // namespace
}  // namespace ringdns::testing
