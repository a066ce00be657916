// Which names are hot: the tracker's line (a share past 0.25 / (N - 1) and a rate past
// the minimum), its hysteresis, its cap and who keeps a place at it; the sample ring.
#include "core/hot_names.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace ringdns::core {
namespace {

// One round: `counts[i]` samples of hash i + 1, taken 1 in `every`, over one second.
bool Round(HotNameTracker& tracker, const std::vector<std::uint32_t>& counts,
           std::uint32_t every = 1) {
  for (std::size_t i = 0; i < counts.size(); ++i) {
    for (std::uint32_t n = 0; n < counts[i]; ++n) tracker.Add(static_cast<std::uint32_t>(i + 1));
  }
  return tracker.EndRound(1.0, every);
}

TEST(HotNameTracker, TwoShardsSpreadANameAboveAQuarterOfTheQueries) {
  HotNameTracker tracker(2, 100, 8);
  EXPECT_FALSE(Round(tracker, {250, 250, 250, 250}));  // 25% each: steered
  EXPECT_TRUE(tracker.hot().empty());
  EXPECT_TRUE(Round(tracker, {400, 200, 200, 200}));  // 40%
  EXPECT_EQ(tracker.hot(), std::vector<std::uint32_t>{1});
}

TEST(HotNameTracker, MoreShardsSpreadSmallerShares) {
  HotNameTracker tracker(16, 100, 8);          // the line: 0.25 / 15 = 1.7%
  std::vector<std::uint32_t> counts(100, 90);  // 100 names of 0.9% each
  counts[0] = 300;                             // 3.2%
  EXPECT_TRUE(Round(tracker, counts));
  EXPECT_EQ(tracker.hot(), std::vector<std::uint32_t>{1});
}

TEST(HotNameTracker, ANameBelowTheRateIsNeverSpread) {
  HotNameTracker tracker(2, 2000, 8);
  EXPECT_FALSE(Round(tracker, {1000}));       // all queries, but 1 000 a second
  EXPECT_TRUE(Round(tracker, {50, 14}, 64));  // 3 200 a second, sampled 1 in 64
  EXPECT_EQ(tracker.hot(), std::vector<std::uint32_t>{1});
}

TEST(HotNameTracker, AHotNameStaysUntilItFallsBelowHalfTheLine) {
  HotNameTracker tracker(2, 100, 8);
  ASSERT_TRUE(Round(tracker, {500, 500}));  // both 50%
  EXPECT_EQ(tracker.hot(), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_TRUE(Round(tracker, {200, 200, 600}));  // 20%: under the line, above its half
  EXPECT_EQ(tracker.hot(), (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_TRUE(Round(tracker, {100, 300, 600}));  // 10%: below half the line
  EXPECT_EQ(tracker.hot(), (std::vector<std::uint32_t>{2, 3}));
  // Too few samples to judge (an idle or bursty second): nothing changes.
  EXPECT_FALSE(Round(tracker, {}));
  EXPECT_FALSE(Round(tracker, {0, 0, 0, 40}));
  EXPECT_EQ(tracker.hot(), (std::vector<std::uint32_t>{2, 3}));
}

TEST(HotNameTracker, AtTheCapNamesAlreadySpreadKeepTheirPlace) {
  HotNameTracker tracker(64, 1, 2);
  ASSERT_TRUE(Round(tracker, {100, 100}));
  EXPECT_EQ(tracker.hot(), (std::vector<std::uint32_t>{1, 2}));
  // Busier newcomers do not push the spread names back onto one shard.
  EXPECT_FALSE(Round(tracker, {100, 100, 500, 600}));
  EXPECT_EQ(tracker.hot(), (std::vector<std::uint32_t>{1, 2}));
  // Once one fades, the busiest newcomer takes its place.
  EXPECT_TRUE(Round(tracker, {100, 0, 500, 600}));
  EXPECT_EQ(tracker.hot(), (std::vector<std::uint32_t>{1, 4}));
}

TEST(HotNameTracker, AtMostEightNamesAreSpreadTheBusiestFirst) {
  HotNameTracker tracker(64, 1, 8);
  std::vector<std::uint32_t> counts;
  for (std::uint32_t i = 0; i < 12; ++i) counts.push_back(100 + i);
  ASSERT_TRUE(Round(tracker, counts));
  EXPECT_EQ(tracker.hot(), (std::vector<std::uint32_t>{5, 6, 7, 8, 9, 10, 11, 12}));
}

TEST(HotNameTracker, OneShardNeverSpreads) {
  HotNameTracker tracker(1, 1, 8);
  EXPECT_FALSE(Round(tracker, {1000}));
}

TEST(QuestionSamples, SamplesOneInEveryAndDropsWhenFull) {
  QuestionSamples samples(4);
  int due = 0;
  for (int i = 0; i < 40; ++i) due += samples.Due() ? 1 : 0;
  EXPECT_EQ(due, 10);
  for (std::uint32_t i = 0; i < QuestionSamples::kCapacity + 10; ++i)
    samples.Push(i);  // the last 10 dropped
  std::uint32_t expected = 0;
  bool in_order = true;
  const std::uint64_t taken =
      samples.Drain([&](std::uint32_t h) { in_order = in_order && h == expected++; });
  EXPECT_EQ(taken, QuestionSamples::kCapacity);
  EXPECT_TRUE(in_order);
  samples.Push(7);
  EXPECT_EQ(samples.Drain([](std::uint32_t) {}), 1u);
}

}  // namespace
}  // namespace ringdns::core
