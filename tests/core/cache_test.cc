// The per-shard cache: TTL rules (CoreDNS's cache, RFC 2308), keys that never cross
// routes, CLOCK eviction within a fixed capacity, stale windows (RFC 8767), hit counts
// for prefetch, the success/denial pools, and no allocation on hit or insert.
#include "core/cache/cache.h"

#include <gtest/gtest.h>

#include "core/cache/cache_policy.h"
#include "core/cache/response_cache.h"
#include "testing/alloc_counter.h"
#include "testing/message_builder.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

using testing::Bytes;
using testing::MessageBuilder;
using testing::WireName;

constexpr std::uint16_t kAnswer = wire::flag::kQr | wire::flag::kRd | wire::flag::kRa;

Bytes PositiveAnswer(const char* name, std::uint32_t ttl) {
  return MessageBuilder(1, kAnswer).Question(name, 1).AnswerAt(12, 1, ttl, testing::ARdata(10, 0, 0, 1)).bytes();
}

CacheVerdict Verdict(const Bytes& answer, const CachePolicy& policy) {
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  EXPECT_TRUE(info);
  const wire::Result<wire::QueryView> q = wire::ParseQuestion(answer);
  return CacheTtl(*info, q->qname(answer), policy);
}
std::uint32_t Ttl(const Bytes& answer, const CachePolicy& policy) { return Verdict(answer, policy).ttl; }

TEST(CacheTtl, PositiveAnswersAreFlooredAndCapped) {
  const CachePolicy policy;  // CoreDNS defaults: success 5..3600 s
  EXPECT_EQ(Ttl(PositiveAnswer("a.example.", 300), policy), 300u);
  EXPECT_EQ(Ttl(PositiveAnswer("a.example.", 1), policy), 5u);  // Kubernetes' TTL 1 -> MINTTL
  EXPECT_EQ(Ttl(PositiveAnswer("a.example.", 86400), policy), 3600u);
  EXPECT_EQ(Ttl(PositiveAnswer("a.example.", 0), policy), 0u);  // TTL 0 is never cached
}

TEST(CacheTtl, NegativeAnswersUseTheSoaRfc2308) {
  const CachePolicy policy;
  const Bytes soa = testing::SoaRdata("ns.example.", "h.example.", 1, 2, 3, 4, 60);
  const Bytes nx = MessageBuilder(1, kAnswer | wire::rcode::kNxDomain)
                       .Question("nope.example.", 1).Authority("example.", wire::rrtype::kSoa, 300, soa).bytes();
  EXPECT_EQ(Ttl(nx, policy), 60u);
  EXPECT_TRUE(Verdict(nx, policy).denial);
  EXPECT_FALSE(Verdict(PositiveAnswer("a.example.", 300), policy).denial);
  const Bytes nodata = MessageBuilder(1, kAnswer)
                           .Question("www.example.", 28).Authority("example.", wire::rrtype::kSoa, 30, soa).bytes();
  EXPECT_EQ(Ttl(nodata, policy), 30u);
  EXPECT_TRUE(Verdict(nodata, policy).denial);
  const Bytes bare_nx = MessageBuilder(1, kAnswer | wire::rcode::kNxDomain).Question("nope.example.", 1).bytes();
  EXPECT_EQ(Ttl(bare_nx, policy), 0u);  // no SOA: nothing says how long
}

TEST(CacheTtl, ServfailRefusedAndTruncated) {
  CachePolicy policy;
  const Bytes servfail = MessageBuilder(1, kAnswer | wire::rcode::kServFail).Question("a.example.", 1).bytes();
  EXPECT_EQ(Ttl(servfail, policy), 5u);
  EXPECT_TRUE(Verdict(servfail, policy).denial);  // CoreDNS keeps SERVFAIL with denials
  policy.servfail_ttl = 0;
  EXPECT_EQ(Ttl(servfail, policy), 0u);
  EXPECT_EQ(Ttl(MessageBuilder(1, kAnswer | wire::rcode::kRefused).Question("a.example.", 1).bytes(), policy), 0u);
  Bytes truncated = PositiveAnswer("a.example.", 300);
  truncated[2] |= 0x02;  // TC
  EXPECT_EQ(Ttl(truncated, policy), 0u);
}

TEST(CacheTtl, DisableAndZonesRestrictCaching) {
  config::Cache config;
  config.disable_success = {"internal.example."};
  config.zones = {"example."};
  const CachePolicy policy = CachePolicy::From(config);
  EXPECT_EQ(Ttl(PositiveAnswer("a.internal.example.", 300), policy), 0u);
  EXPECT_EQ(Ttl(PositiveAnswer("a.example.", 300), policy), 300u);
  EXPECT_TRUE(policy.Covers(WireName("x.example.")));
  EXPECT_FALSE(policy.Covers(WireName("x.example.org.")));
}

TEST(Cache, HitsNeverCrossRoutesTypesOrDnssecBits) {
  Cache cache(16);
  const Bytes qname = WireName("www.example.");
  const Bytes answer = PositiveAnswer("www.example.", 300);
  const CacheKey key = MakeCacheKey(1, qname, 1, 1, 0);
  ASSERT_TRUE(cache.Insert(key, answer, 0, 300));
  EXPECT_EQ(cache.Find(key, WireName("WWW.Example."), 1000).answer.size(), answer.size());
  EXPECT_TRUE(cache.Find(MakeCacheKey(2, qname, 1, 1, 0), qname, 1000).answer.empty());  // route
  EXPECT_TRUE(cache.Find(MakeCacheKey(1, qname, 28, 1, 0), qname, 1000).answer.empty());  // type
  EXPECT_TRUE(cache.Find(MakeCacheKey(1, qname, 1, 1, CacheKey::kDo), qname, 1000).answer.empty());
  EXPECT_TRUE(cache.Find(key, qname, 300000).answer.empty());  // expired
}

TEST(Cache, StaysWithinCapacityAndKeepsHotEntries) {
  Cache cache(8);
  std::vector<Bytes> names;
  for (int i = 0; i < 100; ++i) names.push_back(WireName("n" + std::to_string(i) + ".example."));
  const Bytes hot_answer = PositiveAnswer("n0.example.", 300);
  const CacheKey hot = MakeCacheKey(0, names[0], 1, 1, 0);
  ASSERT_TRUE(cache.Insert(hot, hot_answer, 0, 300));
  for (int i = 1; i < 100; ++i) {
    ASSERT_FALSE(cache.Find(hot, names[0], i).answer.empty()) << "hot entry evicted at " << i;
    const std::string text = "n" + std::to_string(i) + ".example.";
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, names[static_cast<std::size_t>(i)], 1, 1, 0),
                             PositiveAnswer(text.c_str(), 300), i, 300));
    ASSERT_LE(cache.size(), 8u);
  }
  EXPECT_EQ(cache.size(), 8u);
  EXPECT_GT(cache.evictions(), 80u);
}

TEST(Cache, RefusesAnswersLargerThanASlot) {
  Cache cache(4);
  MessageBuilder big(1, kAnswer);
  big.Question("a.example.", 1);
  for (int i = 0; i < 100; ++i) big.AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 1));
  ASSERT_GT(big.bytes().size(), Cache::kSlotBytes);
  EXPECT_FALSE(cache.Insert(MakeCacheKey(0, WireName("a.example."), 1, 1, 0), big.bytes(), 0, 300));
}

TEST(Cache, HitAndInsertIntoAFullCacheAllocateNothing) {
  Cache cache(4);
  const Bytes answer = PositiveAnswer("a.example.", 300);
  const Bytes qname = WireName("a.example.");
  for (std::uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(cache.Insert(MakeCacheKey(i, qname, 1, 1, 0), answer, 0, 300));
  EXPECT_EQ(testing::CountAllocations([&] {
              for (std::uint32_t i = 0; i < 1000; ++i) {
                (void)cache.Find(MakeCacheKey(i % 8, qname, 1, 1, 0), qname, 1);
                (void)cache.Insert(MakeCacheKey(i, qname, 1, 1, 0), answer, 1, 300);
              }
            }),
            0u);
}

TEST(Cache, StaleWindowKeepsAnEntryFindableAsStale) {
  Cache cache(4);
  const Bytes qname = WireName("www.example.");
  const CacheKey key = MakeCacheKey(1, qname, 1, 1, 0);
  ASSERT_TRUE(cache.Insert(key, PositiveAnswer("www.example.", 60), 0, 60, 3600));
  Cache::Hit hit = cache.Find(key, qname, 59'000);
  EXPECT_FALSE(hit.stale);
  EXPECT_EQ(hit.remaining_s(59'000), 1u);
  EXPECT_EQ(hit.remaining_s(0), 60u);
  EXPECT_EQ(hit.remaining_s(500), 60u);  // rounded up: a fresh entry shows its full TTL
  hit = cache.Find(key, qname, 60'000);
  ASSERT_FALSE(hit.answer.empty());
  EXPECT_TRUE(hit.stale);
  EXPECT_EQ(hit.remaining_s(60'000), 0u);
  EXPECT_TRUE(cache.Find(key, qname, 3'660'000).answer.empty());  // the window is over
}

TEST(Cache, CountsHitsWithinTheWindowForPrefetch) {
  Cache cache(4);
  const Bytes qname = WireName("www.example.");
  const CacheKey key = MakeCacheKey(1, qname, 1, 1, 0);
  ASSERT_TRUE(cache.Insert(key, PositiveAnswer("www.example.", 300), 0, 300));
  EXPECT_EQ(cache.Find(key, qname, 1000, 60'000).hits, 1u);
  EXPECT_EQ(cache.Find(key, qname, 2000, 60'000).hits, 2u);
  EXPECT_EQ(cache.Find(key, qname, 3000, 60'000).hits, 3u);
  EXPECT_EQ(cache.Find(key, qname, 70'000, 60'000).hits, 1u);  // a gap over the window resets
  EXPECT_EQ(cache.Find(key, qname, 71'000).hits, 1u);  // without a window: not counted
}

TEST(ResponseCache, SuccessAndDenialHaveTheirOwnCapacityAndAKeyLivesInOne) {
  ResponseCache cache(2, 1);
  const Bytes qname = WireName("www.example.");
  const CacheKey key = MakeCacheKey(1, qname, 1, 1, 0);
  const Bytes positive = PositiveAnswer("www.example.", 300);
  const Bytes servfail = MessageBuilder(1, kAnswer | wire::rcode::kServFail).Question("www.example.", 1).bytes();
  ASSERT_TRUE(cache.Insert(false, key, positive, 0, 300, 0));
  ASSERT_TRUE(cache.Insert(true, key, servfail, 1, 5, 0));
  EXPECT_EQ(cache.success().size(), 0u);  // the newer denial replaced it
  EXPECT_EQ(cache.Find(key, qname, 2).answer.size(), servfail.size());
  // Denials never push successes out: the denial pool holds one entry, whatever comes.
  ASSERT_TRUE(cache.Insert(false, key, positive, 3, 300, 0));
  for (std::uint32_t i = 0; i < 10; ++i) {
    const Bytes other = WireName("n" + std::to_string(i) + ".example.");
    ASSERT_TRUE(cache.Insert(true, MakeCacheKey(1, other, 1, 1, 0), servfail, 4, 5, 0));
  }
  EXPECT_EQ(cache.denial().size(), 1u);
  EXPECT_EQ(cache.Find(key, qname, 5).answer.size(), positive.size());
}

}  // namespace
}  // namespace ringdns::core
