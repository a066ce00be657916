// Trie match swept over zone-set size (1, 10, 1 000, 100 000 zones) and qname depth
// (3 to 10 labels). Half the qnames fall under a zone, half miss every zone but the
// root's fallback, so both the deep and the shallow walk are measured.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "testing/message_builder.h"
#include "zones/trie_builder.h"

namespace ringdns::bench {
namespace {

std::string ZoneName(std::int64_t i) {
  return "zone" + std::to_string(i) + ".ns" + std::to_string(i % 97) + ".svc.cluster.local.";
}

void BM_TrieMatch(benchmark::State& state) {
  const std::int64_t zone_count = state.range(0);
  const std::int64_t labels = state.range(1);
  zones::TrieBuilder builder;
  for (std::int64_t i = 0; i < zone_count; ++i) {
    (void)builder.AddText(ZoneName(i), static_cast<zones::RouteId>(i));
  }
  (void)builder.AddText(".", static_cast<zones::RouteId>(zone_count));
  const zones::Trie trie = builder.Build();

  std::mt19937 rng(42);
  std::vector<testing::Bytes> qnames;
  for (int i = 0; i < 1024; ++i) {
    // A zone name has 5 labels; prefix it (hit) or a non-zone (miss) to reach `labels`.
    const std::int64_t z = std::uniform_int_distribution<std::int64_t>(0, zone_count - 1)(rng);
    std::string base = (i % 2 == 0) ? ZoneName(z) : "other.example.com.";
    std::string name = base;
    std::int64_t have = (i % 2 == 0) ? 5 : 3;
    for (; have < labels; ++have) name = "l" + std::to_string(have) + "." + name;
    if (have > labels) name = "a.b.c.";
    qnames.push_back(testing::WireName(name));
  }
  std::size_t i = 0;
  const auto op = [&] { benchmark::DoNotOptimize(trie.Match(qnames[i++ & 1023])); };
  ReportAllocsPerOp(state, op);
  for (auto _ : state) op();
  state.SetItemsProcessed(state.iterations());
  state.counters["trie_bytes"] = static_cast<double>(trie.memory_bytes());
}
BENCHMARK(BM_TrieMatch)->ArgsProduct({{1, 10, 1000, 100000}, {3, 6, 10}});

}  // namespace
}  // namespace ringdns::bench

BENCHMARK_MAIN();
