// core/daemon_reload.cc: Daemon::Reload, a new generation of shards taking over from the
// running one without dropping a query, and the reaping of generations that finished.
#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "core/daemon.h"

namespace ringdns::core {
namespace {

// Calls `carry(old_id, new_id)` for each upstream of `to_routes` whose endpoint was in
// `from_routes` too.
template <typename Carry>
void ForEachKeptUpstream(const RouteTable& from_routes, const RouteTable& to_routes, Carry carry) {
  absl::flat_hash_map<std::string, std::uint32_t> old_ids;
  for (const BlockRoute& block : from_routes.blocks) {
    for (const ForwardRoute& f : block.forwards) {
      for (std::size_t i = 0; i < f.upstreams.size(); ++i) {
        old_ids.try_emplace(f.upstreams[i].ToString(),
                            f.first_upstream + static_cast<std::uint32_t>(i));
      }
    }
  }
  for (const BlockRoute& block : to_routes.blocks) {
    for (const ForwardRoute& f : block.forwards) {
      for (std::size_t i = 0; i < f.upstreams.size(); ++i) {
        const auto old = old_ids.find(f.upstreams[i].ToString());
        if (old != old_ids.end())
          carry(old->second, f.first_upstream + static_cast<std::uint32_t>(i));
      }
    }
  }
}

}  // namespace

void Daemon::AssignCacheIds(RouteTable& routes) {
  absl::flat_hash_map<std::string, std::uint32_t> ids;
  for (BlockRoute& block : routes.blocks) {
    for (ForwardRoute& f : block.forwards) {
      const auto known = cache_ids_.find(f.identity);
      // Two identical forwards in one configuration still get an id each.
      if (known != cache_ids_.end() && !ids.contains(f.identity)) {
        f.cache_id = known->second;
      } else {
        f.cache_id = next_cache_id_++;
      }
      ids.try_emplace(f.identity, f.cache_id);
    }
  }
  cache_ids_ = std::move(ids);
}

absl::Status Daemon::Reload(const config::Config& config) {
  // The old prober is stopped after mu_ is released: it finishes its probe pass first,
  // up to a second per upstream that is down, and a scrape must not wait for that. What
  // it reads, the old generation, stays in retiring_ until this thread reaps it.
  std::unique_ptr<Prober> old_prober;
  std::unique_lock<std::mutex> lock(mu_);
  absl::StatusOr<RouteTable> routes = BuildRoutes(config);
  if (!routes.ok()) {
    ++retired_.reload_failures;
    return routes.status();
  }
  auto next = std::make_unique<Generation>();
  next->routes = std::move(*routes);
  // Ids are given out only once the new shards run: a failed reload changes nothing.
  const auto saved_ids = cache_ids_;
  const std::uint32_t saved_next = next_cache_id_;
  AssignCacheIds(next->routes);
  next->health = std::make_unique<HealthTable>(next->routes.upstream_count);
  next->cases = std::make_unique<CaseRandomization>(wanted_shard_.randomize_case,
                                                    next->routes.upstream_count);
  // What the shards learned about an upstream (its health, whether it echoes 0x20) stays
  // while its endpoint does.
  ForEachKeptUpstream(current_->routes, next->routes, [&](std::uint32_t old_id, std::uint32_t id) {
    next->health->Restore(id, current_->health->fails(old_id), current_->health->down(old_id));
    next->cases->CarryFrom(*current_->cases, old_id, id);
  });
  // A successor adopts its predecessor's cache only when the pools are the same size.
  // Otherwise it builds its own in Init, while the old shards still serve: built on
  // adoption, in the new shard's loop, zeroing the pools (24 MB for `cache` with
  // defaults) held every query that shard had received, and for seconds under
  // ThreadSanitizer. The old shard still publishes its cache, which says it has stopped
  // receiving; nobody adopts it and it goes with the hand-off.
  // The new caches' sizes count against the memory limit too; the new shards' sockets
  // share the descriptors and ports with every generation still running.
  HeldByShards running = current_->held;
  for (const auto& gen : retiring_) running += gen->held;
  // A failed reload leaves the sizes, and what they say, of the shards still serving.
  const ShardOptions saved_options = options_.shard;
  const MemoryFit saved_memory_fit = memory_fit_;
  const std::string saved_descriptor_warning = descriptor_warning_;
  next->held = FitToLimits(next->routes, running);
  // The pools as each generation's shards size them (Shard::CacheCapacities): the
  // largest any block asks for, scaled to the memory limit, which FitToLimits may change.
  std::uint32_t next_pools[2];
  std::uint32_t current_pools[2];
  Shard::CacheCapacities(options_.shard, next->routes, next_pools);
  Shard::CacheCapacities(saved_options, current_->routes, current_pools);
  const bool pass_caches = next_pools[0] + next_pools[1] > 0 && next_pools[0] == current_pools[0] &&
                           next_pools[1] == current_pools[1];
  std::vector<ShardSuccession> successions(current_->shards.size());
  std::vector<std::shared_ptr<CacheHandoff>> handoffs;
  std::vector<std::shared_ptr<StreamHandoff>> stream_handoffs;
  for (std::size_t i = 0; i < successions.size(); ++i) {
    successions[i].listeners = current_->shards[i]->DuplicateListeners();
    handoffs.push_back(std::make_shared<CacheHandoff>());
    if (pass_caches) successions[i].cache = handoffs[i];
    successions[i].streams = stream_handoffs.emplace_back(std::make_shared<StreamHandoff>());
  }
  if (absl::Status started = StartShards(*next, std::move(successions)); !started.ok()) {
    cache_ids_ = saved_ids;
    next_cache_id_ = saved_next;
    options_.shard = saved_options;
    memory_fit_ = saved_memory_fit;
    descriptor_warning_ = saved_descriptor_warning;
    ++retired_.reload_failures;
    PruneUdpGroups();  // the groups only it opened
    return started;
  }
  // Both configurations now receive on the shared sockets; the old one stops (its
  // receives are cancelled, never a datagram dropped), hands its caches over (when they
  // fit) and drains.
  std::unique_ptr<Generation> old = std::move(current_);
  old_prober = std::move(old->prober);
  for (std::size_t i = 0; i < old->shards.size(); ++i) {
    old->shards[i]->PassCacheOn(handoffs[i]);
    old->shards[i]->PassStreamsOn(stream_handoffs[i]);
  }
  old->Stop();
  current_ = std::move(next);
  current_->prober = std::make_unique<Prober>(current_->routes, *current_->health);
  retiring_.push_back(std::move(old));
  lock.unlock();
  old_prober.reset();
  // Done when every old shard has stopped receiving and its successor holds the cache
  // passed to it: a loop turn or two of each (4 ms ticks). Bounded, in case a shard is
  // starved of CPU; waited for without mu_, which only the control thread's own changes
  // need.
  for (int waited_ms = 0; waited_ms < 2000; ++waited_ms) {
    bool settled = true;
    for (const auto& h : handoffs) {
      settled = settled && (pass_caches ? h->adopted : h->ready).load(std::memory_order_acquire);
    }
    if (settled) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  reloads_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

void Daemon::ReapRetired() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    Generation& gen = **it;
    if (gen.running.load(std::memory_order_acquire) != 0) {
      ++it;
      continue;
    }
    gen.Join();
    retired_.Add(gen.Sources(), /*running=*/false);
    it = retiring_.erase(it);
  }
  PruneUdpGroups();  // the addresses only the reaped generations listened on
}

}  // namespace ringdns::core
