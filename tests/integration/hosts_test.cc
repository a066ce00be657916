// hosts seen from clients over UDP and TCP, beside `cache` and a real upstream socket:
// its names are answered without asking the upstream, others fall through to it, and
// a reload with other entries is served at once (hosts answers are not cached).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

std::string Corefile(std::uint16_t upstream, const std::string& address) {
  return ".:{PORT} {\n bind 127.0.0.1\n cache\n hosts /nonexistent/ringdns-hosts-test example.org "
         "{\n  " +
         address +
         " www.example.org\n  fallthrough\n }\n forward . 127.0.0.1:" + std::to_string(upstream) +
         "\n}\n";
}

// The answer's first A record, as text, and whether it is authoritative.
struct Seen {
  std::string address;
  bool aa = false;
};

Seen Read(const std::optional<Bytes>& answer, std::uint16_t id) {
  Seen seen;
  EXPECT_TRUE(answer.has_value());
  if (!answer) return seen;
  EXPECT_EQ(wire::LoadU16(answer->data()), id);
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(*answer);
  EXPECT_TRUE(info) << wire::ToString(info.error());
  if (!info || info->counts[0] == 0) return seen;
  seen.aa = (info->question.flags & wire::flag::kAa) != 0;
  const std::size_t at = info->question.question_end;
  const std::uint8_t* a = answer->data() + at + 12;
  seen.address = std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) +
                 "." + std::to_string(a[3]);
  return seen;
}

TEST(Hosts, AnswersItsNamesItselfAndFallsThroughToTheForwardOverUdpAndTcp) {
  FakeUpstream up(Behaviour::kAnswer, nullptr, 0ms, FakeUpstream::Transports::kUdpAndTcp);
  Forwarder fwd(Corefile(up.port(), "10.0.0.1"));
  UdpClient udp;
  TcpClient tcp(fwd.port());
  const int asked_before = up.queries() + up.tcp_queries();
  udp.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("WWW.example.org.", 1).bytes());
  Seen seen = Read(udp.Receive(10s), 1);
  EXPECT_EQ(seen.address, "10.0.0.1");
  EXPECT_TRUE(seen.aa);
  ASSERT_TRUE(
      tcp.Send(MessageBuilder(2, 0x0100).Question("www.example.org.", 1).Opt(1232, 0).bytes()));
  seen = Read(tcp.Receive(10s), 2);
  EXPECT_EQ(seen.address, "10.0.0.1");
  EXPECT_EQ(up.queries() + up.tcp_queries(), asked_before);  // the upstream was not asked
  // A name hosts does not know, in its zone: fallthrough hands it to the forward.
  udp.SendTo(fwd.port(), MessageBuilder(3, 0x0100).Question("other.example.org.", 1).bytes());
  ASSERT_TRUE(udp.Receive(10s).has_value());
  ASSERT_TRUE(tcp.Send(MessageBuilder(4, 0x0100).Question("tcp.example.org.", 1).bytes()));
  ASSERT_TRUE(tcp.Receive(10s).has_value());
  EXPECT_EQ(up.queries() + up.tcp_queries(), asked_before + 2);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.hosts_answers, 2u);
}

TEST(Hosts, AReloadWithOtherEntriesIsServedAndTheOldAnswerIsNotKeptByTheCache) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(Corefile(up.port(), "10.0.0.1"));
  UdpClient udp;
  udp.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("www.example.org.", 1).bytes());
  EXPECT_EQ(Read(udp.Receive(10s), 1).address, "10.0.0.1");
  ASSERT_TRUE(fwd.Reload(Corefile(up.port(), "10.0.0.2")).ok());
  // The old shards hand over and stop: ask until the new table answers, within a bound.
  std::string address;
  for (int i = 0; i < 300 && address != "10.0.0.2"; ++i) {
    udp.SendTo(fwd.port(), MessageBuilder(static_cast<std::uint16_t>(10 + i), 0x0100)
                               .Question("www.example.org.", 1)
                               .bytes());
    address = Read(udp.Receive(10s), static_cast<std::uint16_t>(10 + i)).address;
    if (address != "10.0.0.2") std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(address, "10.0.0.2");
}

}  // namespace
}  // namespace ringdns::testing
