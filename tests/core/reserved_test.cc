// Memory reserved at start and touched as it is used (core/base/reserved.h), and the
// tables built on it: resident memory follows what is written, not the capacity.
#include "core/base/reserved.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/cache/cache.h"
#include "core/shard/inflight.h"
#include "testing/message_builder.h"

namespace ringdns::core {
namespace {

constexpr std::size_t kMiB = 1024 * 1024;

// ThreadSanitizer keeps shadow memory for every byte touched, resident beside it: these
// tests measure resident memory, so they say nothing there.
#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif
#else
constexpr bool kThreadSanitizer = false;
#endif
#define SKIP_UNDER_TSAN() \
  if (kThreadSanitizer) GTEST_SKIP() << "resident memory includes ThreadSanitizer's shadow"

// This process's resident memory, from /proc/self/statm.
std::size_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long size = 0;
  unsigned long resident = 0;
  const int read = f != nullptr ? std::fscanf(f, "%lu %lu", &size, &resident) : 0;
  if (f != nullptr) std::fclose(f);
  EXPECT_EQ(read, 2);
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

TEST(ReservedBytes, CostsNoResidentMemoryUntilWritten) {
  SKIP_UNDER_TSAN();
  const std::size_t before = ResidentBytes();
  ReservedBytes arena(512 * kMiB);
  EXPECT_LT(ResidentBytes(), before + kMiB);
  EXPECT_EQ(arena.data()[arena.size() - 1], 0);  // reads as zero
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  for (std::size_t at = 0; at < 16 * kMiB; at += page) arena.data()[at] = 1;
  const std::size_t grown = ResidentBytes() - before;
  EXPECT_GE(grown, 15 * kMiB);
  EXPECT_LT(grown, 24 * kMiB);
}

struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  ~Counted() { --alive; }
  std::uint32_t value = 7;  // default member initialisers run
};

TEST(ReservedArray, ConstructsOnGrowKeepsElementsInPlaceAndDestroysThem) {
  {
    ReservedArray<Counted> array(1000);
    EXPECT_EQ(Counted::alive, 0);
    Counted& first = array.Grow();
    first.value = 1;
    for (int i = 0; i < 999; ++i) array.Grow();
    EXPECT_TRUE(array.full());
    EXPECT_EQ(&array[0], &first);  // never moved
    EXPECT_EQ(array[0].value, 1u);
    EXPECT_EQ(array[999].value, 7u);
    EXPECT_EQ(Counted::alive, 1000);
    ReservedArray<Counted> moved = std::move(array);
    EXPECT_EQ(moved.size(), 1000u);
    EXPECT_EQ(Counted::alive, 1000);
  }
  EXPECT_EQ(Counted::alive, 0);
}

TEST(InflightTable, MakesSlotsOnlyForThePeakInFlight) {
  InflightTable table(65536);
  std::vector<std::uint32_t> taken;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 3; ++i) taken.push_back(table.Take());
    for (const std::uint32_t index : taken) table.Release(index);
    taken.clear();
  }
  EXPECT_EQ(table.made(), 3u);
  EXPECT_EQ(table.in_use(), 0u);
  EXPECT_EQ(table.capacity(), 65536u);
}

TEST(Cache, ResidentMemoryFollowsTheEntriesNotTheCapacity) {
  SKIP_UNDER_TSAN();
  // A cache for 100 000 answers of up to 1 232 octets (123 MB if paid in full) that
  // holds 2 000.
  std::vector<testing::Bytes> qnames;
  std::vector<testing::Bytes> answers;
  for (int i = 0; i < 2000; ++i) {
    const std::string name = "n" + std::to_string(i) + ".example.";
    qnames.push_back(testing::WireName(name));
    answers.push_back(testing::MessageBuilder(1, 0x8180).Question(name, 1).bytes());
  }
  const std::size_t before = ResidentBytes();
  Cache cache(100000);
  const std::size_t empty = ResidentBytes() - before;
  EXPECT_LT(empty, 2 * kMiB);  // the index only
  for (std::size_t i = 0; i < qnames.size(); ++i) {
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, qnames[i], 1, 1, 0), answers[i], 0, 300));
  }
  EXPECT_EQ(cache.size(), 2000u);
  // Each answer takes its own size in the log, plus its entry: not a 1 232-octet slot
  // (which would be 2.4 MB more). Beside them: the index's pages, touched wherever the
  // hashes fall (1 MiB for this capacity), and a MiB for the allocator and sanitizers.
  EXPECT_LT(ResidentBytes() - before, empty + 2000 * (answers[0].size() + 128) + 2 * kMiB);
}

TEST(Cache, ResidentMemoryPerEntryIsWithinTwiceTheAnswersSizeOnAKubernetesMix) {
  SKIP_UNDER_TSAN();
  // CoreDNS's default capacity, filled with what a cluster's clients ask: service
  // addresses (A with EDNS), SRV with their targets' addresses, and NXDOMAIN with the
  // zone's SOA for the search-path misses.
  constexpr std::uint32_t kEntries = 9984;
  std::vector<testing::Bytes> qnames;
  std::vector<testing::Bytes> answers;
  std::size_t answer_bytes = 0;
  for (std::uint32_t i = 0; i < kEntries; ++i) {
    const std::string service =
        "svc-" + std::to_string(i) + ".team-" + std::to_string(i % 40) + ".svc.cluster.local.";
    testing::MessageBuilder m(1, 0x8500);
    switch (i % 3) {
      case 0:
        qnames.push_back(testing::WireName(service));
        m.Question(service, 1)
            .AnswerAt(12, 1, 30,
                      testing::ARdata(10, 96, static_cast<std::uint8_t>(i >> 8),
                                      static_cast<std::uint8_t>(i)));
        break;
      case 1: {
        const std::string srv = "_http._tcp." + service;
        qnames.push_back(testing::WireName(srv));
        m.Question(srv, 33)
            .AnswerAt(12, 33, 30, testing::SrvRdata(0, 100, 80, service))
            .Additional(service, 1, 30,
                        testing::ARdata(10, 96, static_cast<std::uint8_t>(i >> 8),
                                        static_cast<std::uint8_t>(i)));
        break;
      }
      default: {
        const std::string miss = service + "cluster.local.";
        qnames.push_back(testing::WireName(miss));
        m = testing::MessageBuilder(1, 0x8503);
        m.Question(miss, 1).Authority(
            "cluster.local.", 6, 30,
            testing::SoaRdata("ns.dns.cluster.local.", "hostmaster.cluster.local.", 1, 7200, 1800,
                              86400, 30));
        break;
      }
    }
    m.Opt(1232, 0);
    answers.push_back(m.bytes());
    answer_bytes += answers.back().size();
  }
  const std::size_t before = ResidentBytes();
  Cache cache(kEntries);
  for (std::uint32_t i = 0; i < kEntries; ++i) {
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, qnames[i], 1, 1, 0), answers[i], 0, 300));
  }
  ASSERT_EQ(cache.size(), kEntries);
  const double average_answer = static_cast<double>(answer_bytes) / kEntries;
  const double per_entry = static_cast<double>(ResidentBytes() - before) / kEntries;
  std::printf("average answer %.0f octets, resident per entry %.0f octets (%.2fx)\n",
              average_answer, per_entry, per_entry / average_answer);
  EXPECT_LT(per_entry, 2 * average_answer);
}

TEST(Cache, ResidentMemoryFollowsTheLiveEntriesUnderChurn) {
  SKIP_UNDER_TSAN();
  // 50 000 distinct names, one a millisecond, each living a second: about a thousand
  // live at any time. Dead entries are reused before the cache grows.
  // Made before measuring: a sanitizer's heap quarantine would count them otherwise.
  std::vector<testing::Bytes> qnames;
  std::vector<testing::Bytes> answers;
  for (int i = 0; i < 50000; ++i) {
    const std::string name = "u" + std::to_string(i) + ".example.";
    qnames.push_back(testing::WireName(name));
    answers.push_back(testing::MessageBuilder(1, 0x8183).Question(name, 1).bytes());
  }
  const std::size_t before = ResidentBytes();
  Cache cache(100000);
  for (std::size_t i = 0; i < qnames.size(); ++i) {
    ASSERT_TRUE(cache.Insert(MakeCacheKey(0, qnames[i], 1, 1, 0), answers[i],
                             static_cast<std::int64_t>(i), 1));
  }
  // Paid per name, 50 000 slots would hold 64 MB.
  EXPECT_LT(ResidentBytes() - before, 8 * kMiB);
}

}  // namespace
}  // namespace ringdns::core
