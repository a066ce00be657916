// tests/testing/udp.h: loopback UDP helpers for integration tests: a blocking client
// socket with a receive timeout, a free-port finder, and an in-process fake upstream
// whose misbehaviour a test chooses.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "testing/hex.h"

namespace ringdns::testing {

// A port on 127.0.0.1 that was free for both UDP and TCP a moment ago, below the
// ephemeral range (where no other socket is handed it meanwhile).
std::uint16_t FreeUdpPort();
// A UDP socket bound to 127.0.0.1:port (0: any free port); aborts when it cannot bind.
int BoundSocket(std::uint16_t port);
// The local port a socket is bound to.
std::uint16_t PortOf(int fd);
// A UDP socket and a listening TCP socket on one 127.0.0.1 port (a DNS server's pair);
// aborts when none can be had in 100 tries. `listen` false: the TCP socket is bound and
// not listening, so the port number is held and every connection to it refused.
std::pair<int, int> BoundUdpAndTcp(bool listen = true);

class UdpClient {
 public:
  UdpClient();
  ~UdpClient();
  void SendTo(std::uint16_t port, const Bytes& msg);
  // Waits up to `timeout` for one datagram; nullopt on timeout.
  std::optional<Bytes> Receive(std::chrono::milliseconds timeout);
  // Sends and receives into caller-owned storage without allocating (for the
  // allocation test). Returns the length received, or -1 on timeout.
  int Exchange(std::uint16_t port, const std::uint8_t* msg, std::size_t len, std::uint8_t* out,
               std::size_t out_cap, int timeout_ms);
  int fd() const { return fd_; }

 private:
  int fd_;
};

// What a FakeUpstream does with each query.
enum class Behaviour {
  kAnswer,         // a correct answer
  kDrop,           // nothing
  kWrongId,        // an answer with ID + 1
  kWrongPort,      // a correct answer, sent from another socket
  kOtherQuestion,  // an answer for a different name
  kTwice,          // the correct answer, twice
  kMalformed,      // an answer whose record overruns the message
  kFoldsCase,      // a correct answer whose question is lower-cased (no DNS 0x20 echo)
};

class FakeUpstream {
 public:
  // `answer(query) -> Bytes` builds the correct answer; defaults to the query echoed with
  // QR set and one A record 192.0.2.1 for the question. Like a real server, the answer
  // then carries the question spelled as the query spelled it (DNS 0x20).
  // kUdpAndTcp: it serves DNS over TCP on the same port number too
  // (tests/testing/fake_upstream_tcp.cc), without the delay: kDrop drops, kFoldsCase
  // folds, every other behaviour answers correctly.
  enum class Transports { kUdp, kUdpAndTcp };
  using AnswerFn = std::function<Bytes(const Bytes& query)>;
  explicit FakeUpstream(Behaviour behaviour, AnswerFn answer = nullptr,
                        std::chrono::milliseconds delay = std::chrono::milliseconds(0),
                        Transports transports = Transports::kUdp);
  ~FakeUpstream();

  std::uint16_t port() const { return port_; }
  int queries() const { return queries_.load(); }
  void set_behaviour(Behaviour b) { behaviour_.store(b); }
  int tcp_queries() const { return tcp_queries_.load(); }
  // The IDs of the queries received, in order (read after traffic stops).
  std::vector<std::uint16_t> ids() const;
  // The source ports they came from, in the same order.
  std::vector<std::uint16_t> source_ports() const;

 private:
  void Serve();
  void ServeTcp();
  // The answer to `query` as `behaviour` gives it, carrying its ID and spelling;
  // nullopt for kDrop. kTwice, kWrongPort and kWrongId are the sender's to apply.
  std::optional<Bytes> AnswerTo(const Bytes& query, Behaviour behaviour) const;

  int fd_ = -1;
  int other_fd_;
  int tcp_listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<Behaviour> behaviour_;
  AnswerFn answer_;
  std::chrono::milliseconds delay_;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  mutable std::mutex ids_mutex_;
  std::vector<std::uint16_t> ids_;
  std::vector<std::uint16_t> ports_;
  std::atomic<int> tcp_queries_{0};
  std::thread thread_;
  std::thread tcp_thread_;
};

// The default fake answer: the query with QR set and an A record 192.0.2.1.
Bytes EchoAnswer(const Bytes& query);

// Gives `answer`'s question the spelling of `query`'s when they name the same name, as
// a server that copies the question does (what DNS 0x20 relies on).
void EchoQuestionSpelling(const Bytes& query, Bytes& answer);

}  // namespace ringdns::testing
