#include "core/hot_names.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace ringdns::core {

bool HotNameTracker::EndRound(double seconds, std::uint32_t every) {
  std::uint64_t samples = 0;
  for (const auto& [hash, count] : counts_) samples += count;
  if (samples < kMinSamples || seconds <= 0 || shards_ < 2) {
    counts_.clear();
    return false;
  }
  // (spread already, queries a second, hash): incumbents first, then the busiest.
  std::vector<std::tuple<bool, double, std::uint32_t>> candidates;
  const double line = 0.25 / static_cast<double>(shards_ - 1);
  for (const auto& [hash, count] : counts_) {
    const double share = static_cast<double>(count) / static_cast<double>(samples);
    const double qps = static_cast<double>(count) * every / seconds;
    const bool was_hot = std::binary_search(hot_.begin(), hot_.end(), hash);
    const double factor = was_hot ? 0.5 : 1.0;
    if (share > line * factor && qps >= min_qps_ * factor)
      candidates.emplace_back(was_hot, qps, hash);
  }
  counts_.clear();
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& a, const auto& b) { return a > b; });
  if (candidates.size() > cap_) candidates.resize(cap_);
  std::vector<std::uint32_t> hot;
  for (const auto& candidate : candidates) hot.push_back(std::get<2>(candidate));
  std::sort(hot.begin(), hot.end());
  if (hot == hot_) return false;
  hot_ = std::move(hot);
  return true;
}

HotNameBalancer::HotNameBalancer(HotNameTracker tracker, std::uint32_t every, Hooks hooks,
                                 std::chrono::milliseconds period)
    : tracker_(std::move(tracker)),
      every_(every == 0 ? 1 : every),
      hooks_(std::move(hooks)),
      period_(period),
      thread_([this] { Run(); }) {}

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
    hooks_.for_each_shard([this](QuestionSamples& samples) {
      samples.Drain([this](std::uint32_t hash) { tracker_.Add(hash); });
    });
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - round_began).count();
    round_began = now;
    if (tracker_.EndRound(seconds, every_)) hooks_.spread(tracker_.hot());
  }
}

}  // namespace ringdns::core
