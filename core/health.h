// core/health.h: whether each upstream is up, shared by every shard and the prober.
//
// One cache line per upstream, written only on a change of state (a shard reads before
// it writes), read with relaxed atomics on the packet path: no lock, and no write
// traffic while an upstream stays healthy.
//
// CoreDNS's rule: an upstream is down after more than `max_fails` failures in a row
// (0: never). A failure is an attempt that timed out, a send that failed, or a SERVFAIL;
// any other answer, or an answered probe, brings it back at once.
//
// The prober sleeps until an upstream is marked down: the marking writes to an eventfd
// (a syscall per change of state, never per query) that the prober polls.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "ring/wake.h"

namespace ringdns::core {

class HealthTable {
 public:
  explicit HealthTable(std::uint32_t upstreams)
      : entries_(std::make_unique<Entry[]>(upstreams)), size_(upstreams) {}

  bool down(std::uint32_t upstream) const noexcept {
    return entries_[upstream].down.load(std::memory_order_relaxed);
  }
  std::uint32_t size() const noexcept { return size_; }
  std::uint32_t fails(std::uint32_t upstream) const noexcept {
    return entries_[upstream].fails.load(std::memory_order_relaxed);
  }

  // A reload carries an upstream's state into the new table before any shard reads it.
  void Restore(std::uint32_t upstream, std::uint32_t fails, bool down) noexcept {
    entries_[upstream].fails.store(fails, std::memory_order_relaxed);
    if (!entries_[upstream].down.exchange(down, std::memory_order_relaxed) && down)
      marked_down_.Signal();
  }

  // Returns true when this failure marked the upstream down.
  bool Failure(std::uint32_t upstream, std::uint32_t max_fails) noexcept {
    Entry& e = entries_[upstream];
    const std::uint32_t fails = e.fails.fetch_add(1, std::memory_order_relaxed) + 1;
    if (max_fails == 0 || fails <= max_fails || e.down.load(std::memory_order_relaxed))
      return false;
    if (e.down.exchange(true, std::memory_order_relaxed)) return false;
    marked_down_.Signal();
    return true;
  }

  // Readable once an upstream was marked down since the last DrainMarkedDown; -1 when no
  // eventfd could be had (then the prober looks at the table every tick).
  int marked_down_fd() const noexcept { return marked_down_.fd(); }
  void DrainMarkedDown() const noexcept { marked_down_.Drain(); }

  void Success(std::uint32_t upstream) noexcept {
    Entry& e = entries_[upstream];
    if (e.fails.load(std::memory_order_relaxed) != 0) e.fails.store(0, std::memory_order_relaxed);
    if (e.down.load(std::memory_order_relaxed)) e.down.store(false, std::memory_order_relaxed);
  }

 private:
  struct alignas(64) Entry {
    std::atomic<std::uint32_t> fails{0};
    std::atomic<bool> down{false};
  };
  std::unique_ptr<Entry[]> entries_;
  std::uint32_t size_;
  ring::EventFd marked_down_;
};

}  // namespace ringdns::core
