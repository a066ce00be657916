// Hostile clients over a real UDP socket (SECURITY.md's list; TCP framing, slowloris and
// idle connections are in tcp_test.cc): each malformed query gets the RFC-mandated answer
// (FORMERR with the client's ID when the header is readable, RFC 1035 4.1.1; RFC 6891
// for OPT) or nothing, never reaches the upstream, and ringdns answers a good query
// right after it.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kNoAnswer = -1;

struct HostileQuery {
  const char* name;
  Bytes bytes;
  int rcode;  // what ringdns answers, or kNoAnswer
};

Bytes Header(std::uint16_t qdcount, std::uint16_t arcount = 0) {
  return {0x4b, 0x1d, 0x01, 0x00, 0, static_cast<std::uint8_t>(qdcount),
          0,    0,    0,    0,    0, static_cast<std::uint8_t>(arcount)};
}

Bytes Cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes Label(std::size_t length) {
  Bytes out{static_cast<std::uint8_t>(length)};
  out.insert(out.end(), length, 'a');
  return out;
}

const Bytes kTypeA = {0, 1, 0, 1};  // qtype A, qclass IN
const Bytes kGood = MessageBuilder(0x4b1d, wire::flag::kRd).Question("www.example.", 1).bytes();

std::vector<HostileQuery> Cases() {
  Bytes long_name;
  for (int i = 0; i < 5; ++i) long_name = Cat(long_name, Label(63));
  long_name.push_back(0);
  const Bytes opt_header = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0};  // root, OPT, 1232, TTL 0
  return {
      {"QDCOUNT 0", Header(0), wire::rcode::kFormErr},
      {"QDCOUNT 2", Cat(Cat(kGood, Bytes{3, 'w', 'w', 'w', 0}), kTypeA), wire::rcode::kFormErr},
      {"a 64-octet label", Cat(Cat(Cat(Header(1), Label(64)), Bytes{0}), kTypeA),
       wire::rcode::kFormErr},
      {"a 320-octet name", Cat(Cat(Header(1), long_name), kTypeA), wire::rcode::kFormErr},
      {"a compression loop", Cat(Cat(Header(1), Bytes{0xc0, 12}), kTypeA), wire::rcode::kFormErr},
      {"a pointer forward", Cat(Cat(Header(1), Bytes{0xc0, 20}), kTypeA), wire::rcode::kFormErr},
      {"a pointer into the header", Cat(Cat(Header(1), Bytes{0xc0, 2}), kTypeA),
       wire::rcode::kFormErr},
      {"an unterminated name", Cat(Header(1), Bytes{3, 'w', 'w', 'w'}), wire::rcode::kFormErr},
      {"a question without its class", Cat(Header(1), Bytes{3, 'w', 'w', 'w', 0, 0, 1}),
       wire::rcode::kFormErr},
      {"trailing bytes", Cat(kGood, Bytes{0xde, 0xad, 0xbe, 0xef}), wire::rcode::kFormErr},
      {"ARCOUNT 1 and no record",
       Cat(Cat(Cat(Header(1, 1), Bytes{3, 'w', 'w', 'w', 0}), kTypeA), Bytes{}),
       wire::rcode::kFormErr},
      {"an OPT longer than the message",
       Cat(Cat(Cat(Header(1, 1), Bytes{3, 'w', 'w', 'w', 0}), kTypeA),
           Cat(opt_header, Bytes{0, 40, 0, 10})),
       wire::rcode::kFormErr},
      {"two OPT records",
       Cat(Cat(Cat(Header(1, 2), Bytes{3, 'w', 'w', 'w', 0}), kTypeA),
           Cat(Cat(opt_header, Bytes{0, 0}), Cat(opt_header, Bytes{0, 0}))),
       wire::rcode::kFormErr},
      {"an OPT owned by a name other than the root",
       Cat(Cat(Cat(Header(1, 1), Bytes{3, 'w', 'w', 'w', 0}), kTypeA),
           Bytes{1, 'x', 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0}),
       wire::rcode::kFormErr},
      {"a datagram of 11 octets", Bytes(11, 0), kNoAnswer},
  };
}

int RcodeOf(const std::optional<Bytes>& answer) {
  if (!answer || answer->size() < wire::header::kSize) return kNoAnswer;
  return wire::LoadU16(answer->data() + wire::header::kFlags) & wire::flag::kRcodeMask;
}

TEST(HostileClients, EachGetsTheRfcAnswerAndRingdnsServesOn) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(up.port()) +
                "\n}\n");
  UdpClient client;
  int good = 0;
  for (const HostileQuery& c : Cases()) {
    SCOPED_TRACE(c.name);
    client.SendTo(fwd.port(), c.bytes);
    const std::optional<Bytes> answer = client.Receive(c.rcode == kNoAnswer ? 300ms : 2s);
    EXPECT_EQ(RcodeOf(answer), c.rcode);
    if (answer && answer->size() >= 2) {
      EXPECT_EQ(wire::LoadU16(answer->data()), 0x4b1d);
    }
    client.SendTo(fwd.port(), kGood);
    EXPECT_EQ(RcodeOf(client.Receive(2s)), wire::rcode::kNoError) << "served on";
    ++good;
  }
  EXPECT_EQ(up.queries(), good) << "no malformed query reached the upstream";
}

TEST(HostileClients, OtherClassesAreForwardedLikeCoreDns) {
  // CHAOS and HESIOD queries are not malformed: they are forwarded as CoreDNS does.
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(up.port()) +
                "\n}\n");
  UdpClient client;
  for (const std::uint16_t qclass : {std::uint16_t{3}, std::uint16_t{4}, std::uint16_t{255}}) {
    client.SendTo(fwd.port(),
                  MessageBuilder(7, wire::flag::kRd).Question("version.bind.", 16, qclass).bytes());
    EXPECT_EQ(RcodeOf(client.Receive(2s)), wire::rcode::kNoError) << "class " << qclass;
  }
  EXPECT_EQ(up.queries(), 3);
}

}  // namespace
}  // namespace ringdns::testing
