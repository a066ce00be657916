// bench/bench_util.h: the allocs_per_op counter every packet-path benchmark reports.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

#include "testing/alloc_counter.h"

namespace ringdns::bench {

// Runs `op` kProbeRuns times outside the timed loop, counting this thread's heap
// allocations, and reports the average as the allocs_per_op counter. Counting inside the
// timed loop would also count Google Benchmark's own bookkeeping at loop start and end.
template <typename Op>
void ReportAllocsPerOp(benchmark::State& state, Op&& op) {
  constexpr int kProbeRuns = 10000;
  const std::uint64_t allocs = testing::CountAllocations([&] {
    for (int i = 0; i < kProbeRuns; ++i) op();
  });
  state.counters["allocs_per_op"] = static_cast<double>(allocs) / kProbeRuns;
}

}  // namespace ringdns::bench
