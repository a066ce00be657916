#include "core/daemon.h"

#include <pthread.h>
#include <sched.h>

#include <sys/socket.h>

#include <chrono>
#include <future>

#include "absl/strings/str_cat.h"
#include "core/net.h"
#include "core/random.h"
#include "core/zone_name.h"
#include "ring/fd.h"
#include "wire/patch.h"

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
                                         daemon->loop_, shard_options);
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
  if (absl::Status loop = daemon->CheckForLoops(config); !loop.ok()) {
    daemon->RequestStop();
    daemon->Wait();
    return loop;
  }
  daemon->prober_ = std::make_unique<Prober>(daemon->routes_, *daemon->health_);
  return daemon;
}

absl::Status Daemon::CheckForLoops(const config::Config& config) {
  for (const config::ServerBlock& block : config.blocks) {
    if (!block.loop) continue;
    // <random>.<random>.<zone> HINFO, to the block's first listener (loopback for a
    // wildcard one), from a socket of our own.
    RandomPool random;
    const std::string name = absl::StrCat(random.Next16(), random.Next16(), ".", random.Next16(),
                                          random.Next16(), ".", block.keys.front().zone == "." ? "" : block.keys.front().zone);
    absl::StatusOr<WireZone> wire_name = ToWireZone(name);
    if (!wire_name.ok()) return wire_name.status();
    config::IpAddress to_ip;
    to_ip.family = AF_INET;
    to_ip.bytes[0] = 127;
    to_ip.bytes[3] = 1;
    if (!block.bind.empty()) to_ip = block.bind.front();
    const SockAddr to = SockAddr::From(to_ip, block.keys.front().port);
    loop_.Arm(*wire_name);
    std::uint8_t query[512];
    const wire::Result<std::size_t> len =
        wire::BuildQuery({random.Next16(), wire::flag::kRd, wire_name->view(), 13 /* HINFO */, 1, false, false}, query);
    ring::UniqueFd fd(::socket(to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (len && fd.valid()) (void)::sendto(fd.get(), query, *len, 0, to.get(), to.len);
    // Received once: ours. Again: it came back (a loop brings it within milliseconds;
    // coalescing of identical queries keeps it from multiplying meanwhile).
    for (int i = 0; i < 20 && loop_.seen() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const int seen = loop_.seen();
    loop_.Disarm();
    if (seen >= 2) {
      return absl::FailedPreconditionError(absl::StrCat(
          block.where.ToString(), ": forwarding loop detected for zone \"", block.keys.front().zone,
          "\": the query HINFO ", name, " sent to ", to.ToString(), " was received ", seen,
          " times; an upstream forwards ringdns's queries back to it (see CoreDNS's loop plugin)"));
    }
  }
  return absl::OkStatus();
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
