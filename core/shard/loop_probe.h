// core/shard/loop_probe.h: CoreDNS's `loop` check. At start-up ringdns asks itself an
// unguessable HINFO question under the block's zone; every shard counts the queries for
// that name it receives. Seen a second time means the upstream sends ringdns's own
// queries back to it (a forwarding loop, e.g. a node resolver pointing at the pod), and
// ringdns refuses to run rather than melt down. The packet path pays one acquire load.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <vector>

#include "core/base/zone_name.h"
#include "wire/name.h"

namespace ringdns::core {

class LoopProbe {
 public:
  // Control thread, once, before any probe query is sent: one name per block with
  // `loop`, each counted on its own (a name is never reused, so no shard can compare
  // against a name while it changes).
  void Arm(std::vector<WireZone> names) {
    names_ = std::move(names);
    seen_ = std::make_unique<std::atomic<int>[]>(names_.size());
    armed_.store(true, std::memory_order_release);
  }
  void Disarm() noexcept { armed_.store(false, std::memory_order_relaxed); }

  // Any shard, per query.
  void Observe(std::span<const std::uint8_t> qname) noexcept {
    if (!armed_.load(std::memory_order_acquire)) return;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (wire::NamesEqualIgnoreCase(qname, names_[i].view()))
        seen_[i].fetch_add(1, std::memory_order_relaxed);
    }
  }
  // How often the i-th name was received (control thread, while armed).
  int seen(std::size_t i) const noexcept { return seen_[i].load(std::memory_order_relaxed); }

 private:
  std::vector<WireZone> names_;
  std::unique_ptr<std::atomic<int>[]> seen_;
  std::atomic<bool> armed_{false};
};

}  // namespace ringdns::core
