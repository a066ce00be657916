// The question-steering program in the kernel: a group of SO_REUSEPORT sockets bound in
// order, the program attached, queries sent from fresh source ports. Each lands on the
// socket the C++ twin of the program names; spellings of one name land together; what the
// program cannot read is spread by the kernel's own hash.
#include "core/udp_steering.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "testing/message_builder.h"
#include "testing/netns.h"
#include "testing/udp.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kSockets = 4;
const core::SteeringKey kKey = core::SteeringKey::Random();

// kSockets UDP sockets on one 127.0.0.1 port, bound in index order, steered by question.
class SteeredGroup {
 public:
  explicit SteeredGroup(std::vector<std::uint32_t> spread = {}) {
    for (std::uint32_t i = 0; i < kSockets; ++i) {
      const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      const int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port_);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) std::abort();
      if (i == 0) port_ = PortOf(fd);
      fds_[i] = fd;
    }
    for (int fd : fds_) {
      const absl::Status steered = core::SteerByQuestion(fd, kSockets, kKey, spread);
      if (!steered.ok()) ADD_FAILURE() << steered;
    }
  }
  ~SteeredGroup() {
    for (int fd : fds_) ::close(fd);
  }
  std::uint16_t port() const { return port_; }

  // Sends `datagram` from a new source port; the index of the socket that received it.
  std::optional<std::uint32_t> Deliver(const Bytes& datagram) {
    UdpClient client;
    client.SendTo(port_, datagram);
    std::array<pollfd, kSockets> polls{};
    for (std::uint32_t i = 0; i < kSockets; ++i) polls[i] = {fds_[i], POLLIN, 0};
    if (::poll(polls.data(), polls.size(), 5000) <= 0) return std::nullopt;
    for (std::uint32_t i = 0; i < kSockets; ++i) {
      if ((polls[i].revents & POLLIN) == 0) continue;
      std::uint8_t buf[1500];
      if (::recv(fds_[i], buf, sizeof(buf), 0) >= 0) return i;
    }
    return std::nullopt;
  }

 private:
  std::array<int, kSockets> fds_{};
  std::uint16_t port_ = 0;
};

Bytes Query(const std::string& name, std::uint16_t id = 1) {
  return MessageBuilder(id, 0x0100).Question(name, 1).bytes();
}

TEST(UdpSteering, ProgramFitsTheKernelsLimit) {
  EXPECT_LE(core::QuestionSteeringProgram(16, kKey).size(), static_cast<std::size_t>(BPF_MAXINSNS));
}

TEST(UdpSteering, EachQuestionLandsOnTheSocketItsNameHashesTo) {
  SteeredGroup group;
  std::array<int, kSockets> per_socket{};
  for (int n = 0; n < 200; ++n) {
    const Bytes query = Query("host-" + std::to_string(n) + ".default.svc.cluster.local.",
                              static_cast<std::uint16_t>(n));
    const std::uint32_t expected = core::QuestionSteeringIndex(query, kSockets, kKey);
    ASSERT_LT(expected, kSockets);
    const std::optional<std::uint32_t> got = group.Deliver(query);
    ASSERT_TRUE(got.has_value()) << n;
    EXPECT_EQ(*got, expected) << "host-" << n;
    ++per_socket[*got];
  }
  // The names spread: each socket gets a fair part (50 expected, binomial sd ~6).
  for (int count : per_socket) EXPECT_GE(count, 20);
}

TEST(UdpSteering, EverySpellingOfANameLandsOnOneSocket) {
  SteeredGroup group;
  const std::vector<std::string> spellings = {
      "_couchbase._tcp.cb-example-srv.remote.svc.cluster.local.",
      "_COUCHBASE._TCP.CB-EXAMPLE-SRV.REMOTE.SVC.CLUSTER.LOCAL.",
      "_cOuChBaSe._TcP.cB-eXaMpLe-SrV.rEmOtE.sVc.ClUsTeR.lOcAl.",
  };
  std::set<std::uint32_t> sockets;
  for (int round = 0; round < 8; ++round) {
    for (const std::string& name : spellings) {
      const std::optional<std::uint32_t> got = group.Deliver(Query(name));
      ASSERT_TRUE(got.has_value());
      sockets.insert(*got);
    }
  }
  EXPECT_EQ(sockets.size(), 1u);
  // A/AAAA/SRV of one name go together too: only the name is hashed.
  const std::optional<std::uint32_t> srv =
      group.Deliver(MessageBuilder(9, 0x0100).Question(spellings[0], 33).bytes());
  ASSERT_TRUE(srv.has_value());
  EXPECT_EQ(*srv, *sockets.begin());
}

TEST(UdpSteering, WhatTheProgramCannotReadIsSpreadByTheKernel) {
  SteeredGroup group;
  const std::vector<Bytes> unreadable = {
      Bytes{0x12, 0x34, 0x01},  // shorter than a header
      Bytes(12, 0),             // a header, no question
      [] {
        Bytes b(12, 0);
        b.push_back(5);
        b.push_back('a');
        return b;
      }(),  // a name without its end
      [] {
        Bytes b(12, 0);
        b.insert(b.end(), 40, 'a');
        return b;
      }(),  // 40 octets, no end
  };
  for (const Bytes& datagram : unreadable) {
    ASSERT_EQ(core::QuestionSteeringIndex(datagram, kSockets, kKey), core::kSteerByKernel);
    // From 48 source ports the kernel's hash uses more than one socket (all on one:
    // probability 4 x 4^-48).
    std::set<std::uint32_t> sockets;
    for (int n = 0; n < 48; ++n) {
      const std::optional<std::uint32_t> got = group.Deliver(datagram);
      ASSERT_TRUE(got.has_value()) << "a datagram the program cannot read was lost";
      sockets.insert(*got);
    }
    EXPECT_GT(sockets.size(), 1u) << "datagram of " << datagram.size() << " octets";
  }
}

TEST(UdpSteering, ANameEndingAtTheDatagramsEndIsStillHashed) {
  Bytes bare(12, 0);
  const Bytes name = WireName("example.");
  bare.insert(bare.end(), name.begin(), name.end());
  const Bytes full = Query("EXAMPLE.");
  EXPECT_EQ(core::QuestionSteeringIndex(bare, kSockets, kKey),
            core::QuestionSteeringIndex(full, kSockets, kKey));
  SteeredGroup group;
  const std::optional<std::uint32_t> got = group.Deliver(bare);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, core::QuestionSteeringIndex(full, kSockets, kKey));
}

TEST(UdpSteering, SpreadNamesGoByTheKernelsHashOthersStillByQuestion) {
  const Bytes hot = Query("popular.default.svc.cluster.local.");
  const std::optional<std::uint32_t> hash = core::QuestionSteeringHash(hot, kKey);
  ASSERT_TRUE(hash.has_value());
  SteeredGroup group({0x12345678u, *hash});
  std::set<std::uint32_t> sockets;
  for (int n = 0; n < 48; ++n) {
    const std::optional<std::uint32_t> got = group.Deliver(hot);
    ASSERT_TRUE(got.has_value());
    sockets.insert(*got);
  }
  EXPECT_GT(sockets.size(), 1u) << "a spread name stayed on one socket";
  for (int n = 0; n < 32; ++n) {
    const Bytes query = Query("cold-" + std::to_string(n) + ".example.");
    const std::optional<std::uint32_t> got = group.Deliver(query);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, core::QuestionSteeringIndex(query, kSockets, kKey));
  }
}

TEST(UdpSteering, AProgramWithEverySpreadSlotFitsAndLoads) {
  std::vector<std::uint32_t> spread;
  for (std::uint32_t i = 0; i < core::kMaxSpreadNames + 3; ++i) spread.push_back(i * 7919u);
  EXPECT_LE(core::QuestionSteeringProgram(64, kKey, spread).size(),
            static_cast<std::size_t>(BPF_MAXINSNS));
  SteeredGroup group(spread);  // the kernel's checker accepts it (a failure is reported)
  const Bytes query = Query("www.example.");
  const std::optional<std::uint32_t> got = group.Deliver(query);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, core::QuestionSteeringIndex(query, kSockets, kKey, spread));
}

// A long name is hashed by its first 64 octets: still one shard for all its spellings,
// and names that differ only further on share it.
TEST(UdpSteering, LongNamesAreSteeredByTheirFirst64Octets) {
  const std::string prefix =
      "a-rather-long-label-for-a-service.and-its-namespace.svc.cluster.";  // 64 octets in wire form
  const Bytes one = Query(prefix + "local.");
  const Bytes other = Query(prefix + "example.");
  std::string upper = prefix;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const Bytes shouted = Query(upper + "LOCAL.");
  const std::uint32_t index = core::QuestionSteeringIndex(one, kSockets, kKey);
  ASSERT_NE(index, core::kSteerByKernel);
  EXPECT_EQ(core::QuestionSteeringIndex(other, kSockets, kKey), index);
  EXPECT_EQ(core::QuestionSteeringIndex(shouted, kSockets, kKey), index);
  SteeredGroup group;
  for (const Bytes* query : {&one, &other, &shouted}) {
    const std::optional<std::uint32_t> got = group.Deliver(*query);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, index);
  }
}

// The key keys the hash: another process (another key) puts names on other shards, and
// two names that share a shard under one key mostly do not under another.
TEST(UdpSteering, TheKeyDecidesWhichNamesShareAShard) {
  const core::SteeringKey other = core::SteeringKey::Random();
  int moved = 0;
  for (int n = 0; n < 64; ++n) {
    const Bytes query = Query("name-" + std::to_string(n) + ".example.");
    moved += core::QuestionSteeringIndex(query, kSockets, kKey) !=
                     core::QuestionSteeringIndex(query, kSockets, other)
                 ? 1
                 : 0;
  }
  EXPECT_GT(moved, 16);  // 48 expected
}

// Two names whose unkeyed hashes collide whatever the seed (found offline against the
// first version, which only seeded the start value) do not collide under random keys.
TEST(UdpSteering, ACollisionFoundOfflineDoesNotHoldUnderTheKey) {
  const Bytes a = Query("hl1fph4dsg.example.");
  const Bytes b = Query("sub2dgbr84.example.");
  core::SteeringKey unkeyed;  // the fixed multiplier and no mask, as before
  EXPECT_EQ(core::QuestionSteeringHash(a, unkeyed), core::QuestionSteeringHash(b, unkeyed));
  int collisions = 0;
  for (int n = 0; n < 100; ++n) {
    const core::SteeringKey key = core::SteeringKey::Random();
    collisions += core::QuestionSteeringHash(a, key) == core::QuestionSteeringHash(b, key) ? 1 : 0;
  }
  EXPECT_EQ(collisions, 0);
}

// Before Linux 6.9 net.core.optmem_max defaults to 20 480 octets and the kernel refuses a
// reuseport program whose eBPF form is larger. Since 6.9 it is per network namespace,
// so a namespace of the test's own can have the old default.
TEST(UdpSteering, AttachesUnderTheOldDefaultOptmemMax) {
  // Before 6.9 a new namespace has no optmem_max of its own to open: skipped, and the
  // host's is never touched.
  if (!EnterPrivateNetwork() || !SetOptmemMax("20480")) {
    GTEST_SKIP() << "no network namespace with its own optmem_max here (Linux < 6.9)";
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::vector<std::uint32_t> spread(core::kMaxSpreadNames, 1);
  const absl::Status attached = core::SteerByQuestion(fd, 64, kKey, spread);
  ::close(fd);
  EXPECT_TRUE(attached.ok()) << attached;
}

}  // namespace
}  // namespace ringdns::testing
