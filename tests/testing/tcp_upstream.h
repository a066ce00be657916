// tests/testing/tcp_upstream.h: a DNS-over-TCP upstream on loopback whose faults a test
// scripts: every answer after a fixed delay (a slow server, with many queries pipelined),
// and connections that go silent after some answers (a peer that vanished without FIN
// or RST). It also holds the UDP port of the same number, to count any datagram that
// reaches a server configured TCP-only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "testing/hex.h"

namespace ringdns::testing {

class TcpUpstream {
 public:
  struct Options {
    std::chrono::milliseconds delay{0};  // each answer leaves this long after its query
    int answers_per_connection = 0;      // then the connection goes silent; 0: no limit
    std::uint32_t ttl = 300;             // of the A record in each answer
  };
  explicit TcpUpstream(Options options);
  ~TcpUpstream();
  TcpUpstream(const TcpUpstream&) = delete;
  TcpUpstream& operator=(const TcpUpstream&) = delete;

  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  int queries() const { return queries_.load(); }
  int answers() const { return answers_.load(); }
  // Datagrams that arrived on the UDP port of the same number.
  int udp_datagrams() const { return udp_datagrams_.load(); }

 private:
  void Serve();

  Options options_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  int udp_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> queries_{0};
  std::atomic<int> answers_{0};
  std::atomic<int> udp_datagrams_{0};
  std::thread thread_;
};

// The answer TcpUpstream gives: the query with QR set and one A record 192.0.2.1 with
// `ttl`.
Bytes AnswerWithTtl(const Bytes& query, std::uint32_t ttl);

}  // namespace ringdns::testing
