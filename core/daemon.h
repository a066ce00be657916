// core/daemon.h: starts one shard per CPU on the routes of a Config, and stops them.
//
// Control thread: Start, Reload, RequestStop, Wait. Shards run on their own threads.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/base/counters.h"
#include "core/config/config.h"
#include "core/descriptors.h"
#include "core/dnstap/tap_writer.h"
#include "core/dnstap/taps.h"
#include "core/health.h"
#include "core/hot_names.h"
#include "core/memory/budget.h"
#include "core/metrics_text.h"
#include "core/prober.h"
#include "core/query_logger.h"
#include "core/routes.h"
#include "core/shard/loop_probe.h"
#include "core/shard/shard.h"
#include "core/udp_listener_groups.h"
#include "core/upstream/case_randomization.h"

namespace ringdns::core {

struct DaemonOptions {
  int shards = 0;  // 0: DefaultShardCount()
  // Pin shard i to the i-th usable CPU. Off by default: on a machine whose cores are
  // shared (pods on a node, a load generator beside it) a pinned shard cannot move to
  // an idle core when another task holds its own, and each wake-up costs twice the
  // CPU (measured: 20 vs 10 us per cache hit at 10 000 qps). Use with dedicated cores.
  bool pin_shards = false;
  // Send each UDP query to the shard its question's name hashes to (core/udp_steering.h);
  // off, the kernel picks by the client's address and port.
  bool steer_by_question = true;
  // A name this popular (queries a second) and a large enough share of all queries is
  // spread over every shard instead (core/hot_names.h).
  double hot_name_min_qps = 2000;
  ShardOptions shard;
  int log_fd = 1;  // where `log` and `errors` lines go (stdout, as CoreDNS)
  // Where the cgroup file system is mounted: the memory limit the shards must fit under
  // is read from it at start and on each reload.
  std::string cgroup_root = "/sys/fs/cgroup";
  // The descriptor limit the shards must fit under; 0: the process's, raised to its
  // hard limit (core/descriptors.h).
  std::uint64_t descriptor_limit = 0;
};

class Daemon {
 public:
  // Compiles the routes, starts every shard and returns once all are serving, or the
  // first shard's start-up error (then every shard is stopped again).
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const config::Config& config,
                                                       const DaemonOptions& options);
  ~Daemon();

  // Swaps in `config` while queries flow (SIGHUP, `reload`). New shards start on the
  // listener sockets that remain (nothing queued on them is lost; new ones are opened,
  // dropped ones close), take over the old shards' caches (entries of forwards whose
  // zone, upstreams and cache settings are unchanged stay valid) and the upstreams'
  // health; the old shards stop receiving and finish their in-flight queries. On an
  // error the running configuration stays and coredns_reload_failed_total counts it.
  absl::Status Reload(const config::Config& config);
  // A reload that failed before reaching Reload (the Corefile did not parse).
  void CountFailedReload() {
    std::lock_guard<std::mutex> lock(mu_);
    ++retired_.reload_failures;
  }
  // Joins the shards of replaced configurations that have finished (control thread).
  void ReapRetired();

  // Asks every shard to stop receiving and drain (control thread; non-blocking).
  void RequestStop();
  // Joins the shards. Afterwards totals() is exact.
  void Wait();

  ShardCounters totals() const;
  // The running configuration's upstream health (control thread).
  const HealthTable& health() const noexcept { return *current_->health; }
  // The Prometheus text exposition of every shard's metrics, summed now. Any thread.
  std::string Metrics() const;
  // Every listener is open and the configuration is loaded (the `ready` endpoint).
  bool ready() const noexcept { return !stop_.load(std::memory_order_relaxed); }
  const std::vector<std::string>& warnings() const noexcept { return current_->routes.warnings; }
  // The shards' sizes as fitted to the container's memory limit (at start and on each
  // reload); its note is empty when nothing had to be scaled.
  const MemoryFit& memory_fit() const noexcept { return memory_fit_; }
  // Non-empty when the descriptor limit lowered the upstream sockets per shard.
  const std::string& descriptor_warning() const noexcept { return descriptor_warning_; }
  std::size_t shard_count() const noexcept { return current_->shards.size(); }
  // The reactor backend and why ("io_uring SINGLE_ISSUER|DEFER_TASKRUN", "epoll (io_uring_setup
  // refused: ...)"), and its name alone, for the start-up log and the metrics.
  const std::string& ring_description() const noexcept { return ring_description_; }
  const std::string& io_backend() const noexcept { return io_backend_; }
  // How UDP queries are spread over the shards: "by question" (core/udp_steering.h), or
  // why the kernel's hash of the client's address does it instead.
  std::string udp_steering() const {
    std::lock_guard<std::mutex> lock(mu_);
    return udp_groups_->steering();
  }
  bool udp_steered() const {
    std::lock_guard<std::mutex> lock(mu_);
    return udp_groups_->steered();
  }
  // Replaced configurations whose shards are still draining.
  std::size_t retiring() const {
    std::lock_guard<std::mutex> lock(mu_);
    return retiring_.size();
  }
  std::uint64_t reloads() const noexcept { return reloads_.load(std::memory_order_relaxed); }

 private:
  // The shards serving one configuration, and what they share.
  struct Generation {
    RouteTable routes;
    std::unique_ptr<HealthTable> health;
    std::unique_ptr<CaseRandomization> cases;  // which upstreams get 0x20 names
    std::unique_ptr<Prober> prober;            // after health: stops before it goes
    std::atomic<bool> stop{false};
    std::atomic<std::uint32_t> running{0};  // shard threads not yet returned
    std::vector<std::unique_ptr<Shard>> shards;
    std::vector<std::thread> threads;
    std::unique_ptr<QueryLogger> logger;        // drains the shards' log queues; after them
    std::unique_ptr<dnstap::TapWriter> dnstap;  // drains the shards' tap queues; after them
    HeldByShards held;                          // the descriptors and ports its shards may hold

    // Tells the shards to stop (release: what the control thread handed them before is
    // seen), and wakes their loops to look.
    void Stop();
    void Join();
    MetricsSources Sources() const;
  };

  Daemon() = default;
  // Starts one shard per `successions` entry on `generation`'s routes; returns once all
  // serve, or the first error (having stopped them again).
  absl::Status StartShards(Generation& generation, std::vector<ShardSuccession> successions);
  // Closes the UDP listener groups no generation listens on any more (under mu_).
  void PruneUdpGroups();
  // The hot-name balancer thread (core/hot_names.h), when UDP is steered.
  void StartBalancer();
  // Gives each forward its cache id: the same as before for an unchanged identity.
  void AssignCacheIds(RouteTable& routes);
  // `loop`: asks each such block's listener an unguessable question and fails when it
  // comes back (CoreDNS's loop plugin).
  absl::Status CheckForLoops(const config::Config& config);

  DaemonOptions options_;
  LoopProbe loop_;
  std::atomic<bool> stop_{false};
  std::string ring_description_;
  std::string io_backend_;
  // The UDP listener groups and how they steer (under mu_), and the thread that finds
  // names to spread.
  std::unique_ptr<UdpListenerGroups> udp_groups_;
  std::unique_ptr<HotNameBalancer> balancer_;
  std::atomic<std::uint64_t> reloads_{0};

  // Control thread writes, under mu_; the scrape reads under mu_.
  mutable std::mutex mu_;
  dnstap::CollectorPool collectors_;  // before the generations whose taps share them
  std::unique_ptr<Generation> current_;
  std::vector<std::unique_ptr<Generation>> retiring_;          // stopped, still draining
  MetricsTotals retired_;                                      // what finished generations counted
  absl::flat_hash_map<std::string, std::uint32_t> cache_ids_;  // forward identity -> id
  // Sizes the shards as options_.shard asks, or smaller to fit the descriptor limit and
  // the memory limit: the result goes to memory_fit_, descriptor_warning_ and the options
  // new shards start with. `running`: what the generations still running hold (nothing
  // at start-up). Returns what the new shards may hold.
  HeldByShards FitToLimits(const RouteTable& routes, const HeldByShards& running);
  ShardOptions wanted_shard_;  // the sizes asked for, before any fitting
  MemoryFit memory_fit_;
  std::string descriptor_warning_;
  std::uint32_t next_cache_id_ = 0;
};

// The CPUs this process may run on (sched_getaffinity), in order.
std::vector<int> UsableCpus();

// The default shard count: one per usable CPU, but no more than the cgroup's CPU limit
// (cpu.max, or cpu.cfs_quota_us on cgroup v1) rounded up, so a pod limited to 2 CPUs
// on a 64-core node runs 2 shards, not 64 (each shard holds its own buffers and cache).
// `cgroup_root` is where the cgroup file system is mounted.
int DefaultShardCount(const std::string& cgroup_root = "/sys/fs/cgroup");

}  // namespace ringdns::core
