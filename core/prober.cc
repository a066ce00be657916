#include "core/prober.h"

#include <poll.h>
#include <time.h>

#include <algorithm>

#include "core/base/random.h"

namespace ringdns::core {
namespace {

// The least time between two probes of one upstream, so that `health_check 0` or an
// upstream that refuses at once cannot make the prober spin. Also how often the prober
// looks at the health table when it has no eventfd to wait on.
constexpr std::int64_t kTickMs = 50;
// Probe buffers are freed once no upstream has been down for this long.
constexpr std::int64_t kFreeBuffersAfterMs = 60'000;

std::int64_t NowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

Prober::Prober(const RouteTable& routes, HealthTable& health)
    : health_(health), upstreams_(routes.upstream_count) {  // sized once: an Upstream cannot move
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
  stop_.Signal();
  thread_.join();
}

bool Prober::StartProbe(std::uint32_t u, std::uint16_t probe_id, std::int64_t now_ms) {
  std::unique_ptr<ProbeBuffers> buffers;
  if (spare_buffers_.empty()) {
    buffers = std::make_unique_for_overwrite<ProbeBuffers>();
  } else {
    buffers = std::move(spare_buffers_.back());
    spare_buffers_.pop_back();
  }
  Upstream& up = upstreams_[u];
  up.inflight.emplace(std::move(buffers));
  return up.inflight->Start(*up.forward, up.index, probe_id, now_ms);
}

void Prober::Finish(std::uint32_t u, bool answered) {
  Upstream& up = upstreams_[u];
  spare_buffers_.push_back(up.inflight->TakeBuffers());
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
  std::vector<std::uint32_t> polled;  // the upstream of polls[i + 2]
  // Without both eventfds (none to spare), stopping_ and a newly down upstream are seen
  // within a tick instead; with them, the prober sleeps while every upstream is up.
  const bool woken = stop_.valid() && health_.marked_down_fd() >= 0;
  constexpr std::int64_t kNever = INT64_MAX;
  while (!stopping_.load(std::memory_order_relaxed)) {
    const std::int64_t now = NowMs();
    std::int64_t wake = woken ? kNever : now + kTickMs;
    polls.clear();
    polled.clear();
    polls.push_back({stop_.fd(), POLLIN, 0});
    polls.push_back({health_.marked_down_fd(), POLLIN, 0});  // poll passes over -1
    health_.DrainMarkedDown();  // before the table is read: no marking is missed
    bool any_down = false;
    for (std::uint32_t u = 0; u < upstreams_.size(); ++u) {
      Upstream& up = upstreams_[u];
      any_down = any_down || up.inflight || health_.down(u);
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
        if (!StartProbe(u, random.Next16(), now)) {
          Finish(u, false);
          continue;
        }
      }
      polls.push_back({up.inflight->fd(), up.inflight->events(), 0});
      polled.push_back(u);
      wake = std::min(wake, up.inflight->deadline_ms());
    }
    // Every upstream back for a while: the outage's buffers go too (memory follows the
    // work). Not at once, or an upstream that flaps would cost an allocation per flap.
    if (any_down) {
      all_up_since_ms_ = 0;
    } else if (all_up_since_ms_ == 0) {
      all_up_since_ms_ = now;
    } else if (now - all_up_since_ms_ >= kFreeBuffersAfterMs) {
      spare_buffers_.clear();
    }
    if (all_up_since_ms_ != 0 && !spare_buffers_.empty())
      wake = std::min(wake, all_up_since_ms_ + kFreeBuffersAfterMs);
    // An hour at most: poll's timeout is an int of milliseconds.
    const int timeout = static_cast<int>(
        std::clamp<std::int64_t>(wake == kNever ? 3'600'000 : wake - now, 0, 3'600'000));
    if (::poll(polls.data(), polls.size(), timeout) < 0) continue;  // EINTR
    if (polls[0].revents != 0) break;
    const std::int64_t after = NowMs();
    for (std::size_t i = 0; i < polled.size(); ++i) {
      ProbeExchange& probe = *upstreams_[polled[i]].inflight;
      const short revents = polls[i + 2].revents;
      using Outcome = ProbeExchange::Outcome;
      Outcome outcome = revents != 0 ? probe.OnReady(revents) : Outcome::kPending;
      if (outcome == Outcome::kPending && after >= probe.deadline_ms()) outcome = Outcome::kFailed;
      if (outcome != Outcome::kPending) {
        Finish(polled[i], outcome == Outcome::kAnswered);
      }
    }
  }
  // Probes still out are abandoned, not waited for; their sockets close with them.
  for (Upstream& up : upstreams_) up.inflight.reset();
}

}  // namespace ringdns::core
