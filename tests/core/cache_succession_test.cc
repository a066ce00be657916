// The shard's response cache across a reload, without a shard: the predecessor's cache
// is taken once published (the very same, entries and all) when its capacities are the
// ones asked for, a fresh one otherwise; none is made when no block caches; and a
// stopping shard hands its own on, or keeps it when nobody succeeds it.
#include "core/shard/cache_succession.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "testing/message_builder.h"
#include "wire/message.h"

namespace ringdns::core {
namespace {

constexpr std::uint32_t kCapacity[2] = {64, 16};

// One answer for `name`, stored in the success pool of `cache`.
void StoreOne(ResponseCache& cache, const char* name) {
  const testing::Bytes qname = testing::WireName(name);
  const testing::Bytes answer =
      testing::MessageBuilder(1, wire::flag::kQr | wire::flag::kRd | wire::flag::kRa)
          .Question(name, 1)
          .AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 1))
          .bytes();
  ASSERT_TRUE(cache.Insert(false, MakeCacheKey(1, qname, 1, 1, 0), answer, 0, 300, 0));
}

// A predecessor's hand-off, published with a cache of `success` and `denial` entries.
std::shared_ptr<CacheHandoff> Published(std::uint32_t success, std::uint32_t denial,
                                        ResponseCache** made = nullptr) {
  auto handoff = std::make_shared<CacheHandoff>();
  handoff->cache = std::make_unique<ResponseCache>(success, denial);
  if (made != nullptr) *made = handoff->cache.get();
  handoff->ready.store(true);
  return handoff;
}

TEST(CacheSuccession, FirstStartMakesAFreshCacheOfTheCapacitiesAskedFor) {
  CacheSuccession cache;
  cache.Start(kCapacity, nullptr);
  ASSERT_TRUE(cache);
  EXPECT_FALSE(cache.awaiting());
  EXPECT_EQ(cache->success().capacity(), 64u);
  EXPECT_EQ(cache->denial().capacity(), 16u);
}

TEST(CacheSuccession, NoBlockCachesNoCacheEvenWhenThePredecessorHadOne) {
  CacheSuccession fresh;
  const std::uint32_t none[2] = {0, 0};
  fresh.Start(none, nullptr);
  EXPECT_FALSE(fresh);
  CacheSuccession successor;
  std::shared_ptr<CacheHandoff> handoff = Published(64, 16);
  successor.Start(none, handoff);
  successor.AdoptIfPublished();
  EXPECT_FALSE(successor);
  EXPECT_FALSE(successor.awaiting());
  EXPECT_TRUE(handoff->adopted.load());  // the predecessor is not left waiting
}

TEST(CacheSuccession, ThePredecessorsCacheIsTakenOnceItIsPublished) {
  auto handoff = std::make_shared<CacheHandoff>();
  CacheSuccession cache;
  cache.Start(kCapacity, handoff);
  // Not yet published: the shard serves uncached and keeps looking.
  cache.AdoptIfPublished();
  EXPECT_FALSE(cache);
  EXPECT_TRUE(cache.awaiting());
  EXPECT_FALSE(handoff->adopted.load());
  handoff->cache = std::make_unique<ResponseCache>(64, 16);
  ResponseCache* old = handoff->cache.get();
  StoreOne(*old, "www.example.");
  handoff->ready.store(true);
  cache.AdoptIfPublished();
  ASSERT_EQ(cache.get(), old);  // the same pools: what it held is still there
  EXPECT_EQ(cache->success().size(), 1u);
  EXPECT_FALSE(cache.awaiting());
  EXPECT_TRUE(handoff->adopted.load());
}

TEST(CacheSuccession, APredecessorsCacheOfOtherCapacitiesIsReplaced) {
  // Either pool's size differing is enough; the predecessor is told either way, or its
  // reload would wait for an adoption that never comes.
  const std::pair<std::uint32_t, std::uint32_t> others[] = {{64, 8}, {32, 16}};
  for (const auto& [success, denial] : others) {
    ResponseCache* old = nullptr;
    std::shared_ptr<CacheHandoff> handoff = Published(success, denial, &old);
    CacheSuccession cache;
    cache.Start(kCapacity, handoff);
    cache.AdoptIfPublished();
    ASSERT_TRUE(cache);
    EXPECT_NE(cache.get(), old);
    EXPECT_EQ(cache->success().capacity(), 64u);
    EXPECT_EQ(cache->denial().capacity(), 16u);
    EXPECT_TRUE(handoff->adopted.load());
  }
}

TEST(CacheSuccession, AStoppingShardHandsItsCacheOnOrKeepsItWithoutASuccessor) {
  CacheSuccession alone;
  alone.Start(kCapacity, nullptr);
  ResponseCache* kept = alone.get();
  alone.HandOver();
  EXPECT_EQ(alone.get(), kept);

  CacheSuccession old_shard;
  old_shard.Start(kCapacity, nullptr);
  ResponseCache* handed = old_shard.get();
  auto to = std::make_shared<CacheHandoff>();
  old_shard.PassOnTo(to);
  old_shard.HandOver();
  EXPECT_FALSE(old_shard);  // never touched again by the old shard
  EXPECT_TRUE(to->ready.load());
  EXPECT_EQ(to->cache.get(), handed);
  // And the successor takes it whole.
  CacheSuccession new_shard;
  new_shard.Start(kCapacity, to);
  new_shard.AdoptIfPublished();
  EXPECT_EQ(new_shard.get(), handed);
}

TEST(CacheSuccession, WithoutACacheNothingIsReported) {
  ShardMetrics metrics(0, 0);
  metrics.cache_entries[0].Set(7);
  CacheSuccession none;
  const std::uint32_t no_pools[2] = {0, 0};
  none.Start(no_pools, nullptr);
  none.Report(metrics);
  CacheSuccession awaiting;
  awaiting.Start(kCapacity, std::make_shared<CacheHandoff>());
  awaiting.Report(metrics);
  EXPECT_EQ(metrics.cache_entries[0].get(), 7u);
}

TEST(CacheSuccession, ReportsEachPoolsSizeForTheScrape) {
  CacheSuccession cache;
  cache.Start(kCapacity, nullptr);
  ShardMetrics metrics(0, 0);
  metrics.cache_entries[1].Set(99);  // from an earlier turn
  StoreOne(*cache.get(), "www.example.");
  StoreOne(*cache.get(), "mail.example.");
  cache.Report(metrics);
  EXPECT_EQ(metrics.cache_entries[0].get(), 2u);
  EXPECT_EQ(metrics.cache_entries[1].get(), 0u);
  EXPECT_EQ(metrics.cache_evictions[0].get(), 0u);
  EXPECT_GT(metrics.cache_bytes[0].get(), 0u);
  EXPECT_EQ(metrics.cache_bytes[1].get(), 0u);
}

}  // namespace
}  // namespace ringdns::core
