// A shard's TCP connection table without a socket: each connection gets its own read
// buffer and write queue, client slots are taken and given back, a recycled slot drops
// what was on its way to the old connection, and connections waiting for a query buffer
// get their turns in order, each once.
#include "core/shard/stream_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <span>
#include <vector>

namespace ringdns::core {
namespace {

constexpr StreamTable::Sizes kSizes{.clients = 3,
                                    .upstreams = 2,
                                    .client_writes = 4,
                                    .upstream_writes = 8,
                                    .client_buffer = 64,
                                    .upstream_buffer = 128};

TEST(StreamTable, ClientsComeFirstAndEveryConnectionHasItsOwnBufferAndQueue) {
  StreamTable streams;
  streams.Build(kSizes);
  ASSERT_EQ(streams.size(), 5u);
  EXPECT_EQ(streams.clients(), 3u);
  std::set<const std::uint8_t*> buffers;
  for (std::uint32_t conn = 0; conn < streams.size(); ++conn) {
    Stream& s = streams[conn];
    EXPECT_EQ(s.upstream, conn >= 3);
    EXPECT_FALSE(s.in_use());
    const std::span<std::uint8_t> tail = s.in.Tail();
    EXPECT_EQ(tail.size(), s.upstream ? 128u : 64u);
    tail[0] = tail[tail.size() - 1] = 0xab;  // writable, all of it
    buffers.insert(tail.data());
    while (!s.out.full()) s.out.Push(PendingWrite{});  // its own queue, of its own size
  }
  EXPECT_EQ(buffers.size(), 5u);
  for (std::uint32_t conn = 0; conn < streams.size(); ++conn) {
    EXPECT_EQ(streams[conn].out.size(), streams[conn].upstream ? 8u : 4u);
  }
}

TEST(StreamTable, ClientSlotsRunOutAndComeBackButUpstreamOnesNeverJoinThem) {
  StreamTable streams;
  streams.Build(kSizes);
  std::set<std::uint32_t> taken;
  for (int i = 0; i < 3; ++i) taken.insert(streams.TakeClient());
  EXPECT_EQ(taken, (std::set<std::uint32_t>{0, 1, 2}));
  EXPECT_FALSE(streams.client_available());
  EXPECT_EQ(streams.TakeClient(), kNoSlot);
  streams.Recycle(3);  // an upstream connection closed
  EXPECT_EQ(streams.TakeClient(), kNoSlot);
  streams.Recycle(1);
  EXPECT_TRUE(streams.client_available());
  EXPECT_EQ(streams.TakeClient(), 1u);
}

TEST(StreamTable, ARecycledSlotIsFreeWithAFreshGenerationAndAnEmptyReadBuffer) {
  StreamTable streams;
  streams.Build(kSizes);
  const std::uint32_t conn = streams.TakeClient();
  Stream& s = streams[conn];
  s.fd = 42;
  s.state = StreamState::kOpen;
  s.stalled = s.draining = s.handing_over = true;
  s.inflight = 3;
  s.quiet_since_ms = 7;
  s.in.Commit(10);
  const std::uint16_t generation = s.generation;
  streams.Recycle(conn);
  EXPECT_EQ(s.fd, -1);
  EXPECT_FALSE(s.in_use());
  EXPECT_FALSE(s.stalled || s.draining || s.handing_over);
  EXPECT_EQ(s.inflight, 0u);
  EXPECT_EQ(s.quiet_since_ms, 0);
  EXPECT_EQ(s.in.Tail().size(), 64u);
  EXPECT_NE(s.generation, generation);  // an answer for the old connection is dropped
}

TEST(StreamTable, WaitingConnectionsTakeTurnsInOrderEachListedOnce) {
  StreamTable streams;
  streams.Build(kSizes);
  EXPECT_FALSE(streams.anyone_waiting());
  streams.WaitForBuffer(2);
  streams.WaitForBuffer(0);
  streams.WaitForBuffer(2);  // already waiting: keeps its place
  streams.WaitForBuffer(1);
  std::vector<std::uint32_t> turns;
  while (streams.anyone_waiting()) {
    const std::uint32_t conn = streams.NextWaiting();
    turns.push_back(conn);
    if (turns.size() == 1) streams.WaitForBuffer(conn);  // more to read: to the back
  }
  EXPECT_EQ(turns, (std::vector<std::uint32_t>{2, 0, 1, 2}));
  for (std::uint32_t conn = 0; conn < 3; ++conn) EXPECT_FALSE(streams[conn].listed);
}

}  // namespace
}  // namespace ringdns::core
