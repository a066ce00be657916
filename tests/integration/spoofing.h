// tests/integration/spoofing.h: an off-path forger's view of ringdns, for the spoofing
// tests: an upstream that receives queries and answers only when told (so a test can
// forge with the right port and ID), the victim's question, forged and genuine answers,
// and a stub client that takes only the answer to its own ID.
#pragma once

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <span>
#include <string>
#include <tuple>

#include "testing/message_builder.h"
#include "testing/tcp.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/name.h"

namespace ringdns::testing {

inline constexpr char kVictim[] = "victim.example.";
inline const Bytes kForgedAddress = {6, 6, 6, 6};

// An upstream that receives ringdns's queries and never answers them.
class SilentUpstream {
 public:
  // `tcp`: it listens for TCP on the same port number too, where ringdns asks a query
  // whose UDP answers it no longer trusts. kRefusingTcp: it holds the TCP port number
  // without listening, so every connection to it is refused.
  struct RefusingTcp {};
  static constexpr RefusingTcp kRefusingTcp{};
  explicit SilentUpstream(bool tcp = false)
      : SilentUpstream(tcp ? BoundUdpAndTcp() : std::pair<int, int>{BoundSocket(0), -1}, tcp) {}
  explicit SilentUpstream(RefusingTcp) : SilentUpstream(BoundUdpAndTcp(/*listen=*/false), false) {}
  ~SilentUpstream() {
    ::close(fd_);
    if (tcp_listener_ >= 0) ::close(tcp_listener_);
    if (tcp_refusing_ >= 0) ::close(tcp_refusing_);
    if (tcp_conn_ >= 0) ::close(tcp_conn_);
  }
  // The next query over TCP (one connection, one frame); empty when none comes in 3 s.
  Bytes ReceiveTcp() {
    pollfd p{tcp_listener_, POLLIN, 0};
    if (tcp_conn_ < 0 &&
        (::poll(&p, 1, 3000) <= 0 || (tcp_conn_ = ::accept(tcp_listener_, nullptr, nullptr)) < 0)) {
      return Bytes();
    }
    timeval tv{3, 0};
    ::setsockopt(tcp_conn_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::uint8_t len[2];
    if (::recv(tcp_conn_, len, 2, MSG_WAITALL) != 2) return Bytes();
    Bytes query(wire::LoadU16(len));
    if (::recv(tcp_conn_, query.data(), query.size(), MSG_WAITALL) !=
        static_cast<ssize_t>(query.size()))
      return Bytes();
    return query;
  }
  void SendTcp(const Bytes& msg) const {
    const Bytes framed = Framed(msg);
    ::send(tcp_conn_, framed.data(), framed.size(), MSG_NOSIGNAL);
  }
  int fd() const { return fd_; }
  std::uint16_t port() const { return port_; }
  // The next query ringdns sends for the victim's name (health probes for the root
  // are skipped), and where from; empty when none comes.
  Bytes Receive(sockaddr_in& from) const {
    const Bytes victim = WireName(kVictim);
    while (true) {
      std::uint8_t buf[512];
      socklen_t from_len = sizeof(from);
      const ssize_t n =
          ::recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) return Bytes();
      if (static_cast<std::size_t>(n) < wire::header::kSize + victim.size()) continue;
      const std::span<const std::uint8_t> name(buf + wire::header::kSize, victim.size());
      if (wire::NamesEqualIgnoreCase(name, victim)) return Bytes(buf, buf + n);
    }
  }
  void SendTo(const Bytes& msg, const sockaddr_in& to) const {
    ::sendto(fd_, msg.data(), msg.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  // `sockets`: the UDP one and the TCP one (-1: none), listening or refusing.
  SilentUpstream(std::pair<int, int> sockets, bool listening) : fd_(sockets.first) {
    (listening ? tcp_listener_ : tcp_refusing_) = sockets.second;
    port_ = PortOf(fd_);
    timeval tv{3, 0};  // Receive gives up rather than hang a test
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  int tcp_listener_ = -1;
  int tcp_refusing_ = -1;
  int tcp_conn_ = -1;
};

// The forged answer: the victim's question, one A record the attacker chose.
inline Bytes Forged(std::uint16_t id) {
  return MessageBuilder(id, 0x8180)
      .Question(kVictim, 1)
      .Answer(kVictim, 1, 86400, kForgedAddress)
      .bytes();
}

// The genuine answer to `query`, its spelling echoed.
inline const Bytes kGenuineAddress = {192, 0, 2, 1};
inline Bytes Genuine(const Bytes& query) {
  Bytes genuine = MessageBuilder(wire::LoadU16(query.data()), 0x8180)
                      .Question(kVictim, 1)
                      .Answer(kVictim, 1, 300, kGenuineAddress)
                      .bytes();
  EchoQuestionSpelling(query, genuine);
  return genuine;
}

// A forged answer to `query` with the right port and ID whose name has every letter in
// the other case: certainly not the spelling asked, and the same name ignoring case.
inline Bytes ForgedFolded(const Bytes& query) {
  Bytes forged = Forged(wire::LoadU16(query.data()));
  EchoQuestionSpelling(query, forged);
  for (std::size_t i = wire::header::kSize; forged[i] != 0; ++i) {
    if (std::isalpha(forged[i])) forged[i] ^= 0x20;
  }
  return forged;
}

inline bool IsGenuine(const std::optional<Bytes>& answer) {
  return answer && answer->size() >= 4 &&
         Bytes(answer->end() - 4, answer->end()) == kGenuineAddress;
}

inline bool IsSpelled(const Bytes& query) {
  const Bytes plain = WireName(kVictim);
  if (query.size() < wire::header::kSize + plain.size()) return false;
  return !std::equal(plain.begin(), plain.end(), query.begin() + wire::header::kSize);
}

inline bool IsForged(const std::optional<Bytes>& answer) {
  return answer && answer->size() >= 4 && Bytes(answer->end() - 4, answer->end()) == kForgedAddress;
}

// A stub resolver's socket, connected to ringdns: the kernel drops datagrams from any
// other source (the flood also lands on the client's own ephemeral port), and only an
// answer with the query's ID counts.
class StubClient {
 public:
  explicit StubClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    timeval tv{6, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~StubClient() { ::close(fd_); }
  void Ask(std::uint16_t id) {
    const Bytes query = MessageBuilder(id, 0x0100).Question(kVictim, 1).bytes();
    ::send(fd_, query.data(), query.size(), 0);
  }
  std::optional<Bytes> Answer(std::uint16_t id) {
    std::uint8_t buf[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n < 0) return std::nullopt;
      if (n >= 2 && wire::LoadU16(buf) == id) return Bytes(buf, buf + n);
    }
  }

 private:
  int fd_;
};

// One upstream, waited on for 4 s.
inline std::string WaitingCorefile(std::uint16_t upstream) {
  return ".:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" + std::to_string(upstream) +
         " {\n  read_timeout 4s\n }\n}\n";
}

}  // namespace ringdns::testing
