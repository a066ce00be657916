// The per-shard cache: TTL rules (CoreDNS's cache, RFC 2308), keys that never cross
// routes, CLOCK eviction over the answer log within a fixed capacity, answers stored by
// their size, stale windows (RFC 8767), hit counts
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
  return MessageBuilder(1, kAnswer)
      .Question(name, 1)
      .AnswerAt(12, 1, ttl, testing::ARdata(10, 0, 0, 1))
      .bytes();
}

CacheVerdict Verdict(const Bytes& answer, const CachePolicy& policy) {
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(answer);
  EXPECT_TRUE(info);
  const wire::Result<wire::QueryView> q = wire::ParseQuestion(answer);
  return CacheTtl(*info, q->qname(answer), policy);
}
std::uint32_t Ttl(const Bytes& answer, const CachePolicy& policy) {
  return Verdict(answer, policy).ttl;
}

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
                       .Question("nope.example.", 1)
                       .Authority("example.", wire::rrtype::kSoa, 300, soa)
                       .bytes();
  EXPECT_EQ(Ttl(nx, policy), 60u);
  EXPECT_TRUE(Verdict(nx, policy).denial);
  EXPECT_FALSE(Verdict(PositiveAnswer("a.example.", 300), policy).denial);
  const Bytes nodata = MessageBuilder(1, kAnswer)
                           .Question("www.example.", 28)
                           .Authority("example.", wire::rrtype::kSoa, 30, soa)
                           .bytes();
  EXPECT_EQ(Ttl(nodata, policy), 30u);
  EXPECT_TRUE(Verdict(nodata, policy).denial);
  const Bytes bare_nx =
      MessageBuilder(1, kAnswer | wire::rcode::kNxDomain).Question("nope.example.", 1).bytes();
  EXPECT_EQ(Ttl(bare_nx, policy), 0u);  // no SOA: nothing says how long
}

TEST(CacheTtl, ServfailRefusedAndTruncated) {
  CachePolicy policy;
  const Bytes servfail =
      MessageBuilder(1, kAnswer | wire::rcode::kServFail).Question("a.example.", 1).bytes();
  EXPECT_EQ(Ttl(servfail, policy), 5u);
  EXPECT_TRUE(Verdict(servfail, policy).denial);  // CoreDNS keeps SERVFAIL with denials
  policy.servfail_ttl = 0;
  EXPECT_EQ(Ttl(servfail, policy), 0u);
  EXPECT_EQ(
      Ttl(MessageBuilder(1, kAnswer | wire::rcode::kRefused).Question("a.example.", 1).bytes(),
          policy),
      0u);
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
  EXPECT_TRUE(cache.Find(MakeCacheKey(2, qname, 1, 1, 0), qname, 1000).answer.empty());   // route
  EXPECT_TRUE(cache.Find(MakeCacheKey(1, qname, 28, 1, 0), qname, 1000).answer.empty());  // type
  EXPECT_TRUE(cache.Find(MakeCacheKey(1, qname, 1, 1, CacheKey::kDo), qname, 1000).answer.empty());
  EXPECT_TRUE(cache.Find(key, qname, 300000).answer.empty());  // expired
}

TEST(Cache, StaysWithinCapacityAndKeepsHotEntries) {
  // 100 hot names asked between inserts of 5 000 cold ones into a cache of 1 000.
  Cache cache(1000);
  std::vector<Bytes> names;
  std::vector<Bytes> answers;
  for (int i = 0; i < 5100; ++i) {
    const std::string text = "n" + std::to_string(i) + ".example.";
    names.push_back(WireName(text));
    answers.push_back(PositiveAnswer(text.c_str(), 300));
  }
  const auto key = [&](std::size_t i) { return MakeCacheKey(0, names[i], 1, 1, 0); };
  for (std::size_t hot = 0; hot < 100; ++hot)
    ASSERT_TRUE(cache.Insert(key(hot), answers[hot], 0, 300));
  for (std::size_t i = 100; i < 5100; ++i) {
    const std::size_t hot = i % 100;
    ASSERT_EQ(cache.Find(key(hot), names[hot], 1).answer.size(), answers[hot].size())
        << "hot entry evicted at " << i;
    ASSERT_TRUE(cache.Insert(key(i), answers[i], 1, 300));
    ASSERT_LE(cache.size(), 1000u);
    // Eviction takes one segment's worth of entries at a time: a full cache stays full.
    if (i >= 1100) {
      ASSERT_GE(cache.size(), 850u) << "at " << i;
    }
  }
  EXPECT_GT(cache.evictions(), 4000u);
  // The latest cold names are there too.
  EXPECT_FALSE(cache.Find(key(5099), names[5099], 2).answer.empty());
}

TEST(Cache, EveryEntryHotStillLetsANewOneIn) {
  // Referenced entries get one second chance: when all are, a round of cleaning clears
  // their bits and the next evicts.
  Cache cache(200);
  std::vector<Bytes> names;
  std::vector<Bytes> answers;
  for (int i = 0; i < 400; ++i) {
    const std::string text = "h" + std::to_string(i) + ".example.";
    names.push_back(WireName(text));
    answers.push_back(PositiveAnswer(text.c_str(), 300));
  }
  for (std::size_t i = 0; i < 400; ++i) {
    for (std::size_t j = i > 200 ? i - 200 : 0; j < i; ++j)
      (void)cache.Find(MakeCacheKey(0, names[j], 1, 1, 0), names[j], 1);
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, names[i], 1, 1, 0), answers[i], 1, 300)) << i;
    ASSERT_LE(cache.size(), 200u);
    ASSERT_FALSE(cache.Find(MakeCacheKey(0, names[i], 1, 1, 0), names[i], 1).answer.empty()) << i;
    if (i >= 200) {
      ASSERT_GE(cache.size(), 190u) << i;
    }
  }
  EXPECT_LE(cache.evictions(), 210u);
  EXPECT_FALSE(cache.Find(MakeCacheKey(0, names[399], 1, 1, 0), names[399], 2).answer.empty());
}

TEST(Cache, HoldsItsCapacityOfTheLargestAnswers) {
  Cache cache(100);
  MessageBuilder big(1, kAnswer);
  big.Question("a.example.", 1);
  while (big.bytes().size() + 16 <= Cache::kMaxAnswerBytes)
    big.AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 1));
  Bytes answer = big.bytes();
  answer.resize(Cache::kMaxAnswerBytes);
  std::vector<Bytes> names;
  for (int i = 0; i < 100; ++i) names.push_back(WireName("b" + std::to_string(i) + ".example."));
  for (std::size_t i = 0; i < 100; ++i)
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, names[i], 1, 1, 0), answer, 0, 300));
  // The log is sized in octets, as the fixed slots were, and three such records leave a
  // segment's tail unused: nine in ten of them fit.
  EXPECT_GE(cache.size(), 90u);
  EXPECT_LE(cache.evictions(), 10u);
}

TEST(Cache, ItsMemoryBoundIsThatOfFixedSlotsOfTheLargestAnswer) {
  // What the memory limit fitting (core/memory/budget.cc) counts on: no more than the
  // 1 232-octet slots took, with their entries and index, but for a segment to append to
  // and the pages of its tables.
  constexpr std::uint64_t kFixedSlotsPerEntry = 1232 + 56 + 8;
  for (std::uint32_t capacity : {1u, 100u, 9984u, 1000000u}) {
    EXPECT_LE(Cache::MemoryBound(capacity),
              std::uint64_t{capacity} * (kFixedSlotsPerEntry + 16) + 5 * 4096)
        << capacity;
    EXPECT_GE(Cache::MemoryBound(capacity), std::uint64_t{capacity} * 1232) << capacity;
  }
}

TEST(Cache, ALiveEntryIsNotEvictedWhileTheCacheHasRoom) {
  // Short-lived names die around a long-lived one; reusing their room must not take it.
  Cache cache(1000);
  const Bytes long_lived = WireName("long.example.");
  const CacheKey key = MakeCacheKey(0, long_lived, 1, 1, 0);
  ASSERT_TRUE(cache.Insert(key, PositiveAnswer("long.example.", 3600), 0, 3600));
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 200; ++i) {
      const std::string text = "s" + std::to_string(round) + "-" + std::to_string(i) + ".example.";
      ASSERT_TRUE(cache.Insert(MakeCacheKey(0, WireName(text), 1, 1, 0),
                               PositiveAnswer(text.c_str(), 1), round * 2000, 1));
    }
    ASSERT_LE(cache.size(), 1000u);
  }
  // Never asked for in between, so no second chance saved it.
  EXPECT_FALSE(cache.Find(key, long_lived, 40000).answer.empty());
  // The dead names' room was reused: the log holds about one round of names, not twenty.
  EXPECT_LE(cache.answer_bytes_made(), 16u * AnswerLog::kSegmentBytes);
}

TEST(Cache, ReplacingOneKeyOverAndOverKeepsTheLogSmall) {
  Cache cache(1000);
  MessageBuilder large(1, kAnswer);
  large.Question("large.example.", 1);
  // Over a quarter of a segment, so the oldest segment never looks mostly dead.
  for (int i = 0; i < 70; ++i)
    large.AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, static_cast<std::uint8_t>(i)));
  const Bytes pinned_name = WireName("large.example.");
  ASSERT_TRUE(cache.Insert(MakeCacheKey(0, pinned_name, 1, 1, 0), large.bytes(), 0, 3600));
  const Bytes churned = WireName("churn.example.");
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, churned, 1, 1, 0),
                             PositiveAnswer("churn.example.", 300), i, 300));
  }
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_LE(cache.answer_bytes_made(), 4u * AnswerLog::kSegmentBytes);
  EXPECT_EQ(cache.Find(MakeCacheKey(0, pinned_name, 1, 1, 0), pinned_name, 20000).answer.size(),
            large.bytes().size());
}

TEST(Cache, ASmallFullCacheLosesOneEntryPerInsertNotASegment) {
  for (bool asked : {false, true}) {
    Cache cache(20);
    std::vector<Bytes> names;
    for (int i = 0; i < 21; ++i) names.push_back(WireName("f" + std::to_string(i) + ".example."));
    for (std::size_t i = 0; i < 20; ++i) {
      const std::string text = "f" + std::to_string(i) + ".example.";
      ASSERT_TRUE(cache.Insert(MakeCacheKey(0, names[i], 1, 1, 0),
                               PositiveAnswer(text.c_str(), 300), 0, 300));
    }
    if (asked) {
      for (std::size_t i = 0; i < 20; ++i)
        ASSERT_FALSE(cache.Find(MakeCacheKey(0, names[i], 1, 1, 0), names[i], 1).answer.empty());
    }
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, names[20], 1, 1, 0),
                             PositiveAnswer("f20.example.", 300), 2, 300));
    EXPECT_EQ(cache.size(), 20u) << asked;
    EXPECT_EQ(cache.evictions(), 1u) << asked;
  }
}

TEST(Cache, AFullCacheEvictsTheOldestFirst) {
  // Never asked for: CLOCK without a second chance is FIFO. 12 inserts into a full
  // cache evict exactly the 12 oldest, across segments.
  Cache cache(128);
  std::vector<Bytes> names;
  std::vector<Bytes> answers;
  for (int i = 0; i < 140; ++i) {
    const std::string text = "old-name-number-" + std::to_string(i) + ".example.";
    names.push_back(WireName(text));
    answers.push_back(MessageBuilder(1, kAnswer)
                          .Question(text, 1)
                          .AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 1))
                          .AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 2))
                          .bytes());
  }
  for (std::size_t i = 0; i < 140; ++i)
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, names[i], 1, 1, 0), answers[i], 0, 300));
  EXPECT_EQ(cache.size(), 128u);
  EXPECT_EQ(cache.evictions(), 12u);
  for (std::size_t i = 0; i < 140; ++i) {
    EXPECT_EQ(cache.Find(MakeCacheKey(0, names[i], 1, 1, 0), names[i], 1).answer.empty(), i < 12)
        << i;
  }
}

TEST(ResponseCache, AnAnswerThatCannotBeKeptTakesTheOlderOneOut) {
  // A stale NXDOMAIN, then the upstream's answer is too large to cache: the NXDOMAIN
  // must not go on being served (and refreshed) for the rest of its stale window.
  ResponseCache cache(4, 4);
  const Bytes qname = WireName("big.example.");
  const CacheKey key = MakeCacheKey(1, qname, 1, 1, 0);
  const Bytes nxdomain =
      MessageBuilder(1, kAnswer | wire::rcode::kNxDomain).Question("big.example.", 1).bytes();
  ASSERT_TRUE(cache.Insert(true, key, nxdomain, 0, 5, 3600));
  MessageBuilder big(1, kAnswer);
  big.Question("big.example.", 1);
  for (int i = 0; i < 100; ++i) big.AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 1));
  ASSERT_GT(big.bytes().size(), Cache::kMaxAnswerBytes);
  EXPECT_FALSE(cache.Insert(false, key, big.bytes(), 10'000, 300, 3600));
  EXPECT_TRUE(cache.Find(key, qname, 10'000).answer.empty());
  EXPECT_EQ(cache.denial().size(), 0u);
}

TEST(Cache, AReplacedAnswerNeverComesBackThroughCleaning) {
  // Same name, same size, different address: only the newer may ever be served, however
  // often its segment is cleaned and moved.
  Cache cache(3000);
  const Bytes name = WireName("k.example.");
  const CacheKey key = MakeCacheKey(0, name, 1, 1, 0);
  const Bytes older = MessageBuilder(1, kAnswer)
                          .Question("k.example.", 1)
                          .AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 1))
                          .bytes();
  const Bytes newer = MessageBuilder(1, kAnswer)
                          .Question("k.example.", 1)
                          .AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 2))
                          .bytes();
  ASSERT_TRUE(cache.Insert(key, older, 0, 3600));
  ASSERT_TRUE(cache.Insert(key, newer, 0, 3600));
  const Bytes churned = WireName("churn.example.");
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, churned, 1, 1, 0), PositiveAnswer("churn.example.", 1),
                             i * 10, 1));
    const std::string text = "d" + std::to_string(i) + ".example.";
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, WireName(text), 1, 1, 0),
                             PositiveAnswer(text.c_str(), 1), i * 10, 1));
    if (i % 50 == 0) {
      const Cache::Hit hit = cache.Find(key, name, i * 10, 0);
      ASSERT_EQ(Bytes(hit.answer.begin(), hit.answer.end()), newer) << i;
    }
  }
}

TEST(Cache, AnswersTakeMemoryByTheirSize) {
  // 2 000 answers of about 60 octets take about 2 000 * 72 octets of log, where fixed
  // slots of the largest answer took 2 000 * 1 232.
  Cache cache(9984);
  std::size_t answer_bytes = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string text = "n" + std::to_string(i) + ".example.";
    const Bytes answer = PositiveAnswer(text.c_str(), 300);
    answer_bytes += answer.size();
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, WireName(text), 1, 1, 0), answer, 0, 300));
  }
  EXPECT_LE(cache.answer_bytes_made(), answer_bytes + 2000 * 16 + AnswerLog::kSegmentBytes);
  EXPECT_GE(cache.answer_bytes_made(), answer_bytes);
}

TEST(Cache, AReplacedOrErasedEntryLeavesNoTraceWhenItsSegmentIsCleaned) {
  Cache cache(300);
  std::vector<Bytes> names;
  for (int i = 0; i < 3000; ++i) names.push_back(WireName("r" + std::to_string(i) + ".example."));
  const CacheKey kept = MakeCacheKey(0, names[0], 1, 1, 0);
  const CacheKey erased = MakeCacheKey(0, names[1], 1, 1, 0);
  const Bytes first = PositiveAnswer("r0.example.", 300);
  const Bytes second = MessageBuilder(1, kAnswer)
                           .Question("r0.example.", 1)
                           .AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 2))
                           .AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 3))
                           .bytes();
  ASSERT_TRUE(cache.Insert(kept, first, 0, 300));
  ASSERT_TRUE(cache.Insert(erased, PositiveAnswer("r1.example.", 300), 0, 300));
  ASSERT_FALSE(cache.Find(erased, names[1], 0).answer.empty());
  ASSERT_TRUE(cache.Insert(kept, second, 0, 300));
  cache.Erase(erased);
  EXPECT_EQ(cache.size(), 1u);
  // Fill and churn so that every segment is cleaned several times; the kept entry stays
  // (it is asked for) and is always the second answer.
  for (std::size_t i = 2; i < names.size(); ++i) {
    const Cache::Hit hit = cache.Find(kept, names[0], 1);
    ASSERT_EQ(Bytes(hit.answer.begin(), hit.answer.end()), second) << i;
    ASSERT_TRUE(cache.Find(erased, names[1], 1).answer.empty());
    const std::string text = "r" + std::to_string(i) + ".example.";
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, names[i], 1, 1, 0), PositiveAnswer(text.c_str(), 300),
                             1, 300));
  }
  EXPECT_LE(cache.size(), 300u);
}

TEST(Cache, RefusesAnswersLargerThanASlot) {
  Cache cache(4);
  MessageBuilder big(1, kAnswer);
  big.Question("a.example.", 1);
  for (int i = 0; i < 100; ++i) big.AnswerAt(12, 1, 300, testing::ARdata(10, 0, 0, 1));
  ASSERT_GT(big.bytes().size(), Cache::kMaxAnswerBytes);
  EXPECT_FALSE(cache.Insert(MakeCacheKey(0, WireName("a.example."), 1, 1, 0), big.bytes(), 0, 300));
}

TEST(Cache, HitAndInsertIntoAFullCacheAllocateNothing) {
  Cache cache(4);
  const Bytes answer = PositiveAnswer("a.example.", 300);
  const Bytes qname = WireName("a.example.");
  for (std::uint32_t i = 0; i < 4; ++i)
    ASSERT_TRUE(cache.Insert(MakeCacheKey(i, qname, 1, 1, 0), answer, 0, 300));
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
  EXPECT_EQ(cache.Find(key, qname, 71'000).hits, 1u);          // without a window: not counted
}

TEST(ResponseCache, SuccessAndDenialHaveTheirOwnCapacityAndAKeyLivesInOne) {
  ResponseCache cache(2, 1);
  const Bytes qname = WireName("www.example.");
  const CacheKey key = MakeCacheKey(1, qname, 1, 1, 0);
  const Bytes positive = PositiveAnswer("www.example.", 300);
  const Bytes servfail =
      MessageBuilder(1, kAnswer | wire::rcode::kServFail).Question("www.example.", 1).bytes();
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
