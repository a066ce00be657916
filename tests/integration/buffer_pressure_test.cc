// A shard whose buffers run out: it sheds work and waits for buffers to come back,
// without spinning.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

TEST(BufferPressure, ExhaustedQueryBuffersDoNotSpinTheShard) {
  // 8 query buffers, all held by queries to an upstream that never answers, and 8
  // more queries waiting in the socket. A receive re-armed on the empty ring would fail
  // with ENOBUFS at once, every loop turn; the shard waits for a buffer instead.
  FakeUpstream silent(Behaviour::kDrop);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" +
                    std::to_string(silent.port()) + "\n}\n",
                1, [](core::ShardOptions& o) { o.query_buffers = 8; });
  UdpClient client;
  for (std::uint16_t id = 1; id <= 16; ++id) {
    client.SendTo(
        fwd.port(),
        MessageBuilder(id, 0x0100).Question("n" + std::to_string(id) + ".example.", 1).bytes());
  }
  for (int i = 0; i < 2000 && silent.queries() < 8; ++i)
    std::this_thread::sleep_for(5ms);  // 10 s at most
  ASSERT_GE(silent.queries(), 8);
  std::this_thread::sleep_for(1s);  // the read timeout is 2 s: no buffer comes back yet
  // Spinning, this is one per loop turn: thousands a second.
  EXPECT_LE(fwd.daemon().totals().enobufs, 8u);
  // The waiting queries are served once buffers return: 16 SERVFAILs, 8 at each deadline.
  int answered = 0;
  for (int i = 0; i < 16; ++i) answered += client.Receive(20s).has_value() ? 1 : 0;
  EXPECT_EQ(answered, 16);
}

// An answer of about 3.5 KiB: the echoed question and 220 A records.
Bytes LargeAnswer(const Bytes& query) {
  Bytes out = EchoAnswer(query);
  const Bytes record(out.end() - 16, out.end());
  for (int i = 1; i < 220; ++i) out.insert(out.end(), record.begin(), record.end());
  wire::StoreU16(out.data() + wire::header::kAnCount, 220);
  return out;
}

TEST(BufferPressure, TcpClientsThatDoNotReadCannotStopUdpForwarding) {
  // prefer_udp: TCP clients' queries go upstream over UDP and their answers arrive in
  // the shard's answer ring. Four clients that never read ask for large answers; they
  // must not keep those buffers while they do not read, or no UDP answer could be
  // received for anyone until the write timeout closes them.
  // Their write timeout is pushed past any test's life, so the UDP answer can only come
  // while they still hold whatever they hold: no verdict rests on a wall-clock race.
  FakeUpstream up(Behaviour::kAnswer, LargeAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(up.port()) +
                    " {\n  prefer_udp\n }\n}\n",
                1, [](core::ShardOptions& o) {
                  o.answer_buffers = 16;
                  o.tcp_write_timeout_ms = 3'600'000;
                });
  std::vector<std::unique_ptr<TcpClient>> sleepy;
  for (int c = 0; c < 4; ++c) {
    sleepy.push_back(std::make_unique<TcpClient>(fwd.port(), /*receive_buffer=*/1024));
    Bytes all;
    for (int q = 0; q < 64; ++q) {
      const Bytes framed =
          Framed(MessageBuilder(static_cast<std::uint16_t>(q + 1), 0x0100)
                     .Question("big" + std::to_string(c) + "-" + std::to_string(q) + ".example.", 1)
                     .bytes());
      all.insert(all.end(), framed.begin(), framed.end());
    }
    ASSERT_TRUE(sleepy.back()->Write(all));
  }
  // Generous bounds: they only cap how long a broken build takes to fail.
  for (int i = 0; i < 6000 && up.queries() < 4 * 64; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_GE(up.queries(), 4 * 64);     // more when an attempt timed out on a busy machine
  std::this_thread::sleep_for(200ms);  // their answers are in (or stuck in front of) the clients
  UdpClient client;
  client.SendTo(fwd.port(),
                MessageBuilder(1, 0x0100).Question("small.example.", 1).Opt(4096, 0).bytes());
  EXPECT_TRUE(client.Receive(60s).has_value()) << "UDP answers wait for clients that do not read";
}

}  // namespace
}  // namespace ringdns::testing
