#include "core/prober.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>

#include "core/net.h"
#include "core/random.h"
#include "core/tls_session.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/patch.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

// Shards mark upstreams down without telling the prober, so it looks at the health table
// this often. It is also the least time between two probes of one upstream, so that
// `health_check 0` or an upstream that refuses at once cannot make the prober spin.
constexpr std::int64_t kTickMs = 50;
// A probe waits for its answer this long at most (less when the forward's read_timeout is
// shorter).
constexpr std::int64_t kProbeTimeoutMs = 1000;

std::int64_t NowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

bool WouldBlock() { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

}  // namespace

// One probe in flight, driven by poll() readiness: a state machine over a non-blocking
// socket, so that no step ever waits and the prober can watch every probe at once.
class Prober::Exchange {
 public:
  enum class Outcome : std::uint8_t { kPending, kAnswered, kFailed };

  // Opens the socket and sends (UDP) or queues (TCP, TLS) the probe; false when that
  // already failed.
  bool Start(const ForwardRoute& f, std::uint8_t upstream, std::uint16_t probe_id,
             std::int64_t now);
  // What to poll for.
  short events() const noexcept;
  // Moves the probe on after poll() reported `revents` on its socket.
  Outcome OnReady(short revents);

  ring::UniqueFd fd;
  std::int64_t deadline_ms = 0;

 private:
  // The answer must carry the probe's ID, opcode and question (RFC 5452 section 9.1).
  // Any RCODE will do: an answer shows the upstream is serving (CoreDNS's rule).
  bool Matches(std::span<const std::uint8_t> answer) const noexcept {
    return wire::MatchAnswer(answer, id_, wire::opcode::kQuery, question_) == wire::Error::kOk;
  }
  Outcome ReadDatagrams();
  Outcome DriveTcp(short revents);
  Outcome DriveTls(short revents);
  // Takes each complete framed message in in_; true once one answers the probe.
  bool TakeFramed();
  // recv into [dst, dst + cap): octets read, 0 when none are waiting, -1 on EOF or error.
  ssize_t ReadSome(std::uint8_t* dst, std::size_t cap);
  // Sends what waits in out_, refilled from the TLS session: octets sent, or -1 on error.
  ssize_t Flush();

  std::uint16_t id_ = 0;
  wire::Question question_;     // points into the forward's probe_name, which outlives us
  bool stream_ = false;         // TCP or TLS: messages carry a length prefix
  bool connecting_ = false;     // a stream's connect() has not completed yet
  TlsSession tls_;              // active for tls:// upstreams only
  bool query_written_ = false;  // TLS: the query went into the session
  // The probe with room for its length prefix in front (UDP sends from query_ + 2).
  std::uint8_t query_[2 + 512];
  std::size_t query_len_ = 0;  // the message's, without the prefix
  // Octets waiting for the socket: the framed query (TCP) or ciphertext (TLS).
  std::uint8_t out_[17 * 1024];
  std::size_t out_begin_ = 0;
  std::size_t out_end_ = 0;
  // TLS: ciphertext read from the socket that the session has not taken yet.
  std::uint8_t cipher_[17 * 1024];
  std::size_t cipher_len_ = 0;
  // A datagram, or a stream's framed messages as they arrive; one whole frame always fits.
  std::uint8_t in_[2 + 65535];
  std::size_t in_len_ = 0;
};

bool Prober::Exchange::Start(const ForwardRoute& f, std::uint8_t upstream, std::uint16_t probe_id,
                             std::int64_t now) {
  id_ = probe_id;
  question_ = wire::Question{f.probe_name.view(), f.probe_type, 1};
  const wire::Result<std::size_t> len =
      wire::BuildQuery({id_, static_cast<std::uint16_t>(f.probe_rd ? wire::flag::kRd : 0),
                        f.probe_name.view(), f.probe_type, 1, false, false},
                       {query_ + 2, 512});
  if (!len) return false;
  query_len_ = *len;
  deadline_ms = now + std::min<std::int64_t>(f.read_timeout_ms, kProbeTimeoutMs);
  stream_ = f.force_tcp;  // set for tls:// forwards too
  const SockAddr& to = f.upstreams[upstream];
  fd.Reset(::socket(to.family(),
                    (stream_ ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return false;
  // A connected UDP socket takes datagrams from the upstream's address and port only: the
  // kernel checks an answer's source, and the port it picks for us is random.
  if (::connect(fd.get(), to.get(), to.len) != 0 && errno != EINPROGRESS) return false;
  if (!stream_) {
    return ::send(fd.get(), query_ + 2, query_len_, 0) == static_cast<ssize_t>(query_len_);
  }
  connecting_ = true;
  wire::StoreU16(query_, static_cast<std::uint16_t>(query_len_));
  if (f.tls != nullptr) return tls_.Connect(f.tls, f.tls_names[upstream], nullptr);
  std::memcpy(out_, query_, query_len_ + 2);
  out_end_ = query_len_ + 2;
  return true;
}

short Prober::Exchange::events() const noexcept {
  if (connecting_) return POLLOUT;
  short events = cipher_len_ < sizeof(cipher_) ? POLLIN : 0;
  if (out_begin_ != out_end_ || (tls_.active() && tls_.ciphertext_pending())) events |= POLLOUT;
  return events;
}

Prober::Exchange::Outcome Prober::Exchange::OnReady(short revents) {
  if ((revents & POLLNVAL) != 0) return Outcome::kFailed;
  if (connecting_) {
    int error = 0;
    socklen_t error_len = sizeof(error);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &error_len) != 0 || error != 0) {
      return Outcome::kFailed;
    }
    connecting_ = false;
  }
  if (!stream_) return ReadDatagrams();
  return tls_.active() ? DriveTls(revents) : DriveTcp(revents);
}

Prober::Exchange::Outcome Prober::Exchange::ReadDatagrams() {
  while (true) {
    const ssize_t n = ::recv(fd.get(), in_, sizeof(in_), 0);
    // An error is the upstream's ICMP (port unreachable, ECONNREFUSED): it is not serving.
    if (n < 0) return WouldBlock() ? Outcome::kPending : Outcome::kFailed;
    if (Matches({in_, static_cast<std::size_t>(n)})) return Outcome::kAnswered;
    // Not an answer to this probe (forged, or garbled): wait on for the real one.
  }
}

ssize_t Prober::Exchange::ReadSome(std::uint8_t* dst, std::size_t cap) {
  const ssize_t n = ::recv(fd.get(), dst, cap, 0);
  if (n > 0) return n;
  return n < 0 && WouldBlock() ? 0 : -1;
}

ssize_t Prober::Exchange::Flush() {
  ssize_t sent = 0;
  while (true) {
    if (out_begin_ == out_end_) {
      out_begin_ = 0;
      out_end_ = tls_.active() ? tls_.TakeCiphertext(out_) : 0;
      if (out_end_ == 0) return sent;
    }
    const ssize_t n = ::send(fd.get(), out_ + out_begin_, out_end_ - out_begin_, MSG_NOSIGNAL);
    if (n < 0) return WouldBlock() ? sent : -1;
    out_begin_ += static_cast<std::size_t>(n);
    sent += n;
  }
}

bool Prober::Exchange::TakeFramed() {
  while (in_len_ >= 2) {
    const std::size_t size = 2 + std::size_t{wire::LoadU16(in_)};
    if (in_len_ < size) return false;
    if (Matches({in_ + 2, size - 2})) return true;
    std::memmove(in_, in_ + size, in_len_ - size);
    in_len_ -= size;
  }
  return false;
}

Prober::Exchange::Outcome Prober::Exchange::DriveTcp(short revents) {
  if (Flush() < 0) return Outcome::kFailed;
  if ((revents & (POLLIN | POLLERR | POLLHUP)) == 0) return Outcome::kPending;
  while (true) {
    // TakeFramed leaves less than a whole frame, so there is always room.
    const ssize_t n = ReadSome(in_ + in_len_, sizeof(in_) - in_len_);
    if (n < 0) return Outcome::kFailed;  // closed, or reset, before answering
    if (n == 0) return Outcome::kPending;
    in_len_ += static_cast<std::size_t>(n);
    if (TakeFramed()) return Outcome::kAnswered;
  }
}

Prober::Exchange::Outcome Prober::Exchange::DriveTls(short revents) {
  bool closed = false;
  if ((revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
    while (cipher_len_ < sizeof(cipher_)) {
      const ssize_t n = ReadSome(cipher_ + cipher_len_, sizeof(cipher_) - cipher_len_);
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
      const std::size_t taken = tls_.Feed({cipher_, cipher_len_});
      std::memmove(cipher_, cipher_ + taken, cipher_len_ - taken);
      cipher_len_ -= taken;
      progress = taken > 0;
    }
    std::size_t got = 0;
    TlsSession::Step step;
    if (tls_.handshaking()) {
      step = tls_.Advance({}, got);
    } else {
      if (!query_written_) {
        if (tls_.Write({query_, query_len_ + 2}) != query_len_ + 2) return Outcome::kFailed;
        query_written_ = true;
      }
      step = tls_.Advance({in_ + in_len_, sizeof(in_) - in_len_}, got);
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

Prober::Prober(const RouteTable& routes, HealthTable& health)
    : health_(health), stop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  upstreams_.resize(routes.upstream_count);
  failures_.resize(routes.upstream_count);
  for (const BlockRoute& block : routes.blocks) {
    for (const ForwardRoute& f : block.forwards) {
      for (std::size_t i = 0; i < f.upstreams.size(); ++i) {
        upstreams_[f.first_upstream + i].forward = &f;
        upstreams_[f.first_upstream + i].index = static_cast<std::uint8_t>(i);
      }
    }
  }
  thread_ = std::thread([this] { Run(); });
}

Prober::~Prober() {
  stopping_.store(true, std::memory_order_relaxed);
  if (stop_.valid()) {
    const std::uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof(one));
  }
  thread_.join();
}

void Prober::Finish(std::uint32_t u, bool answered) {
  Upstream& up = upstreams_[u];
  up.inflight.reset();
  if (answered) {
    health_.Success(u);
    up.probing = false;
  } else {
    ++failures_[u];
  }
}

void Prober::Run() {
  RandomPool random;  // this thread's own: a RandomPool is not thread-safe
  std::vector<pollfd> polls;
  std::vector<std::uint32_t> polled;  // the upstream of polls[i + 1]
  while (!stopping_.load(std::memory_order_relaxed)) {
    const std::int64_t now = NowMs();
    std::int64_t wake = now + kTickMs;
    polls.clear();
    polled.clear();
    // Without an eventfd (none to spare), stopping_ is seen within a tick instead.
    polls.push_back({stop_.get(), POLLIN, 0});
    for (std::uint32_t u = 0; u < upstreams_.size(); ++u) {
      Upstream& up = upstreams_[u];
      if (!up.inflight) {
        if (!health_.down(u)) {
          up.probing = false;
          continue;
        }
        // Just marked down: probe now, then every interval, as CoreDNS does: no back-off,
        // so an upstream that returns is in use again within one interval.
        if (!up.probing) {
          up.probing = true;
          up.next_ms = now;
        }
        if (now < up.next_ms) {
          wake = std::min(wake, up.next_ms);
          continue;
        }
        // The interval runs from a probe's start; a probe that times out after it is
        // followed by the next at once.
        up.next_ms = now + std::max(up.forward->health_interval_ms, kTickMs);
        up.inflight = std::make_unique<Exchange>();
        if (!up.inflight->Start(*up.forward, up.index, random.Next16(), now)) {
          Finish(u, false);
          continue;
        }
      }
      polls.push_back({up.inflight->fd.get(), up.inflight->events(), 0});
      polled.push_back(u);
      wake = std::min(wake, up.inflight->deadline_ms);
    }
    const int timeout = static_cast<int>(std::max<std::int64_t>(wake - now, 0));
    if (::poll(polls.data(), polls.size(), timeout) < 0) continue;  // EINTR
    if (polls[0].revents != 0) break;
    const std::int64_t after = NowMs();
    for (std::size_t i = 0; i < polled.size(); ++i) {
      Exchange& probe = *upstreams_[polled[i]].inflight;
      const short revents = polls[i + 1].revents;
      Exchange::Outcome outcome =
          revents != 0 ? probe.OnReady(revents) : Exchange::Outcome::kPending;
      if (outcome == Exchange::Outcome::kPending && after >= probe.deadline_ms) {
        outcome = Exchange::Outcome::kFailed;
      }
      if (outcome != Exchange::Outcome::kPending) {
        Finish(polled[i], outcome == Exchange::Outcome::kAnswered);
      }
    }
  }
  // Probes still out are abandoned, not waited for; their sockets close with them.
  for (Upstream& up : upstreams_) up.inflight.reset();
}

}  // namespace ringdns::core
