// The ring's typed submissions over real loopback sockets: each completion carries its
// tag, a connect keeps its linked timeout even when the submission queue is nearly full,
// a cancel finds its target by tag, and a Wake from another thread ends a wait.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "backends.h"
#include "ring/fd.h"
#include "ring/ring.h"
#include "ring/user_data.h"
#include "ring/wake.h"

namespace ringdns::ring {
namespace {

sockaddr_in Loopback() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A listening TCP socket on 127.0.0.1 and its address.
struct Listener {
  UniqueFd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_in address = Loopback();
  Listener() {
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t len = sizeof(address);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &len);
    EXPECT_EQ(::listen(fd.get(), 8), 0);
  }
};

// A listener with a backlog of none that accepts nothing, its queue filled: the kernel
// drops further SYNs, so a connect to it waits until its timeout ends it.
struct FullListener : Listener {
  std::vector<UniqueFd> fillers;
  FullListener() {
    EXPECT_EQ(::listen(fd.get(), 0), 0);
    for (int i = 0; i < 4; ++i) {
      fillers.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      (void)::connect(fillers.back().get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
    }
  }
};

// Every test runs on both backends: the shard must not be able to tell them apart.
class RingOps : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    RingOptions options;
    options.entries = 8;  // small, so that tests can fill it
    options.cq_entries = 64;
    options.backend = GetParam();
    const int rc = ring_.Init(options);
    if (rc == -ENOSYS || rc == -EPERM || rc == -EINVAL)
      GTEST_SKIP() << "no io_uring: " << std::strerror(-rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(ring_.backend(), GetParam() == Backend::kEpoll ? "epoll" : "io_uring");
  }
  // Completions until `count` have arrived; each wait is bounded only to fail a broken
  // build, never to judge speed.
  std::vector<io_uring_cqe> Reap(std::size_t count) {
    std::vector<io_uring_cqe> out;
    for (int i = 0; i < 100 && out.size() < count; ++i) {
      __kernel_timespec wait{0, 100'000'000};
      (void)ring_.SubmitAndWait(1, &wait);
      ring_.ForEachCompletion([&](const io_uring_cqe& cqe) { out.push_back(cqe); });
    }
    return out;
  }
  const io_uring_cqe* Find(const std::vector<io_uring_cqe>& cqes, UserData tag) {
    for (const io_uring_cqe& c : cqes) {
      if (c.user_data == tag.Pack()) return &c;
    }
    return nullptr;
  }

  Ring ring_;
};

TEST_P(RingOps, AConnectKeepsItsTimeoutWhenTheQueueHasOneEntryLeft) {
  Listener listener;
  UniqueFd client{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  // Fill all but one entry: a connect prepared there and its timeout flushed apart would
  // leave the timeout unlinked (the kernel rejects a lone link timeout with EINVAL).
  for (std::uint32_t i = 0; i < 7; ++i)
    ASSERT_TRUE(ring_.Cancel(UserData{9, 0, i, 0}, UserData{9, 0, i, 0}));
  const __kernel_timespec limit{30, 0};
  const UserData connect_tag{1, 7, 3, 0};
  const UserData timeout_tag{2, 0, 0, 0};
  ASSERT_TRUE(ring_.Connect(client.get(), reinterpret_cast<const sockaddr*>(&listener.address),
                            sizeof(listener.address), limit, connect_tag, timeout_tag));
  const std::vector<io_uring_cqe> cqes = Reap(9);
  const io_uring_cqe* connected = Find(cqes, connect_tag);
  const io_uring_cqe* timer = Find(cqes, timeout_tag);
  ASSERT_NE(connected, nullptr);
  ASSERT_NE(timer, nullptr);
  EXPECT_EQ(connected->res, 0);
  EXPECT_EQ(timer->res, -ECANCELED) << "the timeout was not linked to the connect";
}

TEST_P(RingOps, SendAndReceiveCarryTheirTags) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd a{pair[0]}, b{pair[1]};
  const std::string text = "hello over the ring";
  std::uint8_t into[64];
  const UserData send_tag{3, 1, 42, 7};
  const UserData recv_tag{4, 2, 43, 8};
  ASSERT_TRUE(ring_.Recv(b.get(), into, recv_tag));
  ASSERT_TRUE(ring_.Send(a.get(), {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                         MSG_NOSIGNAL, send_tag));
  const std::vector<io_uring_cqe> cqes = Reap(2);
  const io_uring_cqe* sent = Find(cqes, send_tag);
  const io_uring_cqe* received = Find(cqes, recv_tag);
  ASSERT_NE(sent, nullptr);
  ASSERT_NE(received, nullptr);
  EXPECT_EQ(sent->res, static_cast<int>(text.size()));
  ASSERT_EQ(received->res, static_cast<int>(text.size()));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(into), text.size()), text);
}

TEST_P(RingOps, SendMsgDeliversADatagramToItsAddress) {
  UniqueFd receiver{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  UniqueFd sender{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  sockaddr_in to = Loopback();
  ASSERT_EQ(::bind(receiver.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  socklen_t len = sizeof(to);
  ::getsockname(receiver.get(), reinterpret_cast<sockaddr*>(&to), &len);
  char payload[] = "datagram";
  iovec iov{payload, sizeof(payload)};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof(to);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  const UserData tag{5, 0, 1, 2};
  ASSERT_TRUE(ring_.SendMsg(sender.get(), msg, tag));
  const std::vector<io_uring_cqe> cqes = Reap(1);
  ASSERT_EQ(cqes.size(), 1u);
  EXPECT_EQ(cqes[0].user_data, tag.Pack());
  EXPECT_EQ(cqes[0].res, static_cast<int>(sizeof(payload)));
  char got[32] = {};
  EXPECT_EQ(::recv(receiver.get(), got, sizeof(got), 0), static_cast<ssize_t>(sizeof(payload)));
  EXPECT_STREQ(got, "datagram");
}

TEST_P(RingOps, ACancelFindsItsTargetByTag) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd a{pair[0]}, b{pair[1]};
  std::uint8_t into[16];
  const UserData waiting{6, 3, 99, 0};
  const UserData cancel_tag{7, 0, 0, 0};
  ASSERT_TRUE(ring_.Recv(b.get(), into, waiting));  // nothing will be sent
  ASSERT_EQ(ring_.Submit(), 1);
  ASSERT_TRUE(ring_.Cancel(waiting, cancel_tag));
  const std::vector<io_uring_cqe> cqes = Reap(2);
  const io_uring_cqe* cancelled = Find(cqes, waiting);
  const io_uring_cqe* cancel = Find(cqes, cancel_tag);
  ASSERT_NE(cancelled, nullptr);
  ASSERT_NE(cancel, nullptr);
  EXPECT_EQ(cancelled->res, -ECANCELED);
  EXPECT_EQ(cancel->res, 0);
}

TEST_P(RingOps, AcceptMultishotTagsEachConnection) {
  Listener listener;
  const UserData tag{8, 0, 5, 0};
  ASSERT_TRUE(ring_.AcceptMultishot(listener.fd.get(), tag));
  ASSERT_EQ(ring_.Submit(), 1);
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::connect(clients.back().get(), reinterpret_cast<sockaddr*>(&listener.address),
                        sizeof(listener.address)),
              0);
  }
  const std::vector<io_uring_cqe> cqes = Reap(2);
  ASSERT_EQ(cqes.size(), 2u);
  for (const io_uring_cqe& c : cqes) {
    if (c.res == -EINVAL) GTEST_SKIP() << "no multishot accept";
    EXPECT_EQ(c.user_data, tag.Pack());
    ASSERT_GE(c.res, 0);
    EXPECT_TRUE(c.flags & IORING_CQE_F_MORE);  // still armed
    ::close(c.res);
  }
}

TEST_P(RingOps, AFullQueueSubmittedEarlyIsCounted) {
  // Eight entries (cancels of nothing): the ninth pushes the first eight to the kernel.
  const std::uint64_t counted = ring_.early_submits();
  for (std::uint32_t i = 0; i < 8; ++i)
    ASSERT_TRUE(ring_.Cancel(UserData{9, 0, i, 0}, UserData{10, 0, i, 0}));
  EXPECT_EQ(ring_.early_submits(), counted);
  ASSERT_TRUE(ring_.Cancel(UserData{9, 0, 8, 0}, UserData{10, 0, 8, 0}));
  EXPECT_EQ(ring_.early_submits(), counted + 1);
  EXPECT_EQ(Reap(9).size(), 9u);
}

TEST_P(RingOps, AWakeFromAnotherThreadEndsALongWaitEachTimeItIsArmed) {
  Wake wake;
  ASSERT_TRUE(wake.valid());
  const UserData tag{9, 0, 0, 0};
  ASSERT_TRUE(wake.Arm(ring_, tag));
  for (int round = 0; round < 3; ++round) {
    std::thread notifier([&] { wake.Notify(); });
    // An hour: only a wake-up ends this wait (a broken one fails by the test's timeout).
    __kernel_timespec hour{3600, 0};
    std::vector<io_uring_cqe> cqes;
    while (cqes.empty()) {
      (void)ring_.SubmitAndWait(1, &hour);
      ring_.ForEachCompletion([&](const io_uring_cqe& cqe) { cqes.push_back(cqe); });
    }
    notifier.join();
    ASSERT_EQ(cqes.size(), 1u) << round;
    EXPECT_EQ(cqes[0].user_data, tag.Pack());
    EXPECT_EQ(cqes[0].res, 8) << "an eventfd read returns its 8-byte count";
    ASSERT_TRUE(wake.Arm(ring_, tag));
  }
  // No notify: a short wait ends with nothing completed; the read stays armed.
  __kernel_timespec short_wait{0, 20'000'000};
  (void)ring_.SubmitAndWait(1, &short_wait);
  EXPECT_EQ(ring_.ForEachCompletion([](const io_uring_cqe&) {}), 0u);
}

TEST_P(RingOps, AConnectThatCannotCompleteEndsAtItsTimeout) {
  FullListener listener;
  UniqueFd client{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  const __kernel_timespec limit{0, 200'000'000};
  const UserData connect_tag{1, 1, 1, 0};
  const UserData timeout_tag{2, 1, 1, 0};
  ASSERT_TRUE(ring_.Connect(client.get(), reinterpret_cast<const sockaddr*>(&listener.address),
                            sizeof(listener.address), limit, connect_tag, timeout_tag));
  const std::vector<io_uring_cqe> cqes = Reap(2);
  const io_uring_cqe* connected = Find(cqes, connect_tag);
  const io_uring_cqe* timer = Find(cqes, timeout_tag);
  ASSERT_NE(connected, nullptr);
  ASSERT_NE(timer, nullptr);
  if (connected->res == 0) GTEST_SKIP() << "this kernel queued the connection after all";
  EXPECT_EQ(connected->res, -ECANCELED);
  EXPECT_EQ(timer->res, -ETIME);
}

TEST_P(RingOps, AReceiveOnADescriptorNumberClosedAndReusedStillCompletes) {
  // A receive completes, its socket is closed, and the next socket takes the same number:
  // a receive armed on it must wait on the new socket, not on what was registered before.
  for (int round = 0; round < 3; ++round) {
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    UniqueFd a{pair[0]}, b{pair[1]};
    std::uint8_t into[8];
    const UserData tag{4, static_cast<std::uint16_t>(round), 1, 0};
    ASSERT_TRUE(ring_.Recv(b.get(), into, tag));
    ASSERT_EQ(ring_.Submit(), 1);  // nothing to read yet: it waits
    ASSERT_EQ(::send(a.get(), "x", 1, 0), 1);
    const std::vector<io_uring_cqe> cqes = Reap(1);
    ASSERT_EQ(cqes.size(), 1u) << round;
    EXPECT_EQ(cqes[0].user_data, tag.Pack());
    EXPECT_EQ(cqes[0].res, 1);
  }
}

TEST_P(RingOps, AShutdownEndsAWaitingReceiveAndSend) {
  // How the shard closes a stream: shutdown ends what is armed, then it closes. The send
  // waits for real: the socket's buffer is full before it is queued.
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd a{pair[0]}, b{pair[1]};
  std::vector<std::uint8_t> chunk(4096, 'x');
  while (::send(a.get(), chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {
  }
  ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
  std::uint8_t into[8];
  const UserData recv_tag{4, 0, 1, 0};
  const UserData send_tag{5, 0, 1, 0};
  ASSERT_TRUE(ring_.Recv(a.get(), into, recv_tag));
  ASSERT_TRUE(ring_.Send(a.get(), chunk, MSG_NOSIGNAL, send_tag));
  ASSERT_EQ(ring_.Submit(), 2);
  __kernel_timespec brief{0, 20'000'000};
  (void)ring_.SubmitAndWait(1, &brief);
  EXPECT_EQ(ring_.ForEachCompletion([](const io_uring_cqe&) {}), 0u)
      << "nothing can complete before the shutdown";
  ::shutdown(a.get(), SHUT_RDWR);
  const std::vector<io_uring_cqe> cqes = Reap(2);
  const io_uring_cqe* received = Find(cqes, recv_tag);
  const io_uring_cqe* sent = Find(cqes, send_tag);
  ASSERT_NE(received, nullptr);
  ASSERT_NE(sent, nullptr);
  EXPECT_EQ(received->res, 0) << "a shut-down socket reads as its end";
  EXPECT_EQ(sent->res, -EPIPE);
}

TEST_P(RingOps, WorkThatCompletesAtOnceDoesNotStarveWhatWaits) {
  // Each turn, a receive that finds its data at once meets the wait by itself (as a
  // pipelining TCP client's reads and writes do): what waits on another socket, and a
  // connect's timeout, must still come in on the first turns, as the kernel delivers them.
  int busy[2], idle[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, busy), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, idle), 0);
  UniqueFd busy_a{busy[0]}, busy_b{busy[1]}, idle_a{idle[0]}, idle_b{idle[1]};
  std::uint8_t waiting_into[8];
  const UserData waiting{4, 0, 1, 0};
  ASSERT_TRUE(ring_.Recv(idle_b.get(), waiting_into, waiting));
  FullListener listener;  // a connect to it cannot complete
  UniqueFd client{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  const __kernel_timespec limit{0, 50'000'000};
  const UserData timeout_tag{2, 0, 7, 0};
  ASSERT_TRUE(ring_.Connect(client.get(), reinterpret_cast<const sockaddr*>(&listener.address),
                            sizeof(listener.address), limit, UserData{1, 0, 7, 0}, timeout_tag));
  ASSERT_GE(ring_.Submit(), 2);
  ASSERT_EQ(::send(idle_a.get(), "x", 1, 0), 1);
  bool received = false;
  bool timed_out = false;
  std::uint8_t busy_into[8];
  // Turns that each complete at once; the connect's 50 ms pass during them.
  for (int turn = 0; turn < 400 && !(received && timed_out); ++turn) {
    ASSERT_EQ(::send(busy_a.get(), "y", 1, 0), 1);
    ASSERT_TRUE(ring_.Recv(busy_b.get(), busy_into, UserData{5, 0, 2, 0}));
    __kernel_timespec wait{1, 0};
    (void)ring_.SubmitAndWait(1, &wait);
    ring_.ForEachCompletion([&](const io_uring_cqe& cqe) {
      received = received || cqe.user_data == waiting.Pack();
      timed_out = timed_out || (cqe.user_data == timeout_tag.Pack() && cqe.res == -ETIME);
    });
    if (turn >= 100) ::usleep(1000);  // past the connect's timeout for sure
  }
  EXPECT_TRUE(received) << "the waiting receive never completed";
  EXPECT_TRUE(timed_out) << "the connect's timeout never fired";
}

INSTANTIATE_ON_BOTH_BACKENDS(RingOps);

}  // namespace
}  // namespace ringdns::ring
