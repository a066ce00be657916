// core/base/relaxed_counter.h: a counter one thread writes and any thread may read while it
// runs (a metrics scrape).
//
// The single writer adds with a relaxed load and store, which compiles to a plain add on
// x86-64 and ARM64 (no locked instruction, no fence); readers see some recent value.
// This is what lets shards keep their own counters on the packet path and the scrape
// sum them without a lock or a data race.
#pragma once

#include <atomic>
#include <cstdint>

namespace ringdns::core {

class RelaxedCounter {
 public:
  RelaxedCounter() = default;
  RelaxedCounter(const RelaxedCounter& other) noexcept : value_(other.get()) {}
  RelaxedCounter& operator=(const RelaxedCounter& other) noexcept {
    value_.store(other.get(), std::memory_order_relaxed);
    return *this;
  }

  // Only the owning thread may add.
  void Add(std::uint64_t n) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // For a gauge the owner keeps current.
  void Set(std::uint64_t value) noexcept { value_.store(value, std::memory_order_relaxed); }
  RelaxedCounter& operator++() noexcept {
    Add(1);
    return *this;
  }

  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }
  operator std::uint64_t() const noexcept { return get(); }  // NOLINT: reads like a number

 private:
  std::atomic<std::uint64_t> value_{0};
};

static_assert(sizeof(RelaxedCounter) == sizeof(std::uint64_t));

}  // namespace ringdns::core
