// `acl` as CoreDNS defines it, seen from clients over UDP and TCP: the first matching rule
// decides (allow, block = REFUSED with EDE 18, filter = empty NOERROR with EDE 17, drop
// = silence), by query type and source prefix, within the set's zones.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

Bytes Query(std::uint16_t id, const std::string& name, std::uint16_t type) {
  return MessageBuilder(id, 0x0100).Question(name, type).Opt(1232, 0).bytes();
}

std::uint16_t RcodeOf(const Bytes& msg) { return wire::LoadU16(msg.data() + 2) & 0xf; }

int EdeOf(const Bytes& msg) {
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(msg);
  int code = -1;
  if (info) {
    wire::ForEachOption(msg, info->opt(),
                        [&](std::uint16_t option, std::span<const std::uint8_t> data) {
                          if (option == wire::edns::kOptionExtendedError && data.size() >= 2)
                            code = wire::LoadU16(data.data());
                        });
  }
  return code;
}

class Acl : public ::testing::Test {
 protected:
  Acl()
      : fwd_(
            ".:{PORT} {\n bind 127.0.0.1\n acl internal.example. {\n  block\n }\n acl {\n"
            "  drop type MX\n  block type TXT net 127.0.0.1\n  filter type AAAA net 127.0.0.0/8\n"
            "  allow net 127.0.0.1/32\n  block\n }\n forward . 127.0.0.1:" +
            std::to_string(up_.port()) + " {\n  prefer_udp\n }\n}\n") {}
  FakeUpstream up_{Behaviour::kAnswer};
  Forwarder fwd_;
};

TEST_F(Acl, EachActionOverUdp) {
  UdpClient client;
  client.SendTo(fwd_.port(), Query(1, "www.example.", 15));  // MX: dropped
  EXPECT_FALSE(client.Receive(300ms).has_value());
  client.SendTo(fwd_.port(), Query(2, "www.example.", 16));  // TXT from 127.0.0.1: blocked
  std::optional<Bytes> answer = client.Receive(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kRefused);
  EXPECT_EQ(EdeOf(*answer), 18);
  client.SendTo(fwd_.port(), Query(3, "www.example.", 28));  // AAAA: filtered
  answer = client.Receive(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kNoError);
  EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kAnCount), 0);
  EXPECT_EQ(EdeOf(*answer), 17);
  client.SendTo(fwd_.port(), Query(4, "www.example.", 1));  // A from 127.0.0.1: allowed
  answer = client.Receive(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kAnCount), 1);
  client.SendTo(fwd_.port(), Query(5, "db.internal.example.", 1));  // the first set's zone
  answer = client.Receive(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kRefused);
  EXPECT_EQ(up_.queries(), 1);  // only the allowed one went upstream
  const core::ShardCounters totals = fwd_.Stop();
  EXPECT_EQ(totals.acl_dropped, 1u);
  EXPECT_EQ(totals.acl_blocked, 2u);
  EXPECT_EQ(totals.acl_filtered, 1u);
}

TEST_F(Acl, TcpClientsAreJudgedByTheirAddressAndDropsDoNotClogTheConnection) {
  TcpClient client(fwd_.port());
  // More dropped queries than the connection may have in flight, then an allowed one.
  for (std::uint16_t id = 0; id < 100; ++id)
    ASSERT_TRUE(client.Send(Query(id, "www.example.", 15)));
  ASSERT_TRUE(client.Send(Query(500, "www.example.", 16)));
  ASSERT_TRUE(client.Send(Query(501, "www.example.", 1)));
  std::optional<Bytes> answer = client.Receive(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data()), 500);
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kRefused);
  answer = client.Receive(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data()), 501);
  EXPECT_EQ(RcodeOf(*answer), wire::rcode::kNoError);
}

TEST_F(Acl, DigShowsTheExtendedError) {
  const std::string command = "dig @127.0.0.1 -p " + std::to_string(fwd_.port()) +
                              " +tries=1 +timeout=2 www.example. TXT 2>&1";
  FILE* dig = ::popen(command.c_str(), "r");
  ASSERT_NE(dig, nullptr);
  std::string out;
  char line[512];
  while (std::fgets(line, sizeof(line), dig) != nullptr) out += line;
  if (::pclose(dig) != 0) GTEST_SKIP() << "dig is not installed";
  EXPECT_NE(out.find("status: REFUSED"), std::string::npos) << out;
  EXPECT_NE(out.find("EDE: 18 (Prohibited)"), std::string::npos) << out;
}

}  // namespace
}  // namespace ringdns::testing
