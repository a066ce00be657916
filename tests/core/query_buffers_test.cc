// The shard's buffer pools without sockets: which pool an id is from, where a buffer
// goes when its last holder lets go, and what is left when a pool runs dry.
#include "core/buffers/query_buffers.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "core/buffers/big_buffers.h"
#include "core/shard/shard_layout.h"
#include "testing/ring_test.h"

namespace ringdns::core {
namespace {

using Kind = QueryBuffers::Kind;

class QueryBuffersTest : public testing::RingTest {
 protected:
  // 4 received (ids 0-3), 2 refresh (4, 5), 3 TCP (6-8).
  void SetUp() override {
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const absl::Status s = buffers_.Init(ring_, 1, {.received = 4, .refresh = 2, .tcp = 3});
    if (s.code() == absl::StatusCode::kUnavailable) GTEST_SKIP() << s;
    ASSERT_TRUE(s.ok()) << s;
  }
  std::vector<std::uint16_t> TakeAllTcp() {
    std::vector<std::uint16_t> taken;
    for (std::uint16_t id; (id = buffers_.TakeTcp()) != QueryBuffers::kNone;) taken.push_back(id);
    return taken;
  }

  RelaxedCounter violations_;
  QueryBuffers buffers_{violations_};
};

TEST_F(QueryBuffersTest, OneIdSpaceThreePools) {
  EXPECT_EQ(buffers_.count(), 9u);
  EXPECT_EQ(buffers_.KindOf(0), Kind::kReceived);
  EXPECT_EQ(buffers_.KindOf(3), Kind::kReceived);
  EXPECT_EQ(buffers_.KindOf(4), Kind::kRefresh);
  EXPECT_EQ(buffers_.KindOf(5), Kind::kRefresh);
  EXPECT_EQ(buffers_.KindOf(6), Kind::kTcp);
  EXPECT_EQ(buffers_.KindOf(8), Kind::kTcp);
  EXPECT_EQ(buffers_.TakeRefresh(), 4u);  // lowest first: a light load touches fewest pages
  EXPECT_EQ(buffers_.TakeTcp(), 6u);
}

TEST_F(QueryBuffersTest, PayloadsAndScratchesDoNotOverlap) {
  // Each buffer's room filled with its own id; none is overwritten by another's.
  for (std::uint16_t id = 0; id < buffers_.count(); ++id) {
    std::memset(buffers_.Payload(id), id + 1, layout::kQueryRoom);
    std::memset(buffers_.Scratch(id), 0x80 + id, layout::kUpstreamScratch);
  }
  for (std::uint16_t id = 0; id < buffers_.count(); ++id) {
    const std::uint8_t* p = buffers_.Payload(id);
    const std::uint8_t* s = buffers_.Scratch(id);
    EXPECT_EQ(p[0], id + 1);
    EXPECT_EQ(p[layout::kQueryRoom - 1], id + 1) << id;
    EXPECT_EQ(s[0], 0x80 + id);
    EXPECT_EQ(s[layout::kUpstreamScratch - 1], 0x80 + id) << id;
  }
  // A received buffer's payload lies after the recvmsg header and addresses.
  EXPECT_EQ(buffers_.Payload(2), buffers_.Received(2).data() + layout::kPayloadOffset);
}

TEST_F(QueryBuffersTest, ABufferGoesBackOnlyWhenItsLastHolderLetsGo) {
  std::vector<std::uint16_t> taken = TakeAllTcp();
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_FALSE(buffers_.tcp_available());
  const std::uint16_t id = taken[1];
  EXPECT_TRUE(buffers_.SoleHolder(id));
  buffers_.Hold(id);  // a send reads it too
  EXPECT_FALSE(buffers_.SoleHolder(id));
  buffers_.Release(id);  // the send is done
  EXPECT_TRUE(buffers_.SoleHolder(id));
  EXPECT_FALSE(buffers_.tcp_available());
  buffers_.Release(id);  // the slot lets go
  EXPECT_TRUE(buffers_.tcp_available());
  EXPECT_EQ(buffers_.TakeTcp(), id);
  EXPECT_EQ(buffers_.TakeTcp(), QueryBuffers::kNone);
}

TEST_F(QueryBuffersTest, EachBufferGoesBackToItsOwnPool) {
  const std::uint16_t refresh = buffers_.TakeRefresh();
  const std::uint16_t other = buffers_.TakeRefresh();
  EXPECT_EQ(buffers_.TakeRefresh(), QueryBuffers::kNone);
  EXPECT_FALSE(buffers_.refresh_available());
  TakeAllTcp();
  buffers_.Release(refresh);  // a refresh buffer never becomes a TCP one
  EXPECT_FALSE(buffers_.tcp_available());
  EXPECT_EQ(buffers_.TakeRefresh(), refresh);
  buffers_.Release(other);
  EXPECT_FALSE(buffers_.tcp_available());
  EXPECT_EQ(buffers_.KindOf(buffers_.TakeRefresh()), Kind::kRefresh);
}

TEST_F(QueryBuffersTest, AReceivedBufferGoesBackToTheKernel) {
  // The ring hands the kernel all 4 at first (fewer than its first batch).
  for (std::uint16_t id = 0; id < 4; ++id) buffers_.OnReceived(id);
  EXPECT_TRUE(buffers_.provided().exhausted());
  buffers_.Hold(2);
  buffers_.Release(2);
  EXPECT_TRUE(buffers_.provided().exhausted());  // still held once
  buffers_.Release(2);
  EXPECT_FALSE(buffers_.provided().exhausted());
  // Nor does it join a free list: every TCP and refresh buffer is still there.
  EXPECT_EQ(TakeAllTcp().size(), 3u);
}

TEST_F(QueryBuffersTest, AReleaseWithNoHolderLeftIsCaughtAndLeavesThePoolAsItWas) {
  const std::uint16_t id = buffers_.TakeTcp();
  buffers_.Release(id);
#ifdef RINGDNS_CHECK_INVARIANTS
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // TSan and io_uring have threads
  EXPECT_DEATH(buffers_.Release(id), "invariant broken at .*query_buffers.cc");
#else
  buffers_.Release(id);  // counted; the buffer is not listed twice
  EXPECT_EQ(violations_.get(), 1u);
  EXPECT_EQ(TakeAllTcp().size(), 3u);
#endif
}

// Ids are 16 bits and kNone (0xffff) is never one: 65535 buffers fit, 65536 do not.
TEST(QueryBuffersInit, TakesAsManyBuffersAsIdsCanNameAndNoMore) {
  ring::Ring ring;
  if (ring.Init({}) < 0) GTEST_SKIP() << "no io_uring";
  RelaxedCounter violations;
  QueryBuffers too_many(violations);
  const absl::Status s = too_many.Init(ring, 1, {.received = 32768, .refresh = 32767, .tcp = 1});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("too many query buffers (65536)"), std::string::npos) << s;
  QueryBuffers all(violations);
  const absl::Status fits = all.Init(ring, 2, {.received = 32768, .refresh = 32766, .tcp = 1});
  if (fits.code() == absl::StatusCode::kUnavailable) GTEST_SKIP() << fits;
  ASSERT_TRUE(fits.ok()) << fits;
  EXPECT_EQ(all.TakeTcp(), 65534u);
  EXPECT_EQ(all.TakeTcp(), QueryBuffers::kNone);
}

TEST(BigBuffers, TakenUntilNoneAreLeftAndGivenBack) {
  RelaxedCounter violations;
  BigBuffers big(violations);
  big.Init(2);
  std::set<std::uint16_t> taken{big.Take(), big.Take()};
  EXPECT_EQ(taken, (std::set<std::uint16_t>{0, 1}));
  EXPECT_FALSE(big.available());
  EXPECT_EQ(big.Take(), BigBuffers::kNone);
  // The whole of a 65535-octet answer, and the length prefix before it, are writable.
  std::memset(big.Payload(1) - layout::kBigPayloadOffset, 0xab, layout::kBigBufferSize);
  std::memset(big.Payload(0) - layout::kBigPayloadOffset, 0xcd, layout::kBigBufferSize);
  EXPECT_EQ(big.Payload(1)[-2], 0xab);  // its length prefix
  EXPECT_EQ(big.Payload(1)[0], 0xab);
  EXPECT_EQ(big.Payload(1)[65534], 0xab);
  EXPECT_EQ(big.Payload(0)[65534], 0xcd);
  big.GiveBack(1);
  EXPECT_TRUE(big.available());
  EXPECT_EQ(big.Take(), 1u);
  // 0 is still out when 1 comes back twice: caught at once, not when 0 comes back.
#ifdef RINGDNS_CHECK_INVARIANTS
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        big.GiveBack(1);
        big.GiveBack(1);
      },
      "invariant broken at .*big_buffers.h");
#else
  big.GiveBack(1);
  big.GiveBack(1);  // counted, not listed twice
  EXPECT_EQ(violations.get(), 1u);
  big.GiveBack(0);
  EXPECT_EQ(violations.get(), 1u);
  EXPECT_NE(big.Take(), big.Take());
  EXPECT_EQ(big.Take(), BigBuffers::kNone);
#endif
}

}  // namespace
}  // namespace ringdns::core
