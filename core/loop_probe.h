// core/loop_probe.h: CoreDNS's `loop` check. At start-up ringdns asks itself an
// unguessable HINFO question under the block's zone; every shard counts the queries for
// that name it receives. Seen a second time means the upstream sends ringdns's own
// queries back to it (a forwarding loop, e.g. a node resolver pointing at the pod), and
// ringdns refuses to run rather than melt down. The packet path pays one acquire load.
#pragma once

#include <atomic>
#include <span>

#include "core/zone_name.h"
#include "wire/name.h"

namespace ringdns::core {

class LoopProbe {
 public:
  // Control thread, once, before the probe query is sent.
  void Arm(const WireZone& name) {
    name_ = name;
    armed_.store(true, std::memory_order_release);
  }
  void Disarm() noexcept { armed_.store(false, std::memory_order_relaxed); }

  // Any shard, per query.
  void Observe(std::span<const std::uint8_t> qname) noexcept {
    if (!armed_.load(std::memory_order_acquire)) return;
    if (wire::NamesEqualIgnoreCase(qname, name_.view())) seen_.fetch_add(1, std::memory_order_relaxed);
  }
  int seen() const noexcept { return seen_.load(std::memory_order_relaxed); }

 private:
  WireZone name_;
  std::atomic<bool> armed_{false};
  std::atomic<int> seen_{0};
};

}  // namespace ringdns::core
