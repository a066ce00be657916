// Query parse on the packet path: dig's real SRV query (EDNS + cookie), and a minimal
// A query without EDNS.
#include <benchmark/benchmark.h>

#include "bench_util.h"
#include "testing/hex.h"
#include "testing/message_builder.h"
#include "testing/real_messages.h"
#include "wire/message.h"

namespace ringdns::bench {
namespace {

void Parse(benchmark::State& state, const testing::Bytes& msg) {
  const auto op = [&] {
    const wire::Result<wire::QueryView> q = wire::ParseQuery(msg);
    benchmark::DoNotOptimize(q);
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseQuery_DigSrvEdnsCookie(benchmark::State& state) {
  Parse(state, testing::Hex(testing::kDigSrvQuery));
}
BENCHMARK(BM_ParseQuery_DigSrvEdnsCookie);

void BM_ParseQuery_PlainA(benchmark::State& state) {
  Parse(state, testing::MessageBuilder(1, 0x0100).Question("www.example.com.", 1).bytes());
}
BENCHMARK(BM_ParseQuery_PlainA);

}  // namespace
}  // namespace ringdns::bench

BENCHMARK_MAIN();
