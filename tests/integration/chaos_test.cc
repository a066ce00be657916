// `chaos` seen from clients over UDP and TCP: CH TXT version.bind (and the other four
// names) answered by ringdns itself, never reaching the upstream or the cache; a CH
// query for another name and every IN query are forwarded as before. A stage of the
// block's pipeline.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::uint16_t kChaos = 3;
constexpr std::uint16_t kTxt = 16;

Bytes Query(std::uint16_t id, const std::string& name, std::uint16_t type, std::uint16_t qclass) {
  return MessageBuilder(id, 0x0100).Question(name, type, qclass).Opt(1232, 0).bytes();
}

// NOERROR, the ID, one CH TXT record with TTL 0 holding `text`.
void ExpectTxt(const Bytes& answer, std::uint16_t id, const std::string& text) {
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  ASSERT_TRUE(info) << wire::ToString(info.error());
  EXPECT_EQ(info->question.id, id);
  EXPECT_EQ(info->rcode, wire::rcode::kNoError);
  ASSERT_EQ(info->counts[0], 1);
  const std::size_t record = info->question.question_end;
  EXPECT_EQ(wire::LoadU16(answer.data() + record + 2), kTxt);
  EXPECT_EQ(wire::LoadU16(answer.data() + record + 4), kChaos);
  EXPECT_EQ(wire::LoadU32(answer.data() + record + 6), 0u);
  EXPECT_EQ(
      std::string(answer.begin() + static_cast<std::ptrdiff_t>(record) + 13,
                  answer.begin() + static_cast<std::ptrdiff_t>(record) + 13 + answer[record + 12]),
      text);
}

class Chaos : public ::testing::Test {
 protected:
  Chaos()
      : fwd_(
            ".:{PORT} {\n bind 127.0.0.1\n cache 30\n chaos CoreDNS-001 info@coredns.io\n forward "
            ". 127.0.0.1:" +
            std::to_string(up_.port()) + "\n}\n") {}
  FakeUpstream up_{Behaviour::kAnswer};
  Forwarder fwd_;
};

TEST_F(Chaos, VersionBindIsAnsweredLocallyOverUdpAndTcp) {
  UdpClient udp;
  udp.SendTo(fwd_.port(), Query(21, "version.bind.", kTxt, kChaos));
  std::optional<Bytes> answer = udp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  ExpectTxt(*answer, 21, "CoreDNS-001");
  TcpClient tcp(fwd_.port());
  ASSERT_TRUE(tcp.Send(Query(22, "Authors.Bind.", kTxt, kChaos)));
  answer = tcp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  ExpectTxt(*answer, 22, "info@coredns.io");
  // Asked again: still ringdns's answer, not a cached or forwarded one.
  udp.SendTo(fwd_.port(), Query(23, "version.server.", kTxt, kChaos));
  answer = udp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  ExpectTxt(*answer, 23, "CoreDNS-001");
  EXPECT_EQ(up_.queries(), 0);
  // IN queries, and CH queries for other names, go upstream as before.
  udp.SendTo(fwd_.port(), Query(24, "version.bind.", kTxt, 1));
  ASSERT_TRUE(udp.Receive(10s).has_value());
  udp.SendTo(fwd_.port(), Query(25, "other.bind.", kTxt, kChaos));
  ASSERT_TRUE(udp.Receive(10s).has_value());
  EXPECT_EQ(up_.queries(), 2);
  const core::ShardCounters totals = fwd_.Stop();
  EXPECT_EQ(totals.chaos_answers, 3u);
}

}  // namespace
}  // namespace ringdns::testing
