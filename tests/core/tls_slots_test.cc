// A shard's DNS-over-TLS slots without a socket: clients share theirs, upstream streams
// keep their own, handshakes under way are bounded, and a slot given back is taken again.
#include "core/shard/tls_slots.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <set>
#include <vector>

#include "core/shard/shard_layout.h"

namespace ringdns::core {
namespace {

class TlsSlotsTest : public ::testing::Test {
 protected:
  RelaxedCounter violations;
};

TEST_F(TlsSlotsTest, ClientsHoldingEverySharedSlotLeaveTheUpstreamStreamsTheirOwn) {
  TlsSlots slots(/*clients=*/3, /*upstream_streams=*/2, /*handshakes=*/10, violations);
  EXPECT_EQ(slots.free_for_clients(), 3u);
  std::set<std::uint32_t> taken;
  for (int i = 0; i < 3; ++i) taken.insert(slots.TakeForClient(/*handshake=*/true));
  EXPECT_EQ(taken, (std::set<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(slots.TakeForClient(true), kNoTls);
  EXPECT_EQ(slots.TakeForClient(false), kNoTls);
  EXPECT_EQ(slots.ForUpstream(0), 3u);
  EXPECT_EQ(slots.ForUpstream(1), 4u);
  EXPECT_EQ(slots.ForUpstream(2), kNoTls);  // no such upstream stream
}

TEST_F(TlsSlotsTest, AnUpstreamSlotGivenBackNeverJoinsTheClients) {
  TlsSlots slots(2, 1, 10, violations);
  const std::uint32_t upstream = slots.ForUpstream(0);
  slots.BeginHandshake(upstream);
  slots.Release(upstream, /*mid_handshake=*/true);
  EXPECT_EQ(slots.handshaking(), 0u);
  EXPECT_EQ(slots.free_for_clients(), 2u);
  EXPECT_NE(slots.TakeForClient(false), kNoTls);
  EXPECT_NE(slots.TakeForClient(false), kNoTls);
  EXPECT_EQ(slots.TakeForClient(false), kNoTls);
}

TEST_F(TlsSlotsTest, HandshakesUnderWayAreBoundedButAnAdoptedSessionNeedsNone) {
  TlsSlots slots(8, 0, /*handshakes=*/2, violations);
  const std::uint32_t a = slots.TakeForClient(true);
  slots.BeginHandshake(a);
  const std::uint32_t b = slots.TakeForClient(true);
  slots.BeginHandshake(b);
  EXPECT_EQ(slots.handshaking(), 2u);
  EXPECT_EQ(slots.TakeForClient(true), kNoTls);
  const std::uint32_t adopted = slots.TakeForClient(false);  // a reload's, established
  ASSERT_NE(adopted, kNoTls);
  slots.Adopt(adopted, TlsSession());
  EXPECT_EQ(slots.handshaking(), 2u);
  slots.HandshakeDone();  // a finished
  const std::uint32_t c = slots.TakeForClient(true);
  EXPECT_NE(c, kNoTls);
  slots.BeginHandshake(c);
  slots.Release(b, /*mid_handshake=*/true);  // b gave up
  slots.Release(a, /*mid_handshake=*/false);
  EXPECT_EQ(slots.handshaking(), 1u);
  EXPECT_EQ(slots.free_for_clients(), 8u - 2u);  // adopted and c still held
}

TEST_F(TlsSlotsTest, EverySlotHasTwoCipherBuffersOfItsOwn) {
  TlsSlots slots(3, 2, 10, violations);
  std::vector<std::uint32_t> all;
  while (true) {
    const std::uint32_t slot = slots.TakeForClient(false);
    if (slot == kNoTls) break;
    all.push_back(slot);
  }
  all.push_back(slots.ForUpstream(0));
  all.push_back(slots.ForUpstream(1));
  ASSERT_EQ(all.size(), 5u);
  std::set<const std::uint8_t*> starts;
  for (std::uint32_t slot : all) {
    TlsConnection& t = slots[slot];
    ASSERT_NE(t.cipher_in, nullptr);
    EXPECT_EQ(t.cipher_out, t.cipher_in + layout::kTlsCipherBuffer);
    starts.insert(t.cipher_in);
    starts.insert(t.cipher_out);
    t.cipher_in[0] = t.cipher_out[layout::kTlsCipherBuffer - 1] = 0xab;  // writable, all of it
  }
  EXPECT_EQ(starts.size(), 10u);
  for (auto it = starts.begin(); std::next(it) != starts.end(); ++it) {
    EXPECT_GE(*std::next(it) - *it, static_cast<std::ptrdiff_t>(layout::kTlsCipherBuffer));
  }
}

TEST_F(TlsSlotsTest, AHandshakeEndedThatWasNeverCountedIsCaughtAndTheCountStaysAtZero) {
  TlsSlots slots(2, 1, 10, violations);
  const std::uint32_t client = slots.TakeForClient(false);
  slots.Adopt(client, TlsSession());  // established elsewhere: no handshake counted
#ifdef RINGDNS_CHECK_INVARIANTS
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(slots.HandshakeDone(), "invariant broken at .*tls_slots.cc");
#else
  slots.HandshakeDone();
  slots.Release(client, /*mid_handshake=*/true);
  EXPECT_EQ(violations.get(), 2u);
  EXPECT_EQ(slots.handshaking(), 0u);  // not wrapped: a client handshake is still admitted
  EXPECT_NE(slots.TakeForClient(/*handshake=*/true), kNoTls);
#endif
}

}  // namespace
}  // namespace ringdns::core
