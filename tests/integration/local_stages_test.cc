// bufsize and whoami seen from clients over UDP and TCP, with a real upstream socket:
// bufsize lowers what the upstream is asked for and cuts the client's answer to fit;
// whoami answers what no forward takes with the client's own address and port.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <string>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kRecords = 40;  // 40 A records: about 700 octets, past 512

TEST(Bufsize, TheUpstreamIsAskedWithTheLoweredSizeAndAUdpAnswerIsCutToIt) {
  std::atomic<int> asked_size{-1};
  const Bytes name = WireName("big.example.");
  FakeUpstream up(
      Behaviour::kAnswer,
      [&asked_size, &name](const Bytes& query) {
        const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
        Bytes asked(query.begin() + 12, query.begin() + 12 + static_cast<std::ptrdiff_t>(std::min(query.size() - 12, name.size())));
        for (std::uint8_t& c : asked) c = static_cast<std::uint8_t>(std::tolower(c));  // DNS 0x20
        if (q && asked == name) asked_size.store(q->opt.present() ? q->opt.udp_size : 0);  // not a health probe
        MessageBuilder b(0, 0x8180);
        b.Question("big.example.", 1);
        for (int i = 0; i < kRecords; ++i) b.AnswerAt(12, 1, 300, ARdata(192, 0, 2, static_cast<std::uint8_t>(i)));
        b.Opt(4096, 0);
        return b.bytes();
      },
      0ms, FakeUpstream::Transports::kUdpAndTcp);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n bufsize 512\n forward . 127.0.0.1:" + std::to_string(up.port()) +
                "\n}\n");
  UdpClient udp;
  udp.SendTo(fwd.port(), MessageBuilder(1, 0x0100).Question("big.example.", 1).Opt(4096, 0).bytes());
  std::optional<Bytes> answer = udp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(asked_size.load(), 512);
  EXPECT_LE(answer->size(), 512u);
  EXPECT_NE(wire::LoadU16(answer->data() + wire::header::kFlags) & wire::flag::kTc, 0);
  // Over TCP the upstream is asked the same, and the whole answer comes back.
  asked_size.store(-1);
  TcpClient tcp(fwd.port());
  ASSERT_TRUE(tcp.Send(MessageBuilder(2, 0x0100).Question("big.example.", 1).Opt(4096, 0).bytes()));
  answer = tcp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(asked_size.load(), 512);
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(*answer);
  ASSERT_TRUE(info) << wire::ToString(info.error());
  EXPECT_EQ(info->counts[0], kRecords);
  // A client offering less than bufsize keeps its own size.
  asked_size.store(-1);
  udp.SendTo(fwd.port(), MessageBuilder(3, 0x0100).Question("big.example.", 1).Opt(600, 0).bytes());
  ASSERT_TRUE(udp.Receive(10s).has_value());
  EXPECT_EQ(asked_size.load(), 512);  // 512 < 600: lowered to bufsize
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.bufsize_lowered, 3u);
}

// The port in whoami's SRV record, and the address record's RDATA.
struct Seen {
  std::uint16_t address_type = 0;
  Bytes address;
  std::uint16_t port = 0;
  bool tcp = false;
};

Seen ReadWhoami(const Bytes& answer, std::uint16_t id) {
  Seen seen;
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  EXPECT_TRUE(info) << wire::ToString(info.error());
  if (!info) return seen;
  EXPECT_EQ(info->question.id, id);
  EXPECT_EQ(info->counts[0], 0);
  EXPECT_EQ(info->counts[2], 2);  // no OPT asked, none given
  std::size_t at = info->question.question_end;
  seen.address_type = wire::LoadU16(answer.data() + at + 2);
  const std::uint16_t rdlength = wire::LoadU16(answer.data() + at + 10);
  seen.address.assign(answer.begin() + static_cast<std::ptrdiff_t>(at + 12),
                      answer.begin() + static_cast<std::ptrdiff_t>(at + 12 + rdlength));
  at += 12u + rdlength;
  seen.tcp = answer[at + 2] == 't';  // "\4_tcp" or "\4_udp"
  at += 5 + 2;                        // the label, then the pointer to the question's name
  seen.port = wire::LoadU16(answer.data() + at + 10 + 4);
  return seen;
}

TEST(Whoami, AnswersWhatNoForwardTakesWithTheClientsAddressAndPort) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n whoami\n forward example.org 127.0.0.1:" + std::to_string(up.port()) +
                "\n}\n");
  UdpClient udp;
  udp.SendTo(fwd.port(), MessageBuilder(7, 0x0100).Question("who.test.", 1).bytes());
  std::optional<Bytes> answer = udp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  Seen seen = ReadWhoami(*answer, 7);
  EXPECT_EQ(seen.address_type, wire::rrtype::kA);
  EXPECT_EQ(seen.address, Bytes({127, 0, 0, 1}));
  EXPECT_FALSE(seen.tcp);
  EXPECT_EQ(seen.port, PortOf(udp.fd()));
  TcpClient tcp(fwd.port());
  ASSERT_TRUE(tcp.Send(MessageBuilder(8, 0x0100).Question("who.test.", 16).bytes()));
  answer = tcp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  seen = ReadWhoami(*answer, 8);
  EXPECT_TRUE(seen.tcp);
  EXPECT_EQ(seen.port, PortOf(tcp.fd()));
  // What the forward takes goes upstream, as before.
  udp.SendTo(fwd.port(), MessageBuilder(9, 0x0100).Question("www.example.org.", 1).bytes());
  answer = udp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kAnCount), 1);
  EXPECT_EQ(up.queries(), 1);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.whoami_answers, 2u);
  EXPECT_EQ(totals.servfail_no_forward, 0u);
}

}  // namespace
}  // namespace ringdns::testing
