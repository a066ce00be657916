// core/prober.h: health probes for upstreams that are down, on a thread of their own
// (never a shard's), as CoreDNS's health_check: once an upstream is marked down it is
// asked every `health_check` interval, over its own transport (TCP with force_tcp),
// and marked up when it answers. There is no back-off (CoreDNS has none either): an
// upstream that returns is in use again within one interval, however long it was gone.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "core/health.h"
#include "core/relaxed_counter.h"
#include "core/routes.h"

namespace ringdns::core {

class Prober {
 public:
  Prober(const RouteTable& routes, HealthTable& health);
  ~Prober();  // stops and joins
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Failed probes per global upstream id; safe to read while probing.
  std::uint64_t failures(std::uint32_t upstream) const noexcept { return failures_[upstream].get(); }

 private:
  struct Upstream {
    const ForwardRoute* forward = nullptr;
    std::uint8_t index = 0;       // into forward->upstreams
    bool probing = false;         // seen down; cleared once up again
    std::int64_t next_ms = 0;
  };

  void Run();
  // One probe, blocking for at most the forward's read timeout (1 s at most).
  bool Probe(const Upstream& u, std::uint16_t id);

  HealthTable& health_;
  std::vector<Upstream> upstreams_;  // by global upstream id
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<RelaxedCounter> failures_;
  std::thread thread_;
};

}  // namespace ringdns::core
