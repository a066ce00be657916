// tests/testing/alloc_counter.h: counts heap allocations made through operator new and
// malloc-family calls in this process, to prove the packet path allocates nothing
// (Seastar's check_function_allocation).
//
// Linking this object replaces the global operator new/delete. Counting is per thread,
// so other threads' allocations do not disturb a measurement.
#pragma once

#include <cstdint>

namespace ringdns::testing {

// Allocations made by the calling thread since it started.
std::uint64_t ThreadAllocationCount() noexcept;
// Allocations made by every thread of the process (e.g. a shard's) since it started.
std::uint64_t ProcessAllocationCount() noexcept;

// Counts the allocations `fn` makes on the calling thread.
template <typename Fn>
std::uint64_t CountAllocations(Fn&& fn) {
  const std::uint64_t before = ThreadAllocationCount();
  fn();
  return ThreadAllocationCount() - before;
}

}  // namespace ringdns::testing
