// core/hot_names.h: names too popular for one shard, found and handed to the kernel.
//
// Steering by question (core/udp_steering.h) puts all of a name's queries on one shard.
// For a name that is a large part of all traffic (a sidecar's favourite service, the top
// of a Zipf mix on a many-core node) that one shard would carry far more than the
// others. So:
//   - each shard samples 1 in `every` of its UDP queries: the question's steering hash
//     goes into its QuestionSamples ring (a single-producer ring; never waits, drops
//     when full);
//   - the daemon's balancer thread drains the rings once a second into HotNameTracker,
//     which decides which names are hot;
//   - when that changes, the balancer has the listener groups' program rebuilt with
//     those names left to the kernel's hash of the client (UdpListenerGroups::Spread, off
//     every shard's thread). Every shard then caches them (one upstream query per shard
//     per TTL for a handful of names) and shares their load.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace ringdns::core {

// A shard's sampled question hashes, for the balancer thread.
class QuestionSamples {
 public:
  // A second of 1-in-64 samples at a million queries a second (64 KiB).
  static constexpr std::uint32_t kCapacity = 16384;

  explicit QuestionSamples(std::uint32_t every)
      : every_(every == 0 ? 1 : every),
        countdown_(every_),
        hashes_(std::make_unique<std::atomic<std::uint32_t>[]>(kCapacity)) {}

  // Producer (the shard), for each UDP query: samples 1 in `every`.
  bool Due() noexcept {
    if (--countdown_ != 0) return false;
    countdown_ = every_;
    return true;
  }
  void Push(std::uint32_t hash) noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) >= kCapacity) return;  // full: drop
    hashes_[tail % kCapacity].store(hash, std::memory_order_relaxed);
    tail_.store(tail + 1, std::memory_order_release);
  }

  // Consumer (the balancer): calls take(hash) for each sample; returns how many.
  template <typename Take>
  std::uint64_t Drain(Take&& take) {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    for (std::uint64_t i = head; i != tail; ++i)
      take(hashes_[i % kCapacity].load(std::memory_order_relaxed));
    head_.store(tail, std::memory_order_release);
    return tail - head;
  }
  std::uint32_t every() const noexcept { return every_; }

 private:
  const std::uint32_t every_;
  std::uint32_t countdown_;  // producer only
  const std::unique_ptr<std::atomic<std::uint32_t>[]> hashes_;
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  alignas(64) std::atomic<std::uint64_t> head_{0};
};

// Decides, from a second's samples, which names are hot. A name is spread when its
// share of all queries would load its shard past 1.25x the mean (share > 0.25 / (N-1))
// and it alone is at least `min_qps` (below that no core is strained, and spreading costs
// upstream queries and cross-client TTL countdown for nothing). It stays spread until its
// share or rate falls below half of those, so a name near the line does not flap; at the
// cap, names already spread keep their place (busier newcomers cannot push them back
// onto one shard). A round with fewer than kMinSamples samples (idle, bursty) decides
// nothing.
class HotNameTracker {
 public:
  static constexpr std::uint64_t kMinSamples = 64;

  HotNameTracker(std::uint32_t shards, double min_qps, std::size_t cap)
      : shards_(shards), min_qps_(min_qps), cap_(cap) {}

  void Add(std::uint32_t hash) { ++counts_[hash]; }
  // Ends a round of `seconds` with samples taken 1 in `every`; true when the hot set
  // changed.
  bool EndRound(double seconds, std::uint32_t every);
  const std::vector<std::uint32_t>& hot() const noexcept { return hot_; }  // sorted

 private:
  const std::uint32_t shards_;
  const double min_qps_;
  const std::size_t cap_;
  absl::flat_hash_map<std::uint32_t, std::uint32_t> counts_;
  std::vector<std::uint32_t> hot_;
};

// The balancer thread: every `period`, drains the shards' samples into a tracker and
// hands the hot names on when they change.
class HotNameBalancer {
 public:
  struct Hooks {
    // Calls its argument with each shard's samples (under the daemon's lock).
    std::function<void(const std::function<void(QuestionSamples&)>&)> for_each_shard;
    // The new hot set, sorted.
    std::function<void(const std::vector<std::uint32_t>&)> spread;
  };

  HotNameBalancer(HotNameTracker tracker, std::uint32_t every, Hooks hooks,
                  std::chrono::milliseconds period = std::chrono::seconds(1));
  ~HotNameBalancer();  // stops and joins the thread
  HotNameBalancer(const HotNameBalancer&) = delete;
  HotNameBalancer& operator=(const HotNameBalancer&) = delete;

 private:
  void Run();

  HotNameTracker tracker_;
  const std::uint32_t every_;
  const Hooks hooks_;
  const std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;   // under mu_
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace ringdns::core
