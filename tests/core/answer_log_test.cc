// AnswerLog, the cache's answer storage: records take what their answer takes, segments
// are made only as the log fills, and cleaning keeps what its owner keeps, packed, and
// says where each kept record went.
#include "core/cache/answer_log.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace ringdns::core {
namespace {

std::vector<std::uint8_t> Answer(std::size_t len, std::uint8_t fill) {
  return std::vector<std::uint8_t>(len, fill);
}

TEST(AnswerLog, ARecordTakesItsAnswerPlusAHeaderPaddedToEight) {
  EXPECT_EQ(AnswerLog::RecordBytes(0), 8u);
  EXPECT_EQ(AnswerLog::RecordBytes(1), 16u);
  EXPECT_EQ(AnswerLog::RecordBytes(90), 104u);
  EXPECT_EQ(AnswerLog::RecordBytes(1232), 1240u);
  // 3 records of 1 232 octets fit a segment: 6 need two, and one more to append to.
  EXPECT_EQ(AnswerLog::SegmentsFor(6, 1232), 3u);
  EXPECT_EQ(AnswerLog::SegmentsFor(7, 1232), 4u);
  EXPECT_EQ(AnswerLog::SegmentsFor(0, 1232), 0u);
}

TEST(AnswerLog, SegmentsAreMadeOnlyAsAnswersArrive) {
  AnswerLog log(100);
  EXPECT_EQ(log.segments_made(), 0u);
  EXPECT_FALSE(log.Fits(1));
  ASSERT_TRUE(log.OpenNew());
  std::map<std::uint32_t, std::uint8_t> written;
  // 150 answers of 100 octets (112 with the header): 36 fill a segment.
  for (std::uint8_t i = 0; i < 150; ++i) {
    if (!log.Fits(100)) {
      ASSERT_TRUE(log.OpenNew());
    }
    written[log.Append(i, Answer(100, i))] = i;
  }
  EXPECT_EQ(log.segments_made(), 5u);
  EXPECT_EQ(log.segments_queued(), 4u);
  for (const auto& [at, fill] : written) {
    const std::span<const std::uint8_t> answer = log.Answer(at);
    ASSERT_EQ(answer.size(), 100u);
    EXPECT_EQ(answer[0], fill);
    EXPECT_EQ(answer[99], fill);
  }
}

// Cleans the oldest segment to its end, keeping the records `keep(owner)` wants.
template <typename Keep>
bool CleanWhole(AnswerLog& log, Keep keep) {
  return log.CleanOldest([](auto...) {}, [] { return false; },
                         [&](std::uint32_t owner, std::uint32_t) { return keep(owner); },
                         [](auto...) {});
}

TEST(AnswerLog, CleaningPacksTheKeptRecordsAndSaysWhereTheyWent) {
  AnswerLog log(2);
  ASSERT_TRUE(log.OpenNew());
  std::vector<std::uint32_t> at;
  for (std::uint8_t i = 0; i < 10; ++i) at.push_back(log.Append(i, Answer(20u + i, i)));
  std::vector<std::uint32_t> decided;
  std::map<std::uint32_t, std::uint32_t> moved;  // owner -> new place
  // Nothing is queued: the open segment is the one cleaned.
  ASSERT_TRUE(log.CleanOldest(
      [&](std::uint32_t owner, std::uint32_t where, std::uint32_t bytes) {
        EXPECT_EQ(where, at[owner]);
        EXPECT_EQ(bytes, AnswerLog::RecordBytes(20u + owner));
        decided.push_back(owner);
      },
      [] { return false; },
      [&](std::uint32_t owner, std::uint32_t where) {
        EXPECT_EQ(where, at[owner]);  // read before anything is moved over it
        return owner % 3 == 0;        // keeps 0, 3, 6, 9
      },
      [&](std::uint32_t owner, std::uint32_t where) { moved[owner] = where; }));
  EXPECT_EQ(decided, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  ASSERT_EQ(moved.size(), 4u);
  std::uint32_t expected_at = moved[0];
  for (std::uint32_t owner : {0u, 3u, 6u, 9u}) {
    EXPECT_EQ(moved[owner], expected_at) << "kept records are packed in order";
    const std::span<const std::uint8_t> answer = log.Answer(moved[owner]);
    ASSERT_EQ(answer.size(), 20u + owner);
    EXPECT_EQ(answer[0], owner);
    EXPECT_EQ(answer.back(), owner);
    expected_at += AnswerLog::RecordBytes(20u + owner);
  }
  // The cleaned segment is appended to again, after what it kept, and is the only one made.
  EXPECT_TRUE(log.Fits(5));
  EXPECT_EQ(log.Append(42, Answer(5, 42)), expected_at);
  EXPECT_EQ(log.segments_made(), 1u);
}

TEST(AnswerLog, ACleanThatStopsEarlyGoesOnWhereItStopped) {
  AnswerLog log(3);
  ASSERT_TRUE(log.OpenNew());
  for (std::uint8_t i = 0; i < 6; ++i) (void)log.Append(i, Answer(500, i));
  ASSERT_TRUE(log.OpenNew());  // the first segment is queued
  (void)log.Append(100, Answer(10, 100));
  std::vector<std::uint32_t> decided;
  int packs = 0;
  const auto clean_two = [&] {
    std::size_t before = decided.size();
    return log.CleanOldest([&](std::uint32_t owner, auto...) { decided.push_back(owner); },
                           [&] { return decided.size() - before == 2; },
                           [&](std::uint32_t owner, std::uint32_t) {
                             ++packs;
                             return owner == 5;
                           },
                           [](auto...) {});
  };
  ASSERT_TRUE(clean_two());
  EXPECT_EQ(decided, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(log.oldest_decided(), 2 * AnswerLog::RecordBytes(500));
  EXPECT_EQ(packs, 0) << "not packed before every record is decided";
  ASSERT_TRUE(clean_two());
  ASSERT_TRUE(clean_two());
  EXPECT_EQ(decided, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(packs, 6);
  EXPECT_EQ(log.oldest_decided(), 0u);
  // It is now the open segment, holding record 5 only; the one that was open is queued.
  std::vector<std::uint32_t> oldest;
  log.ForEachInOldest([&](std::uint32_t owner, auto...) { oldest.push_back(owner); });
  EXPECT_EQ(oldest, std::vector<std::uint32_t>{100});
  EXPECT_EQ(log.Append(7, Answer(10, 7)), AnswerLog::RecordBytes(500));
}

TEST(AnswerLog, OldestFirstAndFreedSegmentsAreReusedBeforeNewOnes) {
  AnswerLog log(3);
  ASSERT_TRUE(log.OpenNew());
  const std::uint32_t first = log.Append(1, Answer(2000, 1));
  ASSERT_TRUE(log.OpenNew());
  const std::uint32_t second = log.Append(2, Answer(2000, 2));
  std::vector<std::uint32_t> oldest;
  log.ForEachInOldest(
      [&](std::uint32_t owner, std::uint32_t, std::uint32_t) { oldest.push_back(owner); });
  EXPECT_EQ(oldest, std::vector<std::uint32_t>{1});
  // Cleaning drops the first segment's record: it opens, empty, and the open one queues.
  ASSERT_TRUE(CleanWhole(log, [](std::uint32_t) { return false; }));
  oldest.clear();
  log.ForEachInOldest(
      [&](std::uint32_t owner, std::uint32_t, std::uint32_t) { oldest.push_back(owner); });
  EXPECT_EQ(oldest, std::vector<std::uint32_t>{2});
  EXPECT_EQ(log.Answer(second)[0], 2);
  EXPECT_EQ(log.Append(3, Answer(10, 3)), first);
  // The second segment's record goes too: it is left open and empty.
  ASSERT_TRUE(CleanWhole(log, [](std::uint32_t owner) { return owner == 3; }));
  EXPECT_FALSE(log.OpenFree());
  EXPECT_EQ(log.segments_made(), 2u);
  // Opening another puts the empty one back among the free ones, to be taken next.
  EXPECT_TRUE(log.OpenNew());
  EXPECT_EQ(log.segments_made(), 3u);
  EXPECT_FALSE(log.CanGrow());
  EXPECT_FALSE(log.OpenNew());
  (void)log.Append(4, Answer(10, 4));
  EXPECT_TRUE(log.OpenFree());
  EXPECT_EQ(log.Append(5, Answer(10, 5)), second);
}

TEST(AnswerLog, AnEmptyLogHasNothingToClean) {
  AnswerLog log(2);
  EXPECT_FALSE(CleanWhole(log, [](std::uint32_t) { return true; }));
  ASSERT_TRUE(log.OpenNew());
  EXPECT_FALSE(CleanWhole(log, [](std::uint32_t) { return true; }));
  EXPECT_TRUE(log.OpenFree());  // the empty open segment went back to the free ones
}

TEST(AnswerLog, ALogOfFourGibibytesWritesItsLastSegmentWhereItIs) {
  // Positions are 32-bit octet offsets: the log is capped just under 4 GiB, however large
  // the capacity, and its last segment is written where it is, not over the first.
  EXPECT_EQ(AnswerLog::SegmentsFor(100'000'000, 1232), AnswerLog::kMaxSegments);
  AnswerLog log(AnswerLog::kMaxSegments + 10);  // reserved, not touched
  EXPECT_EQ(log.max_segments(), AnswerLog::kMaxSegments);
  ASSERT_TRUE(log.OpenNew());
  const std::uint32_t first = log.Append(1, Answer(100, 1));
  std::uint32_t last = first;
  while (log.OpenNew()) {
    if (log.segments_made() == AnswerLog::kMaxSegments) last = log.Append(2, Answer(100, 2));
  }
  EXPECT_EQ(log.segments_made(), AnswerLog::kMaxSegments);
  ASSERT_NE(last, first);
  EXPECT_EQ(std::uint64_t{last},
            std::uint64_t{AnswerLog::kMaxSegments - 1} * AnswerLog::kSegmentBytes);
  EXPECT_EQ(log.Answer(first)[0], 1);
  EXPECT_EQ(log.Answer(last)[99], 2);
}

}  // namespace
}  // namespace ringdns::core
