// The cache-hit path as a shard runs it (find, copy into the query's buffer, client ID
// and qname, age TTLs in one walk, truncate), at 10 % and 100 % fill of CoreDNS's default
// capacity (9984 + 9984), and inserts into a full cache (CLOCK eviction).
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "core/cache/cache.h"
#include "testing/message_builder.h"
#include "wire/patch.h"
#include "wire/response.h"

namespace ringdns::bench {
namespace {

constexpr std::uint32_t kCapacity = 9984 * 2;

struct Filled {
  core::Cache cache{kCapacity};
  std::vector<testing::Bytes> qnames;
  std::vector<core::CacheKey> keys;
  std::vector<testing::Bytes> answers;

  explicit Filled(std::uint32_t entries) {
    for (std::uint32_t i = 0; i < entries; ++i) {
      const std::string name =
          "pod-" + std::to_string(i) + ".cb-example-srv.remote.svc.cluster.local.";
      qnames.push_back(testing::WireName(name));
      keys.push_back(core::MakeCacheKey(0, qnames.back(), 1, 1, 0));
      answers.push_back(testing::MessageBuilder(1, 0x8580)
                            .Question(name, 1)
                            .AnswerAt(12, 1, 30, testing::ARdata(10, 1, 0, 1))
                            .bytes());
      (void)cache.Insert(keys.back(), answers.back(), 0, 300);
    }
  }
};

void BM_CacheHit(benchmark::State& state) {
  Filled filled(static_cast<std::uint32_t>(kCapacity * state.range(0) / 100));
  std::array<std::uint8_t, 2048> buffer{};
  std::mt19937 rng(1);
  std::vector<std::uint32_t> order(4096);
  for (std::uint32_t& o : order) o = static_cast<std::uint32_t>(rng() % filled.keys.size());
  std::size_t i = 0;
  const auto op = [&] {
    const std::uint32_t n = order[i++ & 4095];
    const core::Cache::Hit hit = filled.cache.Find(filled.keys[n], filled.qnames[n], 5000);
    std::memcpy(buffer.data(), hit.answer.data(), hit.answer.size());
    const std::span<std::uint8_t> answer(buffer.data(), hit.answer.size());
    wire::SetId(answer, 0x1234);
    const wire::Result<wire::ResponseInfo> info = wire::WalkAndCapTtls(answer, 295);
    benchmark::DoNotOptimize(wire::TruncateForUdp(answer, *info, 512));
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CacheHit)->Arg(10)->Arg(100);

void BM_CacheInsertIntoFullCache(benchmark::State& state) {
  Filled filled(kCapacity);
  const testing::Bytes qname = testing::WireName("new.example.");
  const testing::Bytes answer = filled.answers[0];
  std::uint32_t n = 0;
  const auto op = [&] {
    (void)filled.cache.Insert(core::MakeCacheKey(++n, qname, 1, 1, 0), answer, 1, 300);
  };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CacheInsertIntoFullCache);

}  // namespace
}  // namespace ringdns::bench

BENCHMARK_MAIN();
