// FakeUpstream over TCP: the same answers on the TCP port of the same number, for the
// tests in which ringdns moves a query to TCP (after folded 0x20 answers). One thread
// polls the listener and every connection; each frame is answered as it completes.
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"

namespace ringdns::testing {

void FakeUpstream::ServeTcp() {
  struct Connection {
    int fd;
    Bytes in;
  };
  std::vector<Connection> connections;
  while (!stop_.load()) {
    std::vector<pollfd> polled{{tcp_listener_, POLLIN, 0}};
    for (const Connection& c : connections) polled.push_back({c.fd, POLLIN, 0});
    if (::poll(polled.data(), polled.size(), 20) <= 0) continue;
    if (polled[0].revents & POLLIN) {
      const int fd = ::accept4(tcp_listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) connections.push_back({fd, {}});
    }
    for (std::size_t i = 1; i < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      Connection& c = connections[i - 1];
      if (!ReceiveMore(c.fd, c.in)) continue;
      while (const std::optional<Bytes> query = TakeFrame(c.in)) {
        if (query->size() < 12) continue;
        ++tcp_queries_;
        const Behaviour b = behaviour_.load();
        const std::optional<Bytes> answer = AnswerTo(
            *query, b == Behaviour::kDrop || b == Behaviour::kFoldsCase ? b : Behaviour::kAnswer);
        if (!answer) continue;
        const Bytes framed = Framed(*answer);
        ::send(c.fd, framed.data(), framed.size(), MSG_NOSIGNAL);
      }
    }
    std::erase_if(connections, [](const Connection& c) { return c.fd < 0; });
  }
  for (const Connection& c : connections) ::close(c.fd);
}

}  // namespace ringdns::testing
