// What dnstap costs per tapped message, on each side of the shard's tap ring: the
// shard's copy into its TapQueue (the only part on the packet path, allocation-free),
// and the writer thread's protobuf-c encoding of a record into a frame. Four messages
// are tapped per forwarded query (CQ, FQ, FR, CR).
#include <benchmark/benchmark.h>
#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "bench_util.h"
#include "core/dnstap/encoder.h"
#include "core/dnstap/tap_queue.h"

namespace ringdns::bench {
namespace {

core::dnstap::TapRecord Record() {
  core::dnstap::TapRecord r;
  r.type = core::dnstap::MessageType::kForwarderResponse;
  r.query_time_us = 1;
  r.response_time_us = 2;
  r.query_address.family = AF_INET;
  r.query_address.port = 40000;
  r.response_address.family = AF_INET;
  r.response_address.port = 53;
  return r;
}

// A 200-octet message, an answer's typical size.
void BM_TapQueuePushAndDrain(benchmark::State& state) {
  core::dnstap::TapQueue queue(core::dnstap::kShardTapQueueBytes);
  const std::vector<std::uint8_t> message(200, 0x5a);
  const core::dnstap::TapRecord record = Record();
  std::uint64_t n = 0;
  auto push = [&] {
    benchmark::DoNotOptimize(queue.Push(record, message));
    if (++n % 1024 == 0) queue.Drain([](const core::dnstap::TapRecord&) { return true; });
  };
  for (auto _ : state) push();
  ReportAllocsPerOp(state, push);
}
BENCHMARK(BM_TapQueuePushAndDrain);

void BM_EncodeFrame(benchmark::State& state) {
  const bool full = state.range(0) != 0;
  alignas(8) std::uint8_t storage[sizeof(core::dnstap::TapRecord) + 200] = {};
  auto* record = ::new (storage) core::dnstap::TapRecord(Record());
  record->message_len = 200;
  const core::dnstap::FrameEncoder encoder({"node-1.example", "ringdns-0.1.0", ""}, full);
  for (auto _ : state) {
    core::dnstap::Frame frame = encoder.Encode(*record, 1'700'000'000'000'000);
    benchmark::DoNotOptimize(frame.data());
  }
}
BENCHMARK(BM_EncodeFrame)->Arg(0)->Arg(1)->ArgName("full");

}  // namespace
}  // namespace ringdns::bench

BENCHMARK_MAIN();
