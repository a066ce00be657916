// A shard's upstream UDP sockets on their own: a ring, a provided buffer ring for the
// answers, and loopback; no shard. Which socket a query may leave from, answers
// received on each, and a rotation to a fresh port end to end.
#include "core/upstream/udp_sockets.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "core/shard/shard_layout.h"
#include "ring/user_data.h"
#include "testing/ring_test.h"

namespace ringdns::core {
namespace {

constexpr std::uint8_t kReceive = 7;
constexpr std::uint8_t kCancel = 8;

std::uint16_t LocalPort(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

class UpstreamUdpSocketsTest : public testing::RingTest {
 protected:
  void SetUp() override {
    RingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const int brc = answers_.Init(ring_, layout::kAnswerGroup, 16, layout::kAnswerBufferSize);
    if (brc == -EINVAL || brc == -ENOENT) GTEST_SKIP() << "no provided buffer rings";
    ASSERT_EQ(brc, 0);
  }
  absl::Status Open(std::uint32_t per_family, std::int64_t lifetime_ms) {
    return sockets_.Open({.families = {true, false},
                          .per_family = per_family,
                          .sources = {},
                          .lifetime_ms = lifetime_ms,
                          .retire_for_ms = 0});
  }
  // Submits, then hands every completion to the sockets as the shard's loop does, until
  // `done` or the kernel has nothing more within a second.
  template <typename Done>
  void Drive(Done&& done) {
    for (int turn = 0; turn < 100 && !done(); ++turn) {
      __kernel_timespec wait{.tv_sec = 0, .tv_nsec = 10'000'000};
      ring_.SubmitAndWait(1, &wait);
      ring_.ForEachCompletion([&](const io_uring_cqe& cqe) {
        const ring::UserData ud = ring::UserData::Unpack(cqe.user_data);
        if (ud.op != kReceive) return;
        if ((cqe.flags & IORING_CQE_F_MORE) == 0) sockets_.ReceiveEnded(ud.slot);
        if (cqe.res >= 0 && (cqe.flags & IORING_CQE_F_BUFFER) != 0) {
          received_.insert(ud.slot);
          answers_.Took();
          answers_.Recycle(static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
        }
      });
      answers_.Commit();
      sockets_.Rearm();
    }
  }
  void SendTo(std::uint32_t socket) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(LocalPort(sockets_.fd(socket)));
    ASSERT_EQ(::sendto(peer_.get(), "answer", 6, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
              6);
  }

  ring::ProvidedBufferRing answers_;
  ShardCounters counters_;
  UpstreamUdpSockets sockets_{ring_, answers_, counters_, {.receive = kReceive, .cancel = kCancel}};
  ring::UniqueFd peer_{::socket(AF_INET, SOCK_DGRAM, 0)};
  std::set<std::uint32_t> received_;
};

TEST_F(UpstreamUdpSocketsTest, EachSocketHasItsOwnPortAndReceivesAnswers) {
  ASSERT_TRUE(Open(8, 0).ok());
  ASSERT_EQ(sockets_.size(), 8u);
  std::set<std::uint16_t> ports;
  for (std::uint32_t i = 0; i < 8; ++i) ports.insert(LocalPort(sockets_.fd(i)));
  EXPECT_EQ(ports.size(), 8u);
  EXPECT_EQ(ports.count(0), 0u);
  for (std::uint32_t i = 0; i < 8; ++i) SendTo(i);
  Drive([&] { return received_.size() == 8; });
  EXPECT_EQ(received_.size(), 8u);
}

TEST_F(UpstreamUdpSocketsTest, QueriesLeaveFromEverySocketOfTheirFamilyOnly) {
  ASSERT_TRUE(Open(4, 0).ok());
  RandomPool random;
  std::set<std::uint16_t> picked;
  for (int i = 0; i < 400; ++i) picked.insert(sockets_.Pick(AF_INET, random));
  EXPECT_EQ(picked, (std::set<std::uint16_t>{0, 1, 2, 3}));  // 4 x (3/4)^400 to miss one
  EXPECT_EQ(sockets_.Pick(AF_INET6, random), UpstreamUdpSockets::kNone);
}

TEST_F(UpstreamUdpSocketsTest, ARotatedSocketAnswersOnAFreshPortAndTheOldOneIsClosed) {
  // Two sockets over 2 ms: one retires every millisecond of the rotation's clock, and
  // with no wait for late answers is replaced on the next turn.
  ASSERT_TRUE(Open(2, 2).ok());
  const std::uint16_t old_port = LocalPort(sockets_.fd(0));
  sockets_.Rotate(1);  // the clock starts
  sockets_.Rotate(2);  // socket 0 retires
  RandomPool random;
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(sockets_.Pick(AF_INET, random), 1u);  // retiring: takes none
  EXPECT_EQ(counters_.upstream_socket_rotations, 0u);
  sockets_.Rotate(3);  // replaced: its receive is cancelled, the fresh socket waits
  Drive([&] { return counters_.upstream_socket_rotations > 0; });
  ASSERT_EQ(counters_.upstream_socket_rotations, 1u);
  EXPECT_NE(LocalPort(sockets_.fd(0)), old_port);
  // The fresh socket's receive is armed again, and it serves.
  SendTo(0);
  Drive([&] { return received_.count(0) == 1; });
  EXPECT_EQ(received_.count(0), 1u);
  std::set<std::uint16_t> picked;
  for (int i = 0; i < 200; ++i) picked.insert(sockets_.Pick(AF_INET, random));
  EXPECT_EQ(picked.count(0), 1u);
  // Nothing listens on the old port any more.
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(old_port);
  ring::UniqueFd probe(::socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_EQ(::bind(probe.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0)
      << std::strerror(errno);
}

// With every answer buffer held, a receive that ends for want of one is not armed again
// until one comes back: armed on an empty ring it would end again at once, each loop turn.
TEST(UpstreamUdpSocketsRearm, WaitsForABufferToComeBack) {
  ring::Ring ring;
  if (ring.Init({}) < 0) GTEST_SKIP() << "no io_uring";
  ring::ProvidedBufferRing answers;
  if (answers.Init(ring, layout::kAnswerGroup, 2, layout::kAnswerBufferSize) < 0)
    GTEST_SKIP() << "no buffer rings";
  ShardCounters counters;
  UpstreamUdpSockets sockets(ring, answers, counters, {.receive = kReceive, .cancel = kCancel});
  ASSERT_TRUE(sockets
                  .Open({.families = {true, false},
                         .per_family = 1,
                         .sources = {},
                         .lifetime_ms = 0,
                         .retire_for_ms = 0})
                  .ok());
  ring::UniqueFd peer(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(LocalPort(sockets.fd(0)));
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(::sendto(peer.get(), "answer", 6, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
              6);
  }
  std::vector<std::uint16_t> held;
  int starved = 0;
  // The shard's loop, keeping every buffer: until the receive has ended for want of one
  // (however late loopback delivers), then 20 turns more, each of which would end a
  // receive armed on the empty ring once more.
  int turns_after = 0;
  for (int turn = 0; turn < 1000 && turns_after < 20; ++turn) {
    __kernel_timespec wait{.tv_sec = 0, .tv_nsec = 2'000'000};
    ring.SubmitAndWait(1, &wait);
    ring.ForEachCompletion([&](const io_uring_cqe& cqe) {
      if ((cqe.flags & IORING_CQE_F_MORE) == 0) sockets.ReceiveEnded(0);
      if (cqe.res == -ENOBUFS) {
        ++starved;
        EXPECT_FALSE(cqe.flags & IORING_CQE_F_MORE);
      }
      if (cqe.res >= 0 && (cqe.flags & IORING_CQE_F_BUFFER) != 0) {
        answers.Took();
        held.push_back(static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
      }
    });
    sockets.Rearm();
    if (starved > 0) ++turns_after;
  }
  EXPECT_EQ(held.size(), 2u);
  EXPECT_EQ(starved, 1);
  // A buffer back: armed again, and the datagrams waiting in the socket arrive.
  answers.Recycle(held.back());
  held.pop_back();
  answers.Commit();
  sockets.Rearm();
  for (int turn = 0; turn < 500 && held.size() < 2; ++turn) {
    __kernel_timespec wait{.tv_sec = 0, .tv_nsec = 10'000'000};
    ring.SubmitAndWait(1, &wait);
    ring.ForEachCompletion([&](const io_uring_cqe& cqe) {
      if ((cqe.flags & IORING_CQE_F_MORE) == 0) sockets.ReceiveEnded(0);
      if (cqe.res >= 0 && (cqe.flags & IORING_CQE_F_BUFFER) != 0) {
        answers.Took();
        held.push_back(static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
      }
    });
  }
  EXPECT_EQ(held.size(), 2u);
}

}  // namespace
}  // namespace ringdns::core
