// The answer path: validating walk of nsd's SRV answer (3 SRV + 3 A + OPT), answer
// matching, and in-place TTL capping.
#include <benchmark/benchmark.h>

#include "bench_util.h"
#include "testing/hex.h"
#include "testing/real_messages.h"
#include "wire/message.h"
#include "wire/response.h"

namespace ringdns::bench {
namespace {

void BM_WalkResponse_NsdSrv(benchmark::State& state) {
  const testing::Bytes answer = testing::Hex(testing::kNsdSrvAnswer);
  const auto op = [&] {
    const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
    benchmark::DoNotOptimize(info);
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WalkResponse_NsdSrv);

void BM_MatchAnswer_NsdSrv(benchmark::State& state) {
  const testing::Bytes query = testing::Hex(testing::kDigSrvQuery);
  const testing::Bytes answer = testing::Hex(testing::kNsdSrvAnswer);
  const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
  const wire::Question question = q->question(query);
  const auto op = [&] {
    benchmark::DoNotOptimize(wire::MatchAnswer(answer, q->id, q->opcode(), question));
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MatchAnswer_NsdSrv);

void BM_CapTtls_NsdSrv(benchmark::State& state) {
  testing::Bytes answer = testing::Hex(testing::kNsdSrvAnswer);
  const auto op = [&] {
    benchmark::DoNotOptimize(wire::CapTtls(answer, 3600));
    benchmark::ClobberMemory();
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CapTtls_NsdSrv);

}  // namespace
}  // namespace ringdns::bench

BENCHMARK_MAIN();
