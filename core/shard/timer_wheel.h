// core/shard/timer_wheel.h: per-shard timeouts for in-flight slots, in a hashed timing wheel.
//
// One timer per slot at most; Schedule, Cancel and Advance are O(1) per timer and never
// allocate (the links are arrays sized at start-up). Deadlines beyond one turn of the
// wheel stay in their bucket and are skipped until their turn comes. Shard-local.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include "core/base/reserved.h"

namespace ringdns::core {

class TimerWheel {
 public:
  static constexpr std::int64_t kTickMs = 4;
  // One turn: ~16.4 s, past the default timeouts (10 s), so few timers wait in a bucket
  // for a later turn, which NextDueMs would have to read past.
  static constexpr std::uint32_t kBuckets = 4096;

  // `now_ms` starts the cursor; deadlines are on the same clock.
  TimerWheel(std::uint32_t slots, std::int64_t now_ms)
      : next_(slots),
        prev_(slots),
        deadline_(slots),
        heads_(kBuckets, kNone),
        cursor_(now_ms / kTickMs) {}

  // The most a wheel for `slots` timers ever holds: every slot's links written.
  static std::uint64_t MemoryBound(std::uint32_t slots) noexcept {
    return std::uint64_t{slots} * (2 * sizeof(std::uint32_t) + sizeof(std::int64_t)) +
           kBuckets * sizeof(std::uint32_t);
  }

  void Schedule(std::uint32_t slot, std::int64_t deadline_ms) noexcept {
    Cancel(slot);
    deadline_[slot] = deadline_ms;
    // Never at or behind the cursor, whose bucket may be mid-scan: a due deadline fires
    // on the next tick.
    const std::int64_t tick = deadline_ms / kTickMs > cursor_ ? deadline_ms / kTickMs : cursor_ + 1;
    const std::uint32_t bucket = static_cast<std::uint32_t>(tick % kBuckets);
    next_[slot] = heads_[bucket];
    prev_[slot] = kHead - bucket;
    if (heads_[bucket] != kNone) prev_[heads_[bucket]] = slot;
    heads_[bucket] = slot;
    occupied_[bucket / 64] |= std::uint64_t{1} << (bucket % 64);
    ++scheduled_;
  }

  void Cancel(std::uint32_t slot) noexcept {
    const std::uint32_t p = prev_[slot];
    if (p == kNone) return;
    const std::uint32_t n = next_[slot];
    if (p > kHead - kBuckets) {
      const std::uint32_t bucket = kHead - p;
      heads_[bucket] = n;
      if (n == kNone) occupied_[bucket / 64] &= ~(std::uint64_t{1} << (bucket % 64));
    } else {
      next_[p] = n;
    }
    if (n != kNone) prev_[n] = p;
    next_[slot] = kNone;
    prev_[slot] = kNone;
    --scheduled_;
  }

  bool Scheduled(std::uint32_t slot) const noexcept { return prev_[slot] != kNone; }

  // Fires (cancels, then calls `fire(slot)`) every timer due at or before `now_ms`. The
  // callback may schedule new timers.
  template <typename Fire>
  void Advance(std::int64_t now_ms, Fire&& fire) {
    const std::int64_t target = now_ms / kTickMs;
    if (scheduled_ == 0) {  // after a long sleep: nothing to scan for
      cursor_ = std::max(cursor_, target);
      return;
    }
    for (; cursor_ <= target; ++cursor_) {
      const std::uint32_t bucket = static_cast<std::uint32_t>(cursor_ % kBuckets);
      std::uint32_t slot = heads_[bucket];
      while (slot != kNone) {
        const std::uint32_t next = next_[slot];
        if (deadline_[slot] <= now_ms) {
          Cancel(slot);
          fire(slot);
        }
        slot = next;
      }
      if (cursor_ == target) break;
    }
  }

  std::uint32_t size() const noexcept { return scheduled_; }

  // When Advance would next fire a timer, or `limit_ms` if none fires before it (no later
  // than a turn from now): how long an idle loop may sleep. Reads a bit per bucket and the
  // timers of the buckets in use, up to the first with a timer due on this turn; a bucket
  // with more timers than kMaxRead is taken as due when its tick begins (early, never
  // late), so that the cost is bounded whatever the number of timers.
  std::int64_t NextDueMs(std::int64_t limit_ms) const noexcept {
    limit_ms = std::min(limit_ms, (cursor_ + kBuckets) * kTickMs);
    if (scheduled_ == 0) return limit_ms;
    for (std::int64_t tick = cursor_; tick * kTickMs <= limit_ms;) {
      const std::uint32_t bucket = static_cast<std::uint32_t>(tick % kBuckets);
      const std::uint64_t word = occupied_[bucket / 64] >> (bucket % 64);
      if (word == 0) {
        tick += 64 - bucket % 64;  // the rest of this word's buckets are empty
        continue;
      }
      tick += std::countr_zero(word);
      std::int64_t due = limit_ms;
      std::uint32_t read = 0;
      for (std::uint32_t slot = heads_[static_cast<std::uint32_t>(tick % kBuckets)]; slot != kNone;
           slot = next_[slot]) {
        if (++read > kMaxRead) {
          due = std::min(due, tick * kTickMs);
          break;
        }
        // Due on this turn, or (scheduled when already due) on the first tick it can.
        if (deadline_[slot] < (tick + 1) * kTickMs)
          due = std::min(due, std::max(deadline_[slot], tick * kTickMs));
      }
      if (due < limit_ms) return due;
      ++tick;  // only later turns' timers here
    }
    return limit_ms;
  }

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  static constexpr std::uint32_t kMaxRead = 16;  // timers NextDueMs reads in one bucket
  // prev_ of a bucket's first slot encodes the bucket: kHead - bucket.
  static constexpr std::uint32_t kHead = 0xfffffffeu;

  // Per slot, touched only for slots that have had a timer.
  BlankTable<std::uint32_t, kNone> next_;
  BlankTable<std::uint32_t, kNone> prev_;
  BlankTable<std::int64_t, 0> deadline_;
  std::vector<std::uint32_t> heads_;
  std::uint64_t occupied_[kBuckets / 64] = {};  // a bit per bucket whose list is not empty
  std::int64_t cursor_ = 0;
  std::uint32_t scheduled_ = 0;
};

}  // namespace ringdns::core
