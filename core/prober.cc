#include "core/prober.h"
#include "core/tls_session.h"

#include <cstring>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "core/net.h"
#include "ring/fd.h"
#include "wire/bytes.h"
#include "wire/message.h"
#include "wire/patch.h"

namespace ringdns::core {
namespace {

std::int64_t NowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

// Waits for `events` on fd until `deadline_ms`.
bool WaitFor(int fd, short events, std::int64_t deadline_ms) {
  const std::int64_t left = deadline_ms - NowMs();
  if (left <= 0) return false;
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(left)) > 0 && (p.revents & events) != 0;
}

bool ReadFull(int fd, std::uint8_t* out, std::size_t len, std::int64_t deadline_ms) {
  for (std::size_t got = 0; got < len;) {
    if (!WaitFor(fd, POLLIN, deadline_ms)) return false;
    const ssize_t n = ::recv(fd, out + got, len - got, 0);
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

Prober::Prober(const RouteTable& routes, HealthTable& health) : health_(health) {
  upstreams_.resize(routes.upstream_count);
  failures_.resize(routes.upstream_count);
  for (const BlockRoute& block : routes.blocks) {
    for (const ForwardRoute& f : block.forwards) {
      for (std::size_t i = 0; i < f.upstreams.size(); ++i) {
        upstreams_[f.first_upstream + i] = Upstream{&f, static_cast<std::uint8_t>(i)};
      }
    }
  }
  thread_ = std::thread([this] { Run(); });
}

Prober::~Prober() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Prober::Run() {
  constexpr auto kTick = std::chrono::milliseconds(50);
  std::uint16_t id = static_cast<std::uint16_t>(NowMs());
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, kTick, [this] { return stop_; })) {
    lock.unlock();
    const std::int64_t now = NowMs();
    for (std::uint32_t u = 0; u < upstreams_.size(); ++u) {
      Upstream& up = upstreams_[u];
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
      if (now < up.next_ms) continue;
      if (Probe(up, ++id)) {
        health_.Success(u);
        up.probing = false;
      } else {
        ++failures_[u];
        up.next_ms = now + up.forward->health_interval_ms;
      }
    }
    lock.lock();
  }
}

namespace {

// One framed query and its answer over DNS over TLS, on a connected non-blocking socket,
// by the deadline: the same TlsSession the shards use, driven with poll.
bool TlsExchange(int fd, const ForwardRoute& f, std::uint8_t upstream, std::span<const std::uint8_t> framed,
                 std::uint8_t* answer, std::size_t& answer_len, std::int64_t deadline) {
  TlsSession tls;
  if (!tls.Connect(f.tls, f.tls_names[upstream], nullptr)) return false;
  std::uint8_t buffer[17 * 1024];
  const auto flush = [&] {
    while (const std::size_t n = tls.TakeCiphertext(buffer)) {
      for (std::size_t sent = 0; sent < n;) {
        if (!WaitFor(fd, POLLOUT, deadline)) return false;
        const ssize_t w = ::send(fd, buffer + sent, n - sent, MSG_NOSIGNAL);
        if (w <= 0) return false;
        sent += static_cast<std::size_t>(w);
      }
    }
    return true;
  };
  const auto receive = [&] {
    if (!WaitFor(fd, POLLIN, deadline)) return false;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    return n > 0 && tls.Feed({buffer, static_cast<std::size_t>(n)}) == static_cast<std::size_t>(n);
  };
  std::size_t got = 0;
  while (tls.handshaking()) {
    const TlsSession::Step step = tls.Advance({}, got);
    if (!flush() || (step != TlsSession::Step::kProgress && step != TlsSession::Step::kWant)) return false;
    if (step == TlsSession::Step::kWant && !receive()) return false;
  }
  if (tls.Write(framed) != framed.size() || !flush()) return false;
  std::uint8_t plain[2 + 4096];
  std::size_t have = 0;
  while (have < 2 || have < 2 + std::min<std::size_t>(wire::LoadU16(plain), 4096)) {
    const TlsSession::Step step = tls.Advance({plain + have, sizeof(plain) - have}, got);
    if (step == TlsSession::Step::kProgress) {
      have += got;
    } else if (step != TlsSession::Step::kWant || !flush() || !receive()) {
      return false;
    }
  }
  answer_len = std::min<std::size_t>(wire::LoadU16(plain), 4096);
  std::memcpy(answer, plain + 2, answer_len);
  return true;
}

}  // namespace

bool Prober::Probe(const Upstream& u, std::uint16_t id) {
  const ForwardRoute& f = *u.forward;
  const SockAddr& to = f.upstreams[u.index];
  std::uint8_t query[512 + 2];
  std::uint8_t* msg = query + 2;  // room for a TCP length prefix
  const wire::Result<std::size_t> len = wire::BuildQuery(
      {id, static_cast<std::uint16_t>(f.probe_rd ? wire::flag::kRd : 0), f.probe_name.view(),
       f.probe_type, 1, false, false},
      {msg, 512});
  if (!len) return false;
  const std::int64_t deadline = NowMs() + std::min<std::int64_t>(f.read_timeout_ms, 1000);
  ring::UniqueFd fd(::socket(to.family(), (f.force_tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return false;
  if (::connect(fd.get(), to.get(), to.len) != 0) {
    if (errno != EINPROGRESS || !WaitFor(fd.get(), POLLOUT, deadline)) return false;
    int error = 0;
    socklen_t error_len = sizeof(error);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &error_len);
    if (error != 0) return false;
  }
  std::uint8_t answer[4096];
  std::size_t answer_len = 0;
  if (f.tls != nullptr) {
    wire::StoreU16(query, static_cast<std::uint16_t>(*len));
    if (!TlsExchange(fd.get(), f, u.index, {query, *len + 2}, answer, answer_len, deadline)) return false;
  } else if (f.force_tcp) {
    wire::StoreU16(query, static_cast<std::uint16_t>(*len));
    if (::send(fd.get(), query, *len + 2, MSG_NOSIGNAL) != static_cast<ssize_t>(*len + 2)) return false;
    std::uint8_t prefix[2];
    if (!ReadFull(fd.get(), prefix, 2, deadline)) return false;
    answer_len = std::min<std::size_t>(wire::LoadU16(prefix), sizeof(answer));
    if (!ReadFull(fd.get(), answer, answer_len, deadline)) return false;
  } else {
    if (::send(fd.get(), msg, *len, 0) != static_cast<ssize_t>(*len)) return false;
    if (!WaitFor(fd.get(), POLLIN, deadline)) return false;
    const ssize_t n = ::recv(fd.get(), answer, sizeof(answer), 0);
    if (n < static_cast<ssize_t>(wire::header::kSize)) return false;
    answer_len = static_cast<std::size_t>(n);
  }
  // Any answer to our question shows the upstream is serving (CoreDNS's rule).
  return answer_len >= wire::header::kSize && wire::LoadU16(answer) == id &&
         (wire::LoadU16(answer + wire::header::kFlags) & wire::flag::kQr) != 0;
}

}  // namespace ringdns::core
