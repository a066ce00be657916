#include "core/probe_exchange.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/net.h"
#include "wire/bytes.h"
#include "wire/patch.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

// A probe waits for its answer this long at most (less when the forward's read_timeout is
// shorter).
constexpr std::int64_t kProbeTimeoutMs = 1000;

bool WouldBlock() { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

}  // namespace

bool ProbeExchange::Matches(std::span<const std::uint8_t> answer) const noexcept {
  return wire::MatchAnswer(answer, id_, wire::opcode::kQuery, question_) == wire::Error::kOk;
}

bool ProbeExchange::Start(const ForwardRoute& f, std::uint8_t upstream, std::uint16_t probe_id,
                          std::int64_t now_ms) {
  id_ = probe_id;
  question_ = wire::Question{f.probe_name.view(), f.probe_type, 1};
  const wire::Result<std::size_t> len =
      wire::BuildQuery({id_, static_cast<std::uint16_t>(f.probe_rd ? wire::flag::kRd : 0),
                        f.probe_name.view(), f.probe_type, 1, false, false},
                       {b_->query + 2, 512});
  if (!len) return false;
  query_len_ = *len;
  deadline_ms_ = now_ms + std::min<std::int64_t>(f.read_timeout_ms, kProbeTimeoutMs);
  stream_ = f.force_tcp;  // set for tls:// forwards too
  const SockAddr& to = f.upstreams[upstream];
  fd_.Reset(::socket(to.family(),
                     (stream_ ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd_.valid()) return false;
  // A connected UDP socket takes datagrams from the upstream's address and port only: the
  // kernel checks an answer's source, and the port it picks for us is random.
  if (::connect(fd_.get(), to.get(), to.len) != 0 && errno != EINPROGRESS) return false;
  if (!stream_) {
    return ::send(fd_.get(), b_->query + 2, query_len_, 0) == static_cast<ssize_t>(query_len_);
  }
  connecting_ = true;
  wire::StoreU16(b_->query, static_cast<std::uint16_t>(query_len_));
  if (f.tls != nullptr) return tls_.Connect(f.tls, f.tls_names[upstream], nullptr);
  std::memcpy(b_->out, b_->query, query_len_ + 2);
  out_end_ = query_len_ + 2;
  return true;
}

short ProbeExchange::events() const noexcept {
  if (connecting_) return POLLOUT;
  short events = cipher_len_ < sizeof(b_->cipher) ? POLLIN : 0;
  if (out_begin_ != out_end_ || (tls_.active() && tls_.ciphertext_pending())) events |= POLLOUT;
  return events;
}

ProbeExchange::Outcome ProbeExchange::OnReady(short revents) {
  if ((revents & POLLNVAL) != 0) return Outcome::kFailed;
  if (connecting_) {
    int error = 0;
    socklen_t error_len = sizeof(error);
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &error_len) != 0 || error != 0) {
      return Outcome::kFailed;
    }
    connecting_ = false;
  }
  if (!stream_) return ReadDatagrams();
  return tls_.active() ? DriveTls(revents) : DriveTcp(revents);
}

ProbeExchange::Outcome ProbeExchange::ReadDatagrams() {
  while (true) {
    const ssize_t n = ::recv(fd_.get(), b_->in, sizeof(b_->in), 0);
    // An error is the upstream's ICMP (port unreachable, ECONNREFUSED): it is not serving.
    if (n < 0) return WouldBlock() ? Outcome::kPending : Outcome::kFailed;
    if (Matches({b_->in, static_cast<std::size_t>(n)})) return Outcome::kAnswered;
    // Not an answer to this probe (forged, or garbled): wait on for the real one.
  }
}

ssize_t ProbeExchange::ReadSome(std::uint8_t* dst, std::size_t cap) {
  const ssize_t n = ::recv(fd_.get(), dst, cap, 0);
  if (n > 0) return n;
  return n < 0 && WouldBlock() ? 0 : -1;
}

ssize_t ProbeExchange::Flush() {
  ssize_t sent = 0;
  while (true) {
    if (out_begin_ == out_end_) {
      out_begin_ = 0;
      out_end_ = tls_.active() ? tls_.TakeCiphertext(b_->out) : 0;
      if (out_end_ == 0) return sent;
    }
    const ssize_t n = ::send(fd_.get(), b_->out + out_begin_, out_end_ - out_begin_, MSG_NOSIGNAL);
    if (n < 0) return WouldBlock() ? sent : -1;
    out_begin_ += static_cast<std::size_t>(n);
    sent += n;
  }
}

bool ProbeExchange::TakeFramed() {
  while (in_len_ >= 2) {
    const std::size_t size = 2 + std::size_t{wire::LoadU16(b_->in)};
    if (in_len_ < size) return false;
    if (Matches({b_->in + 2, size - 2})) return true;
    std::memmove(b_->in, b_->in + size, in_len_ - size);
    in_len_ -= size;
  }
  return false;
}

ProbeExchange::Outcome ProbeExchange::DriveTcp(short revents) {
  if (Flush() < 0) return Outcome::kFailed;
  if ((revents & (POLLIN | POLLERR | POLLHUP)) == 0) return Outcome::kPending;
  while (true) {
    // TakeFramed leaves less than a whole frame, so there is always room.
    const ssize_t n = ReadSome(b_->in + in_len_, sizeof(b_->in) - in_len_);
    if (n < 0) return Outcome::kFailed;  // closed, or reset, before answering
    if (n == 0) return Outcome::kPending;
    in_len_ += static_cast<std::size_t>(n);
    if (TakeFramed()) return Outcome::kAnswered;
  }
}

ProbeExchange::Outcome ProbeExchange::DriveTls(short revents) {
  bool closed = false;
  if ((revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
    while (cipher_len_ < sizeof(b_->cipher)) {
      const ssize_t n = ReadSome(b_->cipher + cipher_len_, sizeof(b_->cipher) - cipher_len_);
      if (n < 0) closed = true;
      if (n <= 0) break;
      cipher_len_ += static_cast<std::size_t>(n);
    }
  }
  // The session moves on only as far as its input and output allow: feed it, advance
  // it, send what it wrote, until none of those makes progress.
  for (bool progress = true; progress;) {
    progress = false;
    if (cipher_len_ > 0) {
      const std::size_t taken = tls_.Feed({b_->cipher, cipher_len_});
      std::memmove(b_->cipher, b_->cipher + taken, cipher_len_ - taken);
      cipher_len_ -= taken;
      progress = taken > 0;
    }
    std::size_t got = 0;
    TlsSession::Step step;
    if (tls_.handshaking()) {
      step = tls_.Advance({}, got);
    } else {
      if (!query_written_) {
        if (tls_.Write({b_->query, query_len_ + 2}) != query_len_ + 2) return Outcome::kFailed;
        query_written_ = true;
      }
      step = tls_.Advance({b_->in + in_len_, sizeof(b_->in) - in_len_}, got);
      in_len_ += got;
      if (got > 0 && TakeFramed()) return Outcome::kAnswered;
    }
    if (step == TlsSession::Step::kProgress) {
      progress = true;
    } else if (step != TlsSession::Step::kWant) {
      return Outcome::kFailed;  // a failed handshake, or closed before answering
    }
    const ssize_t sent = Flush();
    if (sent < 0) return Outcome::kFailed;
    progress = progress || sent > 0;
  }
  return closed ? Outcome::kFailed : Outcome::kPending;
}

}  // namespace ringdns::core
