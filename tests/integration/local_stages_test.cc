// bufsize, whoami and minimal seen from clients over UDP and TCP, with a real upstream
// socket: bufsize lowers what the upstream is asked for and cuts the client's answer to
// fit; whoami answers what no forward takes with the client's own address and port;
// minimal sends positive answers, fresh or cached, without authority and additional.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
        Bytes asked(query.begin() + 12,
                    query.begin() + 12 +
                        static_cast<std::ptrdiff_t>(std::min(query.size() - 12, name.size())));
        for (std::uint8_t& c : asked) c = static_cast<std::uint8_t>(std::tolower(c));  // DNS 0x20
        if (q && asked == name)
          asked_size.store(q->opt.present() ? q->opt.udp_size : 0);  // not a health probe
        MessageBuilder b(0, 0x8180);
        b.Question("big.example.", 1);
        for (int i = 0; i < kRecords; ++i)
          b.AnswerAt(12, 1, 300, ARdata(192, 0, 2, static_cast<std::uint8_t>(i)));
        b.Opt(4096, 0);
        return b.bytes();
      },
      0ms, FakeUpstream::Transports::kUdpAndTcp);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n bufsize 512\n forward . 127.0.0.1:" +
                std::to_string(up.port()) + "\n}\n");
  UdpClient udp;
  udp.SendTo(fwd.port(),
             MessageBuilder(1, 0x0100).Question("big.example.", 1).Opt(4096, 0).bytes());
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
  // Any size above bufsize's is lowered, not only large ones.
  asked_size.store(-1);
  udp.SendTo(fwd.port(), MessageBuilder(3, 0x0100).Question("big.example.", 1).Opt(600, 0).bytes());
  ASSERT_TRUE(udp.Receive(10s).has_value());
  EXPECT_EQ(asked_size.load(), 512);
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.bufsize_lowered, 3u);
}

TEST(Bufsize, ACacheRefreshAsksWithTheLoweredSizeToo) {
  std::mutex mu;
  std::vector<int> sizes;  // the EDNS payload size of each query for www.example.
  FakeUpstream up(Behaviour::kAnswer, [&](const Bytes& query) {
    const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
    Bytes out = EchoAnswer(query);
    wire::StoreU32(out.data() + out.size() - 10, 1);  // TTL 1: expired a second later
    if (q && q->qtype == 1) {
      const std::lock_guard<std::mutex> lock(mu);
      sizes.push_back(q->opt.present() ? q->opt.udp_size : 0);
    }
    return out;
  });
  auto seen = [&] {
    const std::lock_guard<std::mutex> lock(mu);
    return sizes;
  };
  Forwarder fwd(
      ".:{PORT} {\n bind 127.0.0.1\n bufsize 1100\n cache {\n  success 1000 3600 1\n  serve_stale "
      "1h\n }\n"
      " forward . 127.0.0.1:" +
      std::to_string(up.port()) + "\n}\n");
  UdpClient udp;
  udp.SendTo(fwd.port(),
             MessageBuilder(1, 0x0100).Question("www.example.", 1).Opt(4096, 0).bytes());
  ASSERT_TRUE(udp.Receive(10s).has_value());
  std::this_thread::sleep_for(1500ms);  // past the TTL of 1 s, well inside the stale window
  udp.SendTo(fwd.port(),
             MessageBuilder(2, 0x0100).Question("www.example.", 1).Opt(4096, 0).bytes());
  ASSERT_TRUE(udp.Receive(10s).has_value());  // the stale answer; a refresh goes out behind it
  for (int i = 0; i < 1000 && seen().size() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(seen(), (std::vector<int>{1100, 1100}));
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_EQ(totals.cache_stale_refreshes, 1u);
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
  at += 5 + 2;                       // the label, then the pointer to the question's name
  seen.port = wire::LoadU16(answer.data() + at + 10 + 4);
  return seen;
}

TEST(Whoami, AnswersWhatNoForwardTakesWithTheClientsAddressAndPort) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n whoami\n forward example.org 127.0.0.1:" +
                std::to_string(up.port()) + "\n}\n");
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

TEST(Minimal, PositiveAnswersFreshOrCachedComeWithoutAuthorityAndAdditionalRecords) {
  FakeUpstream up(
      Behaviour::kAnswer,
      [](const Bytes& query) {
        const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
        const bool gone = q && q->qtype == 28;  // AAAA: NXDOMAIN with the SOA
        MessageBuilder b(0, gone ? 0x8183 : 0x8180);
        b.Question("www.example.", q ? q->qtype : 1);
        if (!gone) b.AnswerAt(12, 1, 300, ARdata(192, 0, 2, 1));
        b.Authority("example.", gone ? 6 : 2, 300,
                    gone ? SoaRdata("ns1.example.", "admin.example.", 1, 7200, 900, 86400, 60)
                         : WireName("ns1.example."));
        if (!gone) b.Additional("ns1.example.", 1, 300, ARdata(192, 0, 2, 53));
        b.Opt(1232, 0);
        return b.bytes();
      },
      0ms, FakeUpstream::Transports::kUdpAndTcp);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache\n minimal\n forward . 127.0.0.1:" +
                std::to_string(up.port()) + "\n}\n");
  auto counts = [](const Bytes& m) {
    return std::array<std::uint16_t, 3>{wire::LoadU16(m.data() + wire::header::kAnCount),
                                        wire::LoadU16(m.data() + wire::header::kNsCount),
                                        wire::LoadU16(m.data() + wire::header::kArCount)};
  };
  using Counts = std::array<std::uint16_t, 3>;
  UdpClient udp;
  for (const std::uint16_t id :
       {std::uint16_t{1}, std::uint16_t{2}}) {  // the second from the cache
    udp.SendTo(fwd.port(),
               MessageBuilder(id, 0x0100).Question("www.example.", 1).Opt(1232, 0).bytes());
    const std::optional<Bytes> answer = udp.Receive(10s);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(counts(*answer), (Counts{1, 0, 1})) << id;  // the OPT stays
    EXPECT_TRUE(wire::WalkResponse(*answer)) << id;
  }
  TcpClient tcp(fwd.port());
  ASSERT_TRUE(tcp.Send(MessageBuilder(3, 0x0100).Question("www.example.", 1).Opt(1232, 0).bytes()));
  std::optional<Bytes> answer = tcp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(counts(*answer), (Counts{1, 0, 1}));
  // A negative answer keeps its SOA, which says how long to remember it.
  udp.SendTo(fwd.port(),
             MessageBuilder(4, 0x0100).Question("www.example.", 28).Opt(1232, 0).bytes());
  answer = udp.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(counts(*answer), (Counts{0, 1, 1}));
  const core::ShardCounters totals = fwd.Stop();
  EXPECT_GE(totals.cache_hits,
            1u);  // the second, at least, was served from the whole cached answer
}

// CoreDNS makes an answer minimal before it cuts it for UDP: the glue that made it too
// big for a client without EDNS goes, and the answer fits without TC.
TEST(Minimal, AnAnswerTooBigOnlyForItsAdditionalRecordsFitsWithoutTc) {
  FakeUpstream up(
      Behaviour::kAnswer,
      [](const Bytes& query) {
        const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
        MessageBuilder b(0, 0x8180);
        b.Question("www.example.", q ? q->qtype : 1).AnswerAt(12, 1, 300, ARdata(192, 0, 2, 1));
        for (int i = 0; i < 40; ++i) {  // 40 glue records: well past 512 octets
          b.Additional("ns" + std::to_string(i) + ".example.", 1, 300,
                       ARdata(192, 0, 2, static_cast<std::uint8_t>(i)));
        }
        return b.bytes();
      },
      0ms, FakeUpstream::Transports::kUdpAndTcp);
  for (const bool minimal : {true, false}) {
    Forwarder fwd(std::string(".:{PORT} {\n bind 127.0.0.1\n cache\n") +
                  (minimal ? " minimal\n" : "") +
                  " forward . 127.0.0.1:" + std::to_string(up.port()) + "\n}\n");
    UdpClient udp;
    for (const std::uint16_t id :
         {std::uint16_t{1}, std::uint16_t{2}}) {  // fresh, then from the cache
      udp.SendTo(fwd.port(),
                 MessageBuilder(id, 0x0100).Question("www.example.", 1).bytes());  // no EDNS: 512
      const std::optional<Bytes> answer = udp.Receive(10s);
      ASSERT_TRUE(answer.has_value());
      const bool tc = (wire::LoadU16(answer->data() + wire::header::kFlags) & wire::flag::kTc) != 0;
      EXPECT_LE(answer->size(), 512u);
      if (minimal) {
        EXPECT_FALSE(tc) << id;
        EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kAnCount), 1) << id;
        EXPECT_EQ(wire::LoadU16(answer->data() + wire::header::kArCount), 0) << id;
      } else {
        EXPECT_TRUE(tc) << id;  // without minimal: cut, and the client asks over TCP
      }
    }
    const core::ShardCounters totals = fwd.Stop();
    EXPECT_EQ(totals.truncated, minimal ? 0u : 1u);  // the fresh answer; cache hits are not counted
  }
}

}  // namespace
}  // namespace ringdns::testing
