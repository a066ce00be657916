// The bookkeeping every forwarded query does around its in-flight slot: take a slot,
// file it in the pending index under (upstream socket, TXID), schedule its attempt
// timeout; then, when the answer comes, find it by (socket, TXID), cancel the timer,
// unfile it and give the slot back. Measured with the shard's own sizes (65 536 slots)
// and a realistic number of other queries already waiting.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "bench_util.h"
#include "core/shard/inflight.h"
#include "core/shard/slot_index.h"
#include "core/shard/timer_wheel.h"

namespace ringdns::bench {
namespace {

constexpr std::uint32_t kSlots = 65536;
constexpr std::uint16_t kSockets = 16;

struct Tables {
  core::InflightTable inflight{kSlots};
  core::PendingIndex pending{kSlots};
  core::TimerWheel timers{kSlots, 0};
  std::mt19937 rng{7};
  std::int64_t now_ms = 0;

  // Keeps `waiting` other queries in flight, as under load.
  explicit Tables(std::uint32_t waiting) {
    for (std::uint32_t i = 0; i < waiting; ++i) Start();
  }

  std::uint32_t Start() {
    const std::uint32_t index = inflight.Take();
    core::InflightSlot& slot = inflight[index];
    slot.upstream_socket = static_cast<std::uint16_t>(rng() % kSockets);
    std::uint32_t key;
    do {
      slot.txid = static_cast<std::uint16_t>(rng());
      key = core::PendingIndex::Key(slot.upstream_socket, slot.txid);
    } while (pending.Contains(key));
    pending.Insert(key, index);
    timers.Schedule(
        index,
        now_ms + 100 + static_cast<std::int64_t>(rng() % 400));  // attempt timeouts vary with SRTT
    return index;
  }

  void Finish(std::uint16_t socket, std::uint16_t txid) {
    const std::uint32_t key = core::PendingIndex::Key(socket, txid);
    const std::uint32_t index = pending.Find(key);
    pending.Erase(key);
    timers.Cancel(index);
    inflight.Release(index);
  }
};

void BM_InflightTakeAndRelease(benchmark::State& state) {
  Tables tables(static_cast<std::uint32_t>(state.range(0)));
  const auto op = [&] {
    const std::uint32_t index = tables.Start();
    const core::InflightSlot& slot = tables.inflight[index];
    tables.Finish(slot.upstream_socket, slot.txid);
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InflightTakeAndRelease)->Arg(0)->Arg(1000)->Arg(30000);

void BM_TimerWheelAdvance(benchmark::State& state) {
  // One 4 ms tick of the timer wheel with `waiting` queries in flight, each retried
  // 400 ms after its attempt timed out: about waiting/100 fire per tick.
  Tables tables(static_cast<std::uint32_t>(state.range(0)));
  std::int64_t now = 0;
  std::uint64_t fired = 0;
  const auto op = [&] {
    now += core::TimerWheel::kTickMs;
    tables.timers.Advance(now, [&](std::uint32_t slot) {
      ++fired;
      tables.timers.Schedule(slot, now + 400);
    });
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  benchmark::DoNotOptimize(fired);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerWheelAdvance)->Arg(1000)->Arg(30000);

}  // namespace
}  // namespace ringdns::bench

BENCHMARK_MAIN();
