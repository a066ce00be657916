#include "testing/tcp_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <vector>

#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"

namespace ringdns::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
  int fd = -1;
  int id = 0;
  Bytes in;
  int answered = 0;
};

struct Due {
  Clock::time_point at;
  int connection;  // Connection::id: a closed connection's fd number may come back
  Bytes framed;
};

}  // namespace

Bytes AnswerWithTtl(const Bytes& query, std::uint32_t ttl) {
  Bytes out = EchoAnswer(query);
  // EchoAnswer's record ends with TTL (4), RDLENGTH (2) and the address (4).
  wire::StoreU32(out.data() + out.size() - 10, ttl);
  return out;
}

TcpUpstream::TcpUpstream(Options options) : options_(options) {
  listener_ = ListenOnLoopback(port_);
  ::listen(listener_, 512);
  udp_ = BoundSocket(port_);
  thread_ = std::thread([this] { Serve(); });
}

TcpUpstream::~TcpUpstream() {
  stop_.store(true);
  thread_.join();
  ::close(listener_);
  ::close(udp_);
}

void TcpUpstream::Serve() {
  std::vector<Connection> conns;
  std::deque<Due> due;  // in order: every answer waits the same delay
  while (!stop_.load()) {
    std::vector<pollfd> fds{{listener_, POLLIN, 0}, {udp_, POLLIN, 0}};
    for (const Connection& c : conns) fds.push_back({c.fd, POLLIN, 0});
    int wait_ms = 10;
    if (!due.empty()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(due.front().at - Clock::now());
      wait_ms = std::max(0, std::min<int>(wait_ms, static_cast<int>(left.count())));
    }
    ::poll(fds.data(), fds.size(), wait_ms);
    if ((fds[0].revents & POLLIN) != 0) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        conns.push_back({fd, connections_.fetch_add(1), {}, 0});
      }
    }
    if ((fds[1].revents & POLLIN) != 0) {
      std::uint8_t buf[1500];
      if (::recv(udp_, buf, sizeof(buf), 0) >= 0) udp_datagrams_.fetch_add(1);
    }
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Connection& c = conns[i - 2];
      if (!ReceiveMore(c.fd, c.in)) continue;
      while (const std::optional<Bytes> frame = TakeFrame(c.in)) {
        const Bytes& query = *frame;
        queries_.fetch_add(1);
        // Silent from here on: the query is read (the kernel acknowledges it) and
        // never answered, and the connection stays open.
        if (options_.answers_per_connection > 0 && c.answered >= options_.answers_per_connection)
          continue;
        ++c.answered;
        due.push_back(
            {Clock::now() + options_.delay, c.id, Framed(AnswerWithTtl(query, options_.ttl))});
      }
    }
    std::erase_if(conns, [](const Connection& c) { return c.fd < 0; });
    while (!due.empty() && due.front().at <= Clock::now()) {
      const Due& d = due.front();
      for (const Connection& c : conns) {
        // Never blocks: a forwarder that stops reading must not hang the test.
        if (c.id == d.connection &&
            ::send(c.fd, d.framed.data(), d.framed.size(), MSG_NOSIGNAL | MSG_DONTWAIT) ==
                static_cast<ssize_t>(d.framed.size())) {
          answers_.fetch_add(1);
        }
      }
      due.pop_front();
    }
  }
  for (const Connection& c : conns) ::close(c.fd);
}

}  // namespace ringdns::testing
