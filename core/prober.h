// core/prober.h: health probes for upstreams that are down, on a thread of their own
// (never a shard's), as CoreDNS's health_check: once an upstream is marked down it is
// asked every `health_check` interval, over its own transport (TCP with force_tcp, TLS
// for tls://), and marked up when it answers. There is no back-off (CoreDNS has none
// either): an upstream that returns is in use again within one interval, however long it
// was gone.
//
// Probes of different upstreams run side by side: each has its own non-blocking socket
// and deadline in one poll() set, so an upstream that times out delays no other's probe.
// A probe carries a random ID (RFC 5452, as every query does), and its answer counts only
// when ID, source and question match. While every upstream is up the prober sleeps: the
// health table's eventfd wakes it when one is marked down, and its own when it stops
// (probes in flight are then abandoned, not waited for).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "core/base/relaxed_counter.h"
#include "core/health.h"
#include "core/probe_exchange.h"
#include "core/routes.h"
#include "ring/wake.h"

namespace ringdns::core {

class Prober {
 public:
  Prober(const RouteTable& routes, HealthTable& health);
  ~Prober();  // stops at once and joins
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Failed probes per global upstream id; safe to read while probing.
  std::uint64_t failures(std::uint32_t upstream) const noexcept {
    return failures_[upstream].get();
  }

 private:
  struct Upstream {
    const ForwardRoute* forward = nullptr;
    std::uint8_t index = 0;                 // into forward->upstreams
    bool probing = false;                   // seen down; cleared once up again
    std::int64_t next_ms = 0;               // when the next probe may start
    std::optional<ProbeExchange> inflight;  // empty when no probe is out
  };

  void Run();
  // Starts a probe of upstream `u`; false when it failed at once.
  bool StartProbe(std::uint32_t u, std::uint16_t probe_id, std::int64_t now_ms);
  // Ends upstream `u`'s probe: marks it up on success, counts a failure otherwise.
  void Finish(std::uint32_t u, bool answered);

  HealthTable& health_;
  std::vector<Upstream> upstreams_;  // by global upstream id
  // Buffers of finished probes, lent again to the next: at most one set per upstream
  // probed at once is allocated, and all are freed once no upstream has been down for
  // a minute.
  std::vector<std::unique_ptr<ProbeBuffers>> spare_buffers_;
  std::int64_t all_up_since_ms_ = 0;  // 0: some upstream is down, or probed
  // Set by the destructor, which then makes stop_ readable to wake the poll at once; the
  // flag alone is seen within a tick when no eventfd could be had.
  std::atomic<bool> stopping_{false};
  ring::EventFd stop_;
  std::vector<RelaxedCounter> failures_;
  std::thread thread_;
};

}  // namespace ringdns::core
