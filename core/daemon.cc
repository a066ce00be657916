#include "core/daemon.h"

#include <pthread.h>
#include <sched.h>

#include <future>

#include "absl/strings/str_cat.h"

namespace ringdns::core {

std::vector<int> UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(static_cast<int>(cpu));
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const config::Config& config,
                                                      const DaemonOptions& options) {
  absl::StatusOr<RouteTable> routes = BuildRoutes(config);
  if (!routes.ok()) return routes.status();
  std::unique_ptr<Daemon> daemon(new Daemon());
  daemon->routes_ = std::move(*routes);
  daemon->health_ = std::make_unique<HealthTable>(daemon->routes_.upstream_count);
  const std::vector<int> cpus = UsableCpus();
  const int count = options.shards > 0 ? options.shards : static_cast<int>(cpus.size());
  ShardOptions shard_options = options.shard;
  shard_options.shards = static_cast<std::uint32_t>(count);
  std::vector<std::future<absl::Status>> started;
  for (int i = 0; i < count; ++i) {
    auto shard = std::make_unique<Shard>(static_cast<ShardId>(i), daemon->routes_, *daemon->health_,
                                         shard_options);
    Shard* raw = shard.get();
    daemon->shards_.push_back(std::move(shard));
    auto ready = std::make_shared<std::promise<absl::Status>>();
    started.push_back(ready->get_future());
    const int cpu = cpus[static_cast<std::size_t>(i) % cpus.size()];
    Daemon* d = daemon.get();
    const bool pin = options.pin_shards;
    daemon->threads_.emplace_back([raw, ready, cpu, d, pin] {
      if (pin) {
        // On dedicated cores, a shard's caches, ring and softirqs stay on its CPU.
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(static_cast<std::size_t>(cpu), &set);
        ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set);
      }
      absl::Status status = raw->Init();
      const bool ok = status.ok();
      ready->set_value(std::move(status));
      if (ok) raw->Run(d->stop_);
    });
  }
  absl::Status first_error;
  for (auto& f : started) {
    absl::Status s = f.get();
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (!first_error.ok()) {
    daemon->RequestStop();
    daemon->Wait();
    return first_error;
  }
  daemon->ring_description_ = daemon->shards_.front()->ring_description();
  daemon->prober_ = std::make_unique<Prober>(daemon->routes_, *daemon->health_);
  return daemon;
}

Daemon::~Daemon() {
  RequestStop();
  Wait();
}

void Daemon::Wait() {
  prober_.reset();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::string Daemon::Metrics() const {
  MetricsSources sources;
  sources.routes = &routes_;
  sources.health = health_.get();
  for (const auto& shard : shards_) {
    sources.shards.push_back(&shard->metrics());
    sources.counters.push_back(&shard->counters());
  }
  if (prober_) {
    for (std::uint32_t u = 0; u < routes_.upstream_count; ++u) sources.probe_failures.push_back(prober_->failures(u));
  }
  return FormatMetrics(sources);
}

ShardCounters Daemon::totals() const {
  ShardCounters sum;
  for (const auto& shard : shards_) sum += shard->counters();
  return sum;
}

}  // namespace ringdns::core
