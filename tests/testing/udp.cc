#include "testing/udp.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <span>
#include <tuple>

#include "testing/tcp.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/name.h"

namespace ringdns::testing {
namespace {

sockaddr_in Loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A TCP socket bound to a free 127.0.0.1 port, not listening: connections to it are
// refused. -1 when none could be bound.
int BoundTcpOnLoopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Loopback(0);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  port = PortOf(fd);
  return fd;
}

}  // namespace

int BoundSocket(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Loopback(port);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    std::perror("bind");
    std::abort();
  }
  return fd;
}

std::uint16_t PortOf(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

std::pair<int, int> BoundUdpAndTcp(bool listen) {
  // The TCP port first: parallel tests' connections take TCP ephemeral ports, so a free
  // UDP port's TCP twin is the one more likely taken.
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::uint16_t port = 0;
    const int tcp = listen ? ListenOnLoopback(port) : BoundTcpOnLoopback(port);
    const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(port);
    if (tcp >= 0 && port != 0 && ::bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0)
      return {udp, tcp};
    ::close(udp);
    if (tcp >= 0) ::close(tcp);
  }
  std::fprintf(stderr, "no 127.0.0.1 port free for both UDP and TCP\n");
  std::abort();
}

std::uint16_t FreeUdpPort() {
  // At random below the kernel's ephemeral range, where bind(0) and connect never hand a
  // port out: one from bind(0) could be taken by another socket before the test binds it
  // (ringdns's upstream sockets take hundreds of ephemeral ports and keep replacing
  // them), and random so that tests running in parallel seldom pick the same. Free for
  // TCP as well: ringdns listens on both.
  int low = 32768;
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    int high = 0;
    if (std::fscanf(f, "%d %d", &low, &high) != 2) low = 32768;
    std::fclose(f);
  }
  static std::mt19937 random{std::random_device{}()};
  static std::mutex mu;
  for (int attempt = 0; attempt < 200; ++attempt) {
    std::uint16_t port = 0;
    if (low > 11000) {
      std::lock_guard<std::mutex> lock(mu);
      port = static_cast<std::uint16_t>(10000 + random() % static_cast<unsigned>(low - 10000));
    }
    const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(port);
    const bool udp_free = ::bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    if (port == 0) port = PortOf(udp);  // an ephemeral range reaching down: the kernel's choice
    const int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a = Loopback(port);
    const bool tcp_free = udp_free && ::bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(tcp);
    ::close(udp);
    if (tcp_free) return port;
  }
  return 0;
}

UdpClient::UdpClient() : fd_(BoundSocket(0)) {}
UdpClient::~UdpClient() { ::close(fd_); }

void UdpClient::SendTo(std::uint16_t port, const Bytes& msg) {
  sockaddr_in a = Loopback(port);
  ::sendto(fd_, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
}

std::optional<Bytes> UdpClient::Receive(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  Bytes buf(65535);
  const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

int UdpClient::Exchange(std::uint16_t port, const std::uint8_t* msg, std::size_t len,
                        std::uint8_t* out, std::size_t out_cap, int timeout_ms) {
  sockaddr_in a = Loopback(port);
  ::sendto(fd_, msg, len, 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return -1;
  return static_cast<int>(::recv(fd_, out, out_cap, 0));
}

Bytes EchoAnswer(const Bytes& query) {
  const wire::Result<wire::QueryView> q = wire::ParseQuestion(query);
  Bytes out(query.begin(), query.begin() + (q ? q->question_end : 12));
  wire::StoreU16(out.data() + wire::header::kFlags,
                 static_cast<std::uint16_t>(wire::LoadU16(out.data() + 2) | wire::flag::kQr |
                                            wire::flag::kAa));
  wire::StoreU16(out.data() + wire::header::kAnCount, 1);
  wire::StoreU16(out.data() + wire::header::kNsCount, 0);
  wire::StoreU16(out.data() + wire::header::kArCount, 0);
  const Bytes record = Hex("c00c 0001 0001 0000003c 0004 c0000201");
  out.insert(out.end(), record.begin(), record.end());
  return out;
}

FakeUpstream::FakeUpstream(Behaviour behaviour, AnswerFn answer, std::chrono::milliseconds delay,
                           Transports transports)
    : other_fd_(BoundSocket(0)),
      behaviour_(behaviour),
      answer_(answer ? std::move(answer) : AnswerFn(EchoAnswer)),
      delay_(delay) {
  if (transports == Transports::kUdpAndTcp) {
    std::tie(fd_, tcp_listener_) = BoundUdpAndTcp();
  } else {
    fd_ = BoundSocket(0);
  }
  port_ = PortOf(fd_);
  thread_ = std::thread([this] { Serve(); });
  if (tcp_listener_ >= 0) tcp_thread_ = std::thread([this] { ServeTcp(); });
}

FakeUpstream::~FakeUpstream() {
  stop_.store(true);
  thread_.join();
  if (tcp_thread_.joinable()) tcp_thread_.join();
  ::close(fd_);
  ::close(other_fd_);
  if (tcp_listener_ >= 0) ::close(tcp_listener_);
}

std::vector<std::uint16_t> FakeUpstream::ids() const {
  std::lock_guard<std::mutex> lock(ids_mutex_);
  return ids_;
}

std::vector<std::uint16_t> FakeUpstream::source_ports() const {
  std::lock_guard<std::mutex> lock(ids_mutex_);
  return ports_;
}

void EchoQuestionSpelling(const Bytes& query, Bytes& answer) {
  const wire::Result<std::size_t> q = wire::ScanUncompressedName(query, wire::header::kSize);
  const wire::Result<std::size_t> a = wire::ScanUncompressedName(answer, wire::header::kSize);
  if (!q || !a || *q != *a) return;
  const std::span<const std::uint8_t> asked(query.data() + wire::header::kSize, *q);
  const std::span<std::uint8_t> echoed(answer.data() + wire::header::kSize, *a);
  if (!wire::NamesEqualIgnoreCase(asked, echoed)) return;
  std::copy(asked.begin(), asked.end(), echoed.begin());
}

std::optional<Bytes> FakeUpstream::AnswerTo(const Bytes& query, Behaviour behaviour) const {
  Bytes answer = answer_(query);  // called for every query: recorders see dropped ones too
  if (behaviour == Behaviour::kDrop) return std::nullopt;
  wire::StoreU16(answer.data(), wire::LoadU16(query.data()));  // the answer carries the query's ID
  EchoQuestionSpelling(query, answer);
  switch (behaviour) {
    case Behaviour::kOtherQuestion:
      // Flip a letter of the first label: same length, different name.
      if (answer.size() > 13) answer[13] = answer[13] == 'z' ? 'y' : 'z';
      break;
    case Behaviour::kFoldsCase: {
      const std::size_t end =
          std::min<std::size_t>(answer.size(), wire::header::kSize + wire::kMaxNameLen);
      for (std::size_t i = wire::header::kSize; i < end && answer[i] != 0; ++i) {
        answer[i] = wire::ToLowerAscii(answer[i]);
      }
      break;
    }
    case Behaviour::kMalformed:
      answer.resize(answer.size() - 2);  // the last record's RDATA now overruns
      break;
    default: break;
  }
  return answer;
}

void FakeUpstream::Serve() {
  std::uint8_t buf[65535];
  while (!stop_.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    sockaddr_storage from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n =
        ::recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 12) continue;
    ++queries_;
    const Bytes query(buf, buf + n);
    {
      std::lock_guard<std::mutex> lock(ids_mutex_);
      ids_.push_back(wire::LoadU16(buf));
      ports_.push_back(ntohs(reinterpret_cast<const sockaddr_in*>(&from)->sin_port));
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    const Behaviour behaviour = behaviour_.load();
    std::optional<Bytes> reply = AnswerTo(query, behaviour);
    if (!reply) continue;
    Bytes& answer = *reply;
    int fd = fd_;
    switch (behaviour) {
      case Behaviour::kWrongId:
        wire::StoreU16(answer.data(), static_cast<std::uint16_t>(wire::LoadU16(buf) + 1));
        break;
      case Behaviour::kWrongPort: fd = other_fd_; break;
      case Behaviour::kTwice:
        ::sendto(fd, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
        break;
      default: break;
    }
    ::sendto(fd, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
}

}  // namespace ringdns::testing
