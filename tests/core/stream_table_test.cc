// A shard's TCP connection table without a socket: each connection gets its own read
// buffer and write queue, client slots are taken and given back, a recycled slot drops
// what was on its way to the old connection, and connections waiting for a query buffer
// get their turns in order, each once.
#include "core/shard/stream_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <span>
#include <vector>

namespace ringdns::core {
namespace {

class StreamTableTest : public ::testing::Test {
 protected:
  // A connection taken as an open client's, as the shard would.
  std::uint32_t Open() {
    const std::uint32_t conn = streams.TakeClient();
    if (conn != kNoSlot) streams[conn].state = StreamState::kOpen;
    return conn;
  }

  RelaxedCounter violations;
  StreamTable streams{violations};
};

constexpr StreamTable::Sizes kSizes{.clients = 3,
                                    .upstreams = 2,
                                    .client_writes = 4,
                                    .upstream_writes = 8,
                                    .client_buffer = 64,
                                    .upstream_buffer = 128};

TEST_F(StreamTableTest, ClientsComeFirstAndEveryConnectionHasItsOwnBufferAndQueue) {
  streams.Build(kSizes);
  ASSERT_EQ(streams.size(), 5u);
  EXPECT_EQ(streams.clients(), 3u);
  // Each connection fills its whole read buffer and write queue with its own number...
  for (std::uint32_t conn = 0; conn < streams.size(); ++conn) {
    Stream& s = streams[conn];
    EXPECT_EQ(s.upstream, conn >= 3);
    EXPECT_FALSE(s.in_use());
    const std::span<std::uint8_t> tail = s.in.Tail();
    EXPECT_EQ(tail.size(), s.upstream ? 128u : 64u);
    std::fill(tail.begin(), tail.end(), static_cast<std::uint8_t>(conn));
    std::uint32_t queued = 0;
    while (!s.out.full()) s.out.Push(PendingWrite{.len = conn}), ++queued;
    EXPECT_EQ(queued, s.upstream ? 8u : 4u);
  }
  // ...and finds only its own there afterwards: nothing overlaps.
  for (std::uint32_t conn = 0; conn < streams.size(); ++conn) {
    Stream& s = streams[conn];
    const std::span<std::uint8_t> tail = s.in.Tail();
    EXPECT_TRUE(std::all_of(tail.begin(), tail.end(), [conn](std::uint8_t b) { return b == conn; }))
        << "connection " << conn;
    while (!s.out.empty()) {
      EXPECT_EQ(s.out.Front().len, conn);
      s.out.Pop();
    }
  }
}

TEST_F(StreamTableTest, ClientSlotsRunOutAndComeBackButUpstreamOnesNeverJoinThem) {
  streams.Build(kSizes);
  std::set<std::uint32_t> taken;
  for (int i = 0; i < 3; ++i) taken.insert(Open());
  EXPECT_EQ(taken, (std::set<std::uint32_t>{0, 1, 2}));
  EXPECT_FALSE(streams.client_available());
  EXPECT_EQ(streams.TakeClient(), kNoSlot);
  streams[3].state = StreamState::kOpen;
  streams.Recycle(3);  // an upstream connection closed
  EXPECT_EQ(streams.TakeClient(), kNoSlot);
  streams.Recycle(1);
  EXPECT_TRUE(streams.client_available());
  EXPECT_EQ(streams.TakeClient(), 1u);
}

TEST_F(StreamTableTest, ARecycledSlotIsFreeWithAFreshGenerationAndAnEmptyReadBuffer) {
  streams.Build(kSizes);
  const std::uint32_t conn = Open();
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

TEST_F(StreamTableTest, WaitingConnectionsTakeTurnsInOrderEachListedOnce) {
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

TEST_F(StreamTableTest, ASlotReusedWhileStillQueuedIsQueuedOnceSoTheQueueNeverOverflows) {
  streams.Build(kSizes);
  for (int i = 0; i < 3; ++i) streams.WaitForBuffer(Open());  // every client waits
  streams.Recycle(0);                                         // one goes away...
  ASSERT_EQ(Open(), 0u);                                      // ...its slot serves another
  streams.WaitForBuffer(0);  // still in the queue from before: not again
  std::vector<std::uint32_t> turns;
  while (streams.anyone_waiting()) turns.push_back(streams.NextWaiting());
  EXPECT_EQ(turns, (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(violations.get(), 0u);
}

TEST_F(StreamTableTest, RecyclingASlotTheKernelStillUsesIsCaught) {
  streams.Build(kSizes);
  const std::uint32_t receiving = Open();
  streams[receiving].recv_armed = true;
  const std::uint32_t writing = Open();
  streams[writing].out.Push(PendingWrite{});
#ifdef RINGDNS_CHECK_INVARIANTS
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(streams.Recycle(receiving), "invariant broken at .*stream_table.cc");
  EXPECT_DEATH(streams.Recycle(writing), "invariant broken at .*stream_table.cc");
#else
  streams.Recycle(receiving);
  streams.Recycle(writing);
  EXPECT_EQ(violations.get(), 2u);
  EXPECT_TRUE(streams[receiving].in_use() && streams[writing].in_use());  // left as they were
  EXPECT_EQ(Open(), 2u);
  EXPECT_EQ(Open(), kNoSlot);  // neither was listed free
#endif
}

TEST_F(StreamTableTest, RecyclingAFreeSlotOrQueueingAnUpstreamIsCaught) {
  streams.Build(kSizes);
  const std::uint32_t conn = Open();
  streams.Recycle(conn);
#ifdef RINGDNS_CHECK_INVARIANTS
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(streams.Recycle(conn), "invariant broken at .*stream_table.cc");
  EXPECT_DEATH(streams.WaitForBuffer(3), "invariant broken at .*stream_table.cc");
#else
  streams.Recycle(conn);       // counted; the slot is not listed free twice
  streams.WaitForBuffer(3);
  EXPECT_EQ(violations.get(), 2u);
  EXPECT_FALSE(streams.anyone_waiting());
  std::set<std::uint32_t> taken;
  for (std::uint32_t c = Open(); c != kNoSlot; c = Open()) EXPECT_TRUE(taken.insert(c).second);
  EXPECT_EQ(taken.size(), 3u);
#endif
}

}  // namespace
}  // namespace ringdns::core
