// DNS 0x20 towards upstreams (wire/name_case.h): the name of each UDP query goes out in a
// secret random case, the answer must echo it, the client still gets its own spelling,
// and an upstream that folds case is served plain names instead of being lost.
#include <gtest/gtest.h>

#include <chrono>
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
  FakeUpstream up(Behaviour::kFoldsCase, recorder.Answering());
  Forwarder fwd(Corefile(up.port()));
  UdpClient client;
  for (std::uint16_t id = 1; id <= 10; ++id) {
    client.SendTo(fwd.port(), MessageBuilder(id, 0x0100).Question("www.Example.", 1).bytes());
    const std::optional<Bytes> answer = client.Receive(2s);
    ASSERT_TRUE(answer.has_value()) << id;
    EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kFlags) & 0xf, 0) << id;
    EXPECT_EQ(QuestionName(*answer), WireName("www.Example.")) << id;
  }
  // The first query's folded answer was dropped and the query asked again plain, at
  // once; every later one went plain.
  const std::vector<Bytes> names = recorder.names();
  ASSERT_EQ(names.size(), 11u);
  for (std::size_t i = 1; i < names.size(); ++i) EXPECT_EQ(names[i], WireName("www.Example.")) << i;
  EXPECT_EQ(fwd.Stop().dropped_case_mismatch.get(), 1u);
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

}  // namespace
}  // namespace ringdns::testing
