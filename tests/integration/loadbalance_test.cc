// `loadbalance` seen from clients: the addresses of a name come in a different order
// from one answer to the next, the cached ones too (each is shuffled on its way out, the
// cache keeps the upstream's order), over UDP and TCP; nothing is lost or added.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
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

// Four A records for the question's name, 10.0.0.1 to 10.0.0.4, in that order.
Bytes FourAddresses(const Bytes& query) {
  Bytes out = EchoAnswer(query);
  const Bytes record(out.end() - 16, out.end());
  out.resize(out.size() - 16);
  for (std::uint8_t i = 1; i <= 4; ++i) {
    Bytes r = record;
    r[12] = 10, r[13] = 0, r[14] = 0, r[15] = i;
    out.insert(out.end(), r.begin(), r.end());
  }
  wire::StoreU16(out.data() + wire::header::kAnCount, 4);
  return out;
}

// The last octets of the answer's four addresses, in order.
std::vector<int> Order(const Bytes& answer) {
  std::vector<int> out;
  const auto keep = [](void* context, const wire::RecordView& r) {
    if (r.type == 1) static_cast<std::vector<wire::RecordView>*>(context)->push_back(r);
  };
  std::vector<wire::RecordView> records;
  EXPECT_TRUE(wire::WalkResponse(answer, keep, &records));
  for (const wire::RecordView& r : records) out.push_back(answer[r.rdata_offset + 3u]);
  return out;
}

TEST(Loadbalance, AddressesComeInChangingOrderFromTheCacheOverUdpAndTcp) {
  FakeUpstream up(Behaviour::kAnswer, FourAddresses);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n cache 30\n loadbalance\n forward . 127.0.0.1:" +
                std::to_string(up.port()) + "\n}\n");
  UdpClient udp;
  TcpClient tcp(fwd.port());
  std::set<int> firsts[2];  // by transport: UDP, TCP
  for (std::uint16_t i = 0; i < 200; ++i) {
    const Bytes query = MessageBuilder(i, 0x0100).Question("lb.example.", 1).bytes();
    std::optional<Bytes> answer;
    if (i % 2 == 0) {
      udp.SendTo(fwd.port(), query);
      answer = udp.Receive(10s);
    } else {
      ASSERT_TRUE(tcp.Send(query));
      answer = tcp.Receive(10s);
    }
    ASSERT_TRUE(answer.has_value()) << i;
    std::vector<int> order = Order(*answer);
    ASSERT_EQ(order.size(), 4u);
    firsts[i % 2].insert(order.front());
    std::sort(order.begin(), order.end());
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  }
  // Each address leads a quarter of the time; all four in 100 answers but for a chance
  // of 4 * (3/4)^100, about 1e-12.
  EXPECT_EQ(firsts[0].size(), 4u) << "over UDP";
  EXPECT_EQ(firsts[1].size(), 4u) << "over TCP";
  EXPECT_EQ(up.queries(), 1);  // the rest came from the cache, shuffled all the same
}

}  // namespace
}  // namespace ringdns::testing
