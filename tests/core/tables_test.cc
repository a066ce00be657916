// The shard's fixed tables: the (socket, TXID) and coalescing indexes, the timer wheel
// and the in-flight slots, checked against simple models, and never allocating after construction.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <span>
#include <vector>

#include "core/base/fixed_queue.h"
#include "core/health.h"
#include "core/shard/inflight.h"
#include "core/shard/slot_index.h"
#include "core/shard/timer_wheel.h"
#include "testing/alloc_counter.h"

namespace ringdns::core {
namespace {

TEST(PendingIndex, AgreesWithAMapUnderRandomInsertsAndErases) {
  constexpr std::uint32_t kMax = 1000;
  PendingIndex index(kMax);
  std::map<std::uint32_t, std::uint32_t> model;
  std::mt19937 rng(7);
  for (int step = 0; step < 200000; ++step) {
    // Few sockets and a narrow ID range force collisions and long probe runs.
    const std::uint32_t key = PendingIndex::Key(static_cast<std::uint16_t>(rng() % 4),
                                                static_cast<std::uint16_t>(rng() % 512));
    if (model.count(key) != 0) {
      ASSERT_EQ(index.Find(key), model[key]);
      index.Erase(key);
      model.erase(key);
    } else if (model.size() < kMax) {
      const std::uint32_t slot = static_cast<std::uint32_t>(rng() % kMax);
      index.Insert(key, slot);
      model[key] = slot;
    }
    const std::uint32_t probe = PendingIndex::Key(static_cast<std::uint16_t>(rng() % 4),
                                                  static_cast<std::uint16_t>(rng() % 512));
    ASSERT_EQ(index.Contains(probe), model.count(probe) != 0);
  }
  for (const auto& [key, slot] : model) EXPECT_EQ(index.Find(key), slot);
}

TEST(CoalescingIndex, AgreesWithAMapForSixtyFourBitKeysSharingHomeCells) {
  constexpr std::uint32_t kMax = 256;
  CoalescingIndex index(kMax);
  std::map<std::uint64_t, std::uint32_t> model;
  std::mt19937_64 rng(3);
  // Keys that differ only in their high bits land near each other: long probe runs.
  std::vector<std::uint64_t> keys;
  for (std::uint64_t i = 0; i < 600; ++i) keys.push_back((i << 40) | (rng() & 0xff));
  for (int step = 0; step < 100000; ++step) {
    const std::uint64_t key = keys[rng() % keys.size()];
    if (model.count(key) != 0) {
      ASSERT_EQ(index.Find(key), model[key]);
      index.Erase(key);
      model.erase(key);
    } else if (model.size() < kMax) {
      const std::uint32_t slot = static_cast<std::uint32_t>(rng() % 1000);
      index.Insert(key, slot);
      model[key] = slot;
    }
  }
  for (const auto& [key, slot] : model) EXPECT_EQ(index.Find(key), slot);
  for (std::uint64_t key : keys) EXPECT_EQ(index.Contains(key), model.count(key) != 0);
}

TEST(PendingIndex, AllocatesNothingAfterConstruction) {
  PendingIndex index(64);
  EXPECT_EQ(testing::CountAllocations([&] {
              for (std::uint16_t i = 0; i < 64; ++i) index.Insert(PendingIndex::Key(1, i), i);
              for (std::uint16_t i = 0; i < 64; ++i) index.Erase(PendingIndex::Key(1, i));
            }),
            0u);
}

TEST(TimerWheel, FiresEachTimerOnceAtOrAfterItsDeadline) {
  constexpr std::uint32_t kSlots = 500;
  TimerWheel wheel(kSlots, 1000);
  std::mt19937 rng(11);
  std::vector<std::int64_t> deadline(kSlots);
  for (std::uint32_t s = 0; s < kSlots; ++s) {
    // Up to two turns of the wheel, so some wait for a later turn.
    deadline[s] =
        1000 + static_cast<std::int64_t>(rng() % (2 * TimerWheel::kBuckets * TimerWheel::kTickMs));
    wheel.Schedule(s, deadline[s]);
  }
  // Cancel every tenth; reschedule every seventh later.
  for (std::uint32_t s = 0; s < kSlots; s += 10) wheel.Cancel(s);
  for (std::uint32_t s = 3; s < kSlots; s += 7) {
    deadline[s] += 500;
    wheel.Schedule(s, deadline[s]);
  }
  std::vector<int> fired(kSlots, 0);
  for (std::int64_t now = 1000; now <= 2000 + 2 * TimerWheel::kBuckets * TimerWheel::kTickMs;
       now += 3) {
    wheel.Advance(now, [&](std::uint32_t s) {
      EXPECT_GE(now, deadline[s]) << s;
      EXPECT_LT(now, deadline[s] + 2 * TimerWheel::kTickMs + 3) << s;
      ++fired[s];
    });
  }
  for (std::uint32_t s = 0; s < kSlots; ++s) {
    const bool cancelled = s % 10 == 0 && !(s >= 3 && (s - 3) % 7 == 0);
    EXPECT_EQ(fired[s], cancelled ? 0 : 1) << s;
  }
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, ATimerScheduledWhileFiringRunsOnTheNextTick) {
  TimerWheel wheel(2, 0);
  wheel.Schedule(0, 100);
  int second_fired_at = -1;
  std::int64_t now = 0;
  for (now = 0; now < 200; ++now) {
    wheel.Advance(now, [&](std::uint32_t s) {
      if (s == 0) wheel.Schedule(1, now);  // due immediately, like a failover
      if (s == 1) second_fired_at = static_cast<int>(now);
    });
  }
  EXPECT_GE(second_fired_at, 100);
  EXPECT_LE(second_fired_at, 100 + TimerWheel::kTickMs);
}

TEST(TimerWheel, NextDueIsTheEarliestDeadlineAndAnIdleLoopSleepingToItMissesNone) {
  TimerWheel wheel(8, 1000);
  EXPECT_EQ(wheel.NextDueMs(2000), 2000);  // nothing scheduled: the caller's limit
  wheel.Schedule(0, 5000);
  wheel.Schedule(1, 1301);
  wheel.Schedule(2, 1000 + 3 * TimerWheel::kBuckets * TimerWheel::kTickMs);  // three turns on
  EXPECT_EQ(wheel.NextDueMs(10'000), 1301);
  EXPECT_EQ(wheel.NextDueMs(1200), 1200);
  wheel.Cancel(1);
  EXPECT_EQ(wheel.NextDueMs(10'000), 5000);
  // Past a turn nothing is promised: the limit is cut to one turn from now, and the far
  // timer is passed over in its bucket until its own turn.
  EXPECT_LE(wheel.NextDueMs(100'000), 1000 + TimerWheel::kBuckets * TimerWheel::kTickMs);
  // A loop that sleeps from due time to due time fires every timer, each at its deadline.
  std::vector<std::int64_t> fired_at(8, -1);
  std::int64_t now = 1000;
  int wakes = 0;
  while (wheel.size() > 0 && wakes < 100) {
    now = wheel.NextDueMs(now + 60'000);
    ++wakes;
    wheel.Advance(now, [&](std::uint32_t s) { fired_at[s] = now; });
  }
  EXPECT_EQ(fired_at[0], 5000);
  EXPECT_EQ(fired_at[2], 1000 + 3 * TimerWheel::kBuckets * TimerWheel::kTickMs);
  EXPECT_EQ(fired_at[1], -1);
  EXPECT_LE(wakes, 8);  // one per turn at most, beside the deadlines
}

TEST(TimerWheel, ACrowdedBucketIsTakenAsDueWhenItsTickBeginsNeverLater) {
  constexpr std::int64_t kTurn = std::int64_t{TimerWheel::kBuckets} * TimerWheel::kTickMs;
  TimerWheel wheel(32, 0);
  wheel.Schedule(0, 102);  // due in this turn, in the bucket of tick 25
  EXPECT_EQ(wheel.NextDueMs(10'000), 102);
  // Later turns' timers in the same bucket, read before it (a list takes new ones first):
  // past the few it reads, the bucket is due at its tick's start, early and not late.
  for (std::uint32_t s = 1; s < 32; ++s) wheel.Schedule(s, 101 + kTurn);
  EXPECT_EQ(wheel.NextDueMs(10'000), 100);
  int fired = 0;
  wheel.Advance(102, [&](std::uint32_t s) { fired += s == 0 ? 1 : 100; });
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, ATimerScheduledWhenAlreadyDueIsDueOnTheNextTick) {
  TimerWheel wheel(2, 1000);
  wheel.Advance(1000, [](std::uint32_t) {});
  wheel.Schedule(0, 900);
  EXPECT_EQ(wheel.NextDueMs(5000), 1000 + TimerWheel::kTickMs);
  int fired = 0;
  wheel.Advance(1000 + TimerWheel::kTickMs, [&](std::uint32_t) { ++fired; });
  EXPECT_EQ(fired, 1);
}

TEST(FixedQueue, AMovedFromQueueIsEmptyAndSharesNothing) {
  std::vector<int> storage(4);
  FixedQueue<int> source{std::span<int>(storage)};
  source.Push(1);
  FixedQueue<int> target = std::move(source);
  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move): what is left behind
  EXPECT_TRUE(source.full());   // no storage: nothing can be pushed into it
  EXPECT_EQ(target.size(), 1u);
  EXPECT_EQ(target.Front(), 1);
  FixedQueue<int> owning(2);
  owning.Push(7);
  FixedQueue<int> moved(std::move(owning));
  EXPECT_EQ(moved.Front(), 7);
  EXPECT_TRUE(owning.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(InflightTable, HandsOutEachSlotOnceAndBumpsTheGeneration) {
  InflightTable table(3);
  std::set<std::uint32_t> taken;
  for (int i = 0; i < 3; ++i) taken.insert(table.Take());
  EXPECT_EQ(taken.size(), 3u);
  EXPECT_EQ(table.Take(), InflightTable::kNone);
  const std::uint32_t slot = *taken.begin();
  const std::uint16_t generation = table[slot].generation;
  table.Release(slot);
  EXPECT_EQ(table.Take(), slot);
  EXPECT_EQ(table[slot].generation, generation + 1);
  EXPECT_EQ(testing::CountAllocations([&] {
              table.Release(slot);
              (void)table.Take();
            }),
            0u);
}

TEST(HealthTable, DownAfterMoreThanMaxFailsInARowAndUpOnAnySuccess) {
  HealthTable health(2);
  EXPECT_FALSE(health.Failure(0, 2));
  EXPECT_FALSE(health.Failure(0, 2));
  EXPECT_FALSE(health.down(0));       // two failures: not more than max_fails
  EXPECT_TRUE(health.Failure(0, 2));  // the third marks it down, once
  EXPECT_TRUE(health.down(0));
  EXPECT_FALSE(health.Failure(0, 2));
  EXPECT_FALSE(health.down(1));  // upstreams are independent
  health.Success(0);
  EXPECT_FALSE(health.down(0));
  EXPECT_FALSE(health.Failure(0, 2));                                // the count started again
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(health.Failure(1, 0));  // max_fails 0: never down
  EXPECT_FALSE(health.down(1));
}

}  // namespace
}  // namespace ringdns::core
