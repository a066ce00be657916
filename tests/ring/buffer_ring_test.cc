// Multishot recvmsg into a provided buffer ring, and ENOBUFS as back-pressure (liburing's
// test/recv-multishot.c). Skips, never fails, where the kernel lacks the feature.
#include "ring/buffer_ring.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "backends.h"
#include "ring/fd.h"
#include "ring/recvmsg.h"
#include "ring/ring.h"
#include "ring/user_data.h"

namespace ringdns::ring {
namespace {

struct UdpPair {
  UniqueFd receiver{::socket(AF_INET, SOCK_DGRAM, 0)};
  UniqueFd sender{::socket(AF_INET, SOCK_DGRAM, 0)};
  sockaddr_in address{};
  UdpPair() {
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(receiver.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t len = sizeof(address);
    ::getsockname(receiver.get(), reinterpret_cast<sockaddr*>(&address), &len);
  }
  void Send(const std::string& text) {
    ::sendto(sender.get(), text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&address),
             sizeof(address));
  }
};

// Every test runs on both backends: epoll consumes the buffer ring as the kernel does.
class BufferRingTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const int rc = ring_.Init({.backend = GetParam()});
    if (rc == -ENOSYS || rc == -EPERM || rc == -EINVAL)
      GTEST_SKIP() << "no io_uring: " << std::strerror(-rc);
    ASSERT_EQ(rc, 0);
  }
  void Arm(ProvidedBufferRing& buffers) {
    msg_ = {};
    msg_.msg_namelen = sizeof(sockaddr_in6);
    ASSERT_TRUE(ring_.RecvMsgMultishot(pair_.receiver.get(), msg_, buffers.group_id(),
                                       UserData{1, 0, 0, 0}));
    ASSERT_GE(ring_.Submit(), 1);
  }
  std::vector<io_uring_cqe> Reap() {
    __kernel_timespec wait{0, 100'000'000};
    (void)ring_.SubmitAndWait(1, &wait);
    std::vector<io_uring_cqe> out;
    ring_.ForEachCompletion([&](const io_uring_cqe& cqe) { out.push_back(cqe); });
    return out;
  }

  Ring ring_;
  UdpPair pair_;
  msghdr msg_{};
};

TEST_P(BufferRingTest, MultishotReceiveFillsProvidedBuffers) {
  ProvidedBufferRing buffers;
  const int rc = buffers.Init(ring_, 7, 8, 512);
  if (rc == -EINVAL || rc == -ENOENT) GTEST_SKIP() << "no provided buffer rings";
  ASSERT_EQ(rc, 0);
  Arm(buffers);
  pair_.Send("first");
  pair_.Send("second");
  std::vector<io_uring_cqe> cqes = Reap();
  if (cqes.size() < 2) {
    const std::vector<io_uring_cqe> more = Reap();
    cqes.insert(cqes.end(), more.begin(), more.end());
  }
  ASSERT_EQ(cqes.size(), 2u);
  std::vector<std::string> payloads;
  for (const io_uring_cqe& cqe : cqes) {
    if (cqe.res == -EINVAL) GTEST_SKIP() << "no multishot recvmsg";
    ASSERT_GT(cqe.res, 0);
    ASSERT_TRUE(cqe.flags & IORING_CQE_F_BUFFER);
    EXPECT_TRUE(cqe.flags & IORING_CQE_F_MORE);  // still armed
    const auto bid = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    ReceivedMessage m;
    ASSERT_TRUE(DecodeRecvMsg(buffers.Buffer(bid), cqe.res, msg_, m));
    payloads.emplace_back(reinterpret_cast<const char*>(m.payload.data()), m.payload.size());
    EXPECT_FALSE(m.truncated);
    // From the sender's address.
    ASSERT_EQ(m.from_len, sizeof(sockaddr_in));
    sockaddr_in sender{};
    socklen_t len = sizeof(sender);
    ::getsockname(pair_.sender.get(), reinterpret_cast<sockaddr*>(&sender), &len);
    EXPECT_EQ(reinterpret_cast<const sockaddr_in*>(m.from)->sin_port, sender.sin_port);
    EXPECT_EQ(UserData::Unpack(cqe.user_data).op, 1);
    buffers.Took();
    buffers.Recycle(bid);
  }
  buffers.Commit();
  EXPECT_EQ(payloads, (std::vector<std::string>{"first", "second"}));
}

TEST_P(BufferRingTest, ADatagramLargerThanItsBufferIsCutAndSaysSo) {
  ProvidedBufferRing buffers;
  const int rc = buffers.Init(ring_, 9, 2, 256);
  if (rc == -EINVAL || rc == -ENOENT) GTEST_SKIP() << "no provided buffer rings";
  ASSERT_EQ(rc, 0);
  Arm(buffers);
  pair_.Send(std::string(1000, 'x'));
  const std::vector<io_uring_cqe> cqes = Reap();
  ASSERT_EQ(cqes.size(), 1u);
  if (cqes[0].res == -EINVAL) GTEST_SKIP() << "no multishot recvmsg";
  const auto bid = static_cast<std::uint16_t>(cqes[0].flags >> IORING_CQE_BUFFER_SHIFT);
  ReceivedMessage m;
  ASSERT_TRUE(DecodeRecvMsg(buffers.Buffer(bid), cqes[0].res, msg_, m));
  EXPECT_TRUE(m.truncated);
  EXPECT_LT(m.payload.size(), 256u);
  EXPECT_GT(m.payload.size(), 0u);
  EXPECT_LE(m.payload.data() + m.payload.size(), buffers.Buffer(bid).data() + 256);
  // A length the buffer cannot hold, or one too short for the header, is refused.
  EXPECT_FALSE(DecodeRecvMsg(buffers.Buffer(bid), 257, msg_, m));
  EXPECT_FALSE(DecodeRecvMsg(buffers.Buffer(bid), 4, msg_, m));
  EXPECT_FALSE(DecodeRecvMsg(buffers.Buffer(bid), -ENOBUFS, msg_, m));
}

TEST_P(BufferRingTest, EmptyBufferRingReportsEnobufsAndKeepsTheDatagram) {
  ProvidedBufferRing buffers;
  const int rc = buffers.Init(ring_, 8, 2, 512);
  if (rc == -EINVAL || rc == -ENOENT) GTEST_SKIP() << "no provided buffer rings";
  ASSERT_EQ(rc, 0);
  Arm(buffers);
  pair_.Send("a");
  pair_.Send("b");
  pair_.Send("c");  // no buffer left for this one
  std::vector<io_uring_cqe> cqes;
  for (int i = 0; i < 5 && cqes.size() < 3; ++i) {
    const std::vector<io_uring_cqe> more = Reap();
    cqes.insert(cqes.end(), more.begin(), more.end());
  }
  ASSERT_EQ(cqes.size(), 3u);
  if (cqes[0].res == -EINVAL) GTEST_SKIP() << "no multishot recvmsg";
  EXPECT_GT(cqes[0].res, 0);
  EXPECT_GT(cqes[1].res, 0);
  EXPECT_EQ(cqes[2].res, -ENOBUFS);
  EXPECT_FALSE(cqes[2].flags & IORING_CQE_F_MORE);  // the receive ended: re-arm it
  buffers.Took();
  EXPECT_FALSE(buffers.exhausted());
  buffers.Took();
  // Re-arming now would only fail again: the owner waits for a buffer to come back.
  EXPECT_TRUE(buffers.exhausted());
  // Back-pressure, not loss: recycle a buffer, re-arm, and the third datagram arrives.
  buffers.Recycle(static_cast<std::uint16_t>(cqes[0].flags >> IORING_CQE_BUFFER_SHIFT));
  buffers.Commit();
  EXPECT_FALSE(buffers.exhausted());
  Arm(buffers);
  const std::vector<io_uring_cqe> after = Reap();
  // The datagram comes first; with the ring empty again the receive may end once more.
  ASSERT_GE(after.size(), 1u);
  ASSERT_GT(after[0].res, 0);
  const auto bid = static_cast<std::uint16_t>(after[0].flags >> IORING_CQE_BUFFER_SHIFT);
  ReceivedMessage m;
  ASSERT_TRUE(DecodeRecvMsg(buffers.Buffer(bid), after[0].res, msg_, m));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m.payload.data()), m.payload.size()), "c");
}

TEST_P(BufferRingTest, HandsTheKernelMoreBuffersOnlyAsTheLoadHoldsThem) {
  ProvidedBufferRing buffers;
  const int rc = buffers.Init(ring_, 9, 64, 512, /*initial=*/4);
  if (rc == -EINVAL || rc == -ENOENT) GTEST_SKIP() << "no provided buffer rings";
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(buffers.provided(), 4u);
  Arm(buffers);
  // One datagram at a time, each buffer back before the next: the same four go round,
  // so only their pages are ever touched.
  for (int i = 0; i < 50; ++i) {
    pair_.Send("one");
    std::vector<io_uring_cqe> cqes;
    for (int tries = 0; tries < 50 && cqes.empty(); ++tries) cqes = Reap();
    ASSERT_EQ(cqes.size(), 1u);
    if (cqes[0].res == -EINVAL) GTEST_SKIP() << "no multishot recvmsg";
    ASSERT_GT(cqes[0].res, 0);
    const auto bid = static_cast<std::uint16_t>(cqes[0].flags >> IORING_CQE_BUFFER_SHIFT);
    EXPECT_LT(bid, 4u);
    buffers.Took();
    buffers.Recycle(bid);
    buffers.Commit();
  }
  EXPECT_EQ(buffers.provided(), 4u);
  // Twenty held at once: the ring doubles whenever a quarter or less is left (4, 8, 16,
  // 32) and the receive ended by ENOBUFS meanwhile is armed again, as the shard does.
  for (int i = 0; i < 20; ++i) pair_.Send("burst");
  int received = 0;
  bool armed = true;
  for (int tries = 0; tries < 100 && received < 20; ++tries) {
    if (!armed) {
      Arm(buffers);
      armed = true;
    }
    for (const io_uring_cqe& cqe : Reap()) {
      if ((cqe.flags & IORING_CQE_F_MORE) == 0) armed = false;
      if (cqe.res <= 0) continue;
      buffers.Took();
      ++received;
    }
    buffers.Commit();
  }
  EXPECT_EQ(received, 20);
  EXPECT_EQ(buffers.provided(), 32u);
  EXPECT_FALSE(buffers.exhausted());
}

TEST_P(BufferRingTest, AReceiveStarvedByABurstGrowsTheRingAtOnce) {
  ProvidedBufferRing buffers;
  const int rc = buffers.Init(ring_, 10, 64, 512, /*initial=*/2);
  if (rc == -EINVAL || rc == -ENOENT) GTEST_SKIP() << "no provided buffer rings";
  ASSERT_EQ(rc, 0);
  // Three datagrams before any completion is reaped: the third finds no buffer.
  pair_.Send("a");
  pair_.Send("b");
  pair_.Send("c");
  Arm(buffers);
  std::vector<io_uring_cqe> cqes;
  for (int i = 0; i < 5 && cqes.size() < 3; ++i) {
    const std::vector<io_uring_cqe> more = Reap();
    cqes.insert(cqes.end(), more.begin(), more.end());
  }
  ASSERT_EQ(cqes.size(), 3u);
  if (cqes[0].res == -EINVAL) GTEST_SKIP() << "no multishot recvmsg";
  ASSERT_EQ(cqes[2].res, -ENOBUFS);
  buffers.Starved();  // before Took has seen the first two
  buffers.Commit();
  EXPECT_EQ(buffers.provided(), 4u);
  buffers.Took();
  buffers.Took();
  EXPECT_FALSE(buffers.exhausted());
  Arm(buffers);
  const std::vector<io_uring_cqe> after = Reap();
  ASSERT_GE(after.size(), 1u);
  EXPECT_GT(after[0].res, 0);  // the third datagram, in one of the new buffers
  EXPECT_GE(after[0].flags >> IORING_CQE_BUFFER_SHIFT, 2u);
}

INSTANTIATE_ON_BOTH_BACKENDS(BufferRingTest);

TEST(Ring, FullSubmissionQueueIsFlushedNotFailed) {
  Ring ring;
  RingOptions options;
  options.entries = 4;
  options.cq_entries = 64;
  const int rc = ring.Init(options);
  if (rc < 0) GTEST_SKIP() << "no io_uring: " << std::strerror(-rc);
  for (int i = 0; i < 20; ++i) {
    io_uring_sqe* sqe = ring.GetSqe();
    ASSERT_NE(sqe, nullptr) << i;
    io_uring_prep_nop(sqe);
  }
  __kernel_timespec wait{0, 100'000'000};
  (void)ring.SubmitAndWait(20, &wait);
  unsigned seen = 0;
  for (int i = 0; i < 3 && seen < 20; ++i) {
    seen += ring.ForEachCompletion([](const io_uring_cqe& cqe) { EXPECT_EQ(cqe.res, 0); });
    if (seen < 20) (void)ring.SubmitAndWait(1, &wait);
  }
  EXPECT_EQ(seen, 20u);
}

}  // namespace
}  // namespace ringdns::ring
