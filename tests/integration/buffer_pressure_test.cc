// A shard whose buffers run out: it sheds work and waits for buffers to come back,
// without spinning.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/udp.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

TEST(BufferPressure, ExhaustedQueryBuffersDoNotSpinTheShard) {
  // 8 query buffers, all held by queries to an upstream that never answers, and 8
  // more queries waiting in the socket. A receive re-armed on the empty ring would fail
  // with ENOBUFS at once, every loop turn; the shard waits for a buffer instead.
  FakeUpstream silent(Behaviour::kDrop);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(silent.port()) + "\n}\n", 1,
                [](core::ShardOptions& o) { o.query_buffers = 8; });
  UdpClient client;
  for (std::uint16_t id = 1; id <= 16; ++id) {
    client.SendTo(fwd.port(), MessageBuilder(id, 0x0100).Question("n" + std::to_string(id) + ".example.", 1).bytes());
  }
  for (int i = 0; i < 200 && silent.queries() < 8; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_GE(silent.queries(), 8);
  std::this_thread::sleep_for(1s);  // the read timeout is 2 s: no buffer comes back yet
  // Spinning, this is one per loop turn: thousands a second.
  EXPECT_LE(fwd.daemon().totals().enobufs, 8u);
  // The waiting queries are served once buffers return: 16 SERVFAILs, 8 at each deadline.
  int answered = 0;
  for (int i = 0; i < 16; ++i) answered += client.Receive(20s).has_value() ? 1 : 0;
  EXPECT_EQ(answered, 16);
}

}  // namespace
}  // namespace ringdns::testing
