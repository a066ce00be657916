#include "core/hot_names.h"

#include <algorithm>
#include <utility>

namespace ringdns::core {

void SteeringPlan::Publish(const std::vector<std::uint32_t>& hashes) noexcept {
  const std::uint64_t v = version_.load(std::memory_order_relaxed);
  version_.store(v + 1, std::memory_order_relaxed);  // odd: writing
  std::atomic_thread_fence(std::memory_order_release);
  const std::size_t n = std::min(hashes.size(), kMaxSpreadNames);
  for (std::size_t i = 0; i < n; ++i) hashes_[i].store(hashes[i], std::memory_order_relaxed);
  count_.store(static_cast<std::uint32_t>(n), std::memory_order_relaxed);
  version_.store(v + 2, std::memory_order_release);
}

bool SteeringPlan::Read(std::array<std::uint32_t, kMaxSpreadNames>& out, std::size_t& count,
                      std::uint64_t& version) const noexcept {
  const std::uint64_t before = version_.load(std::memory_order_acquire);
  if (before % 2 != 0) return false;
  count = std::min<std::size_t>(count_.load(std::memory_order_relaxed), kMaxSpreadNames);
  for (std::size_t i = 0; i < count; ++i) out[i] = hashes_[i].load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (version_.load(std::memory_order_relaxed) != before) return false;
  version = before;
  return true;
}

bool HotNameTracker::EndRound(double seconds, std::uint32_t every) {
  std::uint64_t samples = 0;
  for (const auto& [hash, count] : counts_) samples += count;
  std::vector<std::pair<double, std::uint32_t>> candidates;  // (queries a second, hash)
  if (shards_ > 1 && samples > 0 && seconds > 0) {
    const double line = 0.25 / static_cast<double>(shards_ - 1);
    for (const auto& [hash, count] : counts_) {
      const double share = static_cast<double>(count) / static_cast<double>(samples);
      const double qps = static_cast<double>(count) * every / seconds;
      const bool was_hot = std::find(hot_.begin(), hot_.end(), hash) != hot_.end();
      const double factor = was_hot ? 0.5 : 1.0;
      if (share > line * factor && qps >= min_qps_ * factor) candidates.emplace_back(qps, hash);
    }
  }
  counts_.clear();
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (candidates.size() > kMaxSpreadNames) candidates.resize(kMaxSpreadNames);
  std::vector<std::uint32_t> hot;
  for (const auto& [qps, hash] : candidates) hot.push_back(hash);
  std::sort(hot.begin(), hot.end());
  if (hot == hot_) return false;
  hot_ = std::move(hot);
  return true;
}

HotNameBalancer::HotNameBalancer(std::shared_ptr<SteeringPlan> set, std::uint32_t shards, double min_qps,
                                 std::uint32_t every, ForEachShard for_each, std::chrono::milliseconds period)
    : set_(std::move(set)), tracker_(shards, min_qps), every_(every == 0 ? 1 : every),
      for_each_(std::move(for_each)), period_(period), thread_([this] { Run(); }) {}

HotNameBalancer::~HotNameBalancer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void HotNameBalancer::Run() {
  auto round_began = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, period_, [this] { return stop_; })) {
    for_each_([this](QuestionSamples& samples) { samples.Drain([this](std::uint32_t hash) { tracker_.Add(hash); }); });
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - round_began).count();
    round_began = now;
    if (tracker_.EndRound(seconds, every_)) set_->Publish(tracker_.hot());
  }
}

}  // namespace ringdns::core
