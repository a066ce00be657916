// tests/testing/tcp.h: a blocking DNS-over-TCP test client on loopback: raw writes (to
// split or merge length prefixes at will), framed messages, and reads with a timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "testing/hex.h"

namespace ringdns::testing {

// A TCP socket listening on 127.0.0.1 at a kernel-chosen port, stored in `port`.
int ListenOnLoopback(std::uint16_t& port);

// A TCP socket listening on 127.0.0.1:port, or -1.
int ListenOnLoopbackAt(std::uint16_t port);

// `msg` with its two-octet length prefix (RFC 1035 section 4.2.2).
Bytes Framed(const Bytes& msg);

// Takes the first whole framed message off the front of `in` (a stream's bytes so
// far); nullopt while it is incomplete.
std::optional<Bytes> TakeFrame(Bytes& in);

// Appends what one recv on `fd` returns to `in`; false at EOF or on an error, when
// `fd` is closed and set to -1 (a test server's connection that is gone).
bool ReceiveMore(int& fd, Bytes& in);

class TcpClient {
 public:
  // Connects to 127.0.0.1:port; `receive_buffer` > 0 shrinks SO_RCVBUF first (a slow
  // reader whose window fills quickly).
  explicit TcpClient(std::uint16_t port, int receive_buffer = 0);
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  // Writes exactly these bytes; false if the connection is gone.
  bool Write(const Bytes& raw);
  bool Send(const Bytes& msg) { return Write(Framed(msg)); }
  // Writes what the socket takes without blocking; returns how many octets (0 when full).
  std::size_t WriteSome(const Bytes& raw);
  // The next framed message; nullopt on timeout or when the peer closed.
  std::optional<Bytes> Receive(std::chrono::milliseconds timeout);
  // Waits for the peer to close the connection (EOF or reset); true if it did in time.
  bool WaitClosed(std::chrono::milliseconds timeout);

 private:
  bool ReadExactly(std::uint8_t* out, std::size_t len, std::chrono::steady_clock::time_point until);

  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace ringdns::testing
