// A block without `bind` listens on the wildcard address. Every answer, whether
// forwarded, from the cache or written by ringdns itself, must leave from the address
// the client asked: a connected client (dig, glibc, any stub) drops answers from
// anywhere else. Found in the two-cluster test, where the ringdns pod has several
// addresses. Run in a private network namespace, where all of 127.0.0.0/8 is this
// host's: the client asks 127.0.0.2 or 127.0.0.3 from 127.0.0.1, and ::1 over IPv6.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/netns.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

// A stub resolver's socket, connected to one address of ringdns's.
class ConnectedClient {
 public:
  ConnectedClient(const char* address, std::uint16_t port) {
    sockaddr_storage to{};
    socklen_t len = 0;
    if (auto* in = reinterpret_cast<sockaddr_in*>(&to);
        ::inet_pton(AF_INET, address, &in->sin_addr) == 1) {
      in->sin_family = AF_INET;
      in->sin_port = htons(port);
      len = sizeof(sockaddr_in);
    } else {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&to);
      ::inet_pton(AF_INET6, address, &in6->sin6_addr);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(port);
      len = sizeof(sockaddr_in6);
    }
    fd_ = ::socket(to.ss_family, SOCK_DGRAM, 0);
    ::connect(fd_, reinterpret_cast<sockaddr*>(&to), len);
  }
  ~ConnectedClient() { ::close(fd_); }

  // The answer's rcode, or -1 when none arrived within a second.
  int Ask(const Bytes& query) {
    ::send(fd_, query.data(), query.size(), 0);
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return -1;
    std::uint8_t buffer[1500];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) return -1;
    const wire::Result<wire::ResponseInfo> info =
        wire::WalkResponse({buffer, static_cast<std::size_t>(n)});
    return info ? info->rcode : -1;
  }

 private:
  int fd_ = -1;
};

Bytes Query(const char* qname) {
  return MessageBuilder(0x4242, wire::flag::kRd).Question(qname, wire::rrtype::kA).bytes();
}

TEST(WildcardListener, AnswersLeaveFromTheAddressTheClientAsked) {
  if (!EnterPrivateNetwork())
    GTEST_SKIP() << "needs CAP_SYS_ADMIN for a network namespace of its own";
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(
      "example.:{PORT} {\n cache 30\n forward . 127.0.0.1:" + std::to_string(up.port()) + "\n}\n",
      2);
  for (const char* asked : {"127.0.0.2", "127.0.0.3", "::1"}) {
    SCOPED_TRACE(asked);
    ConnectedClient client(asked, fwd.port());
    const std::string name =
        std::string("host-") + (asked[0] == ':' ? "v6" : asked + 8) + ".example.";
    EXPECT_EQ(client.Ask(Query(name.c_str())), wire::rcode::kNoError) << "forwarded";
    EXPECT_EQ(client.Ask(Query(name.c_str())), wire::rcode::kNoError) << "from the cache";
    EXPECT_EQ(client.Ask(Query("elsewhere.org.")), wire::rcode::kRefused) << "written by ringdns";
  }
  EXPECT_EQ(up.queries(), 3);
}

}  // namespace
}  // namespace ringdns::testing
