// `any` (RFC 8482) seen from clients over UDP and TCP: an ANY query gets one HINFO
// record for its name from ringdns itself and never reaches the upstream (nor the
// cache); other types are forwarded as before. A stage of the block's pipeline.
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

Bytes Query(std::uint16_t id, const std::string& name, std::uint16_t type) {
  return MessageBuilder(id, 0x0100).Question(name, type).Opt(1232, 0).bytes();
}

// The answer is NOERROR with exactly one HINFO "ANY obsoleted" "See RFC 8482", TTL 8482.
void ExpectMinimalAnswer(const Bytes& answer, std::uint16_t id) {
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  ASSERT_TRUE(info) << wire::ToString(info.error());
  EXPECT_EQ(info->question.id, id);
  EXPECT_EQ(info->rcode, wire::rcode::kNoError);
  EXPECT_EQ(info->counts[0], 1);
  EXPECT_EQ(info->min_ttl, 8482u);
  const std::size_t record = info->question.question_end;
  EXPECT_EQ(wire::LoadU16(answer.data() + record + 2), 13);  // HINFO
  const std::string text(answer.begin(), answer.end());
  EXPECT_NE(text.find("\x0d"
                      "ANY obsoleted"
                      "\x0c"
                      "See RFC 8482"),
            std::string::npos);
}

class Any : public ::testing::Test {
 protected:
  Any()
      : fwd_(".:{PORT} {\n bind 127.0.0.1\n cache 30\n any\n forward . 127.0.0.1:" +
             std::to_string(up_.port()) + "\n}\n") {}
  FakeUpstream up_{Behaviour::kAnswer};
  Forwarder fwd_;
};

TEST_F(Any, AnAnyQueryIsAnsweredLocallyOverUdpAndTcp) {
  UdpClient udp;
  udp.SendTo(fwd_.port(), Query(11, "www.example.", 255));
  std::optional<Bytes> answer = udp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  ExpectMinimalAnswer(*answer, 11);
  TcpClient tcp(fwd_.port());
  ASSERT_TRUE(tcp.Send(Query(12, "Mixed.Case.Example.", 255)));
  answer = tcp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  ExpectMinimalAnswer(*answer, 12);
  // Other types go upstream as before.
  udp.SendTo(fwd_.port(), Query(13, "www.example.", 1));
  answer = udp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kAnCount), 1);
  EXPECT_EQ(up_.queries(), 1);
  const core::ShardCounters totals = fwd_.Stop();
  EXPECT_EQ(totals.any_minimal, 2u);
  EXPECT_EQ(totals.cache_inserts, 1u);  // the A answer only
}

}  // namespace
}  // namespace ringdns::testing
