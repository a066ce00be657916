#include "core/daemon.h"

#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/base/random.h"
#include "core/base/zone_name.h"
#include "core/descriptors.h"
#include "core/net.h"
#include "core/udp_steering.h"
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

void Daemon::Generation::Stop() {
  stop.store(true, std::memory_order_release);
  for (const auto& shard : shards) shard->Wake();
}

void Daemon::Generation::Join() {
  prober.reset();
  for (std::thread& t : threads) {
    if (t.joinable()) t.join();
  }
  logger.reset();  // writes what the shards logged last
  dnstap.reset();  // hands on what the shards tapped last
}

MetricsSources Daemon::Generation::Sources() const {
  MetricsSources sources;
  sources.routes = &routes;
  sources.health = health.get();
  for (const auto& shard : shards) {
    sources.shards.push_back(&shard->metrics());
    sources.counters.push_back(&shard->counters());
  }
  if (prober) {
    for (std::uint32_t u = 0; u < routes.upstream_count; ++u)
      sources.probe_failures.push_back(prober->failures(u));
  }
  return sources;
}

namespace {

// The CPU limit in cores, rounded up; 0 when there is none.
int CgroupCpuLimit(const std::string& root) {
  long long quota = -1;
  long long period = 0;
  if (std::FILE* f =
          std::fopen((root + "/cpu.max").c_str(), "r")) {  // v2: "QUOTA PERIOD" or "max PERIOD"
    char text[32] = {};
    if (std::fscanf(f, "%31s %lld", text, &period) == 2 && std::strcmp(text, "max") != 0)
      quota = std::atoll(text);
    std::fclose(f);
  } else if (std::FILE* q = std::fopen((root + "/cpu/cpu.cfs_quota_us").c_str(), "r")) {  // v1
    if (std::fscanf(q, "%lld", &quota) != 1) quota = -1;
    std::fclose(q);
    if (std::FILE* p = std::fopen((root + "/cpu/cpu.cfs_period_us").c_str(), "r")) {
      if (std::fscanf(p, "%lld", &period) != 1) period = 0;
      std::fclose(p);
    }
  }
  if (quota <= 0 || period <= 0) return 0;
  return static_cast<int>((quota + period - 1) / period);
}

}  // namespace

int DefaultShardCount(const std::string& cgroup_root) {
  const int cpus = static_cast<int>(UsableCpus().size());
  const int limit = CgroupCpuLimit(cgroup_root);
  return limit > 0 ? std::min(cpus, limit) : cpus;
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const config::Config& config,
                                                      const DaemonOptions& options) {
  absl::StatusOr<RouteTable> routes = BuildRoutes(config);
  if (!routes.ok()) return routes.status();
  std::unique_ptr<Daemon> daemon(new Daemon());
  daemon->options_ = options;
  if (daemon->options_.shards <= 0) daemon->options_.shards = DefaultShardCount();
  daemon->options_.shard.shards = static_cast<std::uint32_t>(daemon->options_.shards);
  const auto shards = static_cast<std::uint32_t>(daemon->options_.shards);
  std::optional<SteeringKey> key;
  if (shards > 1 && daemon->options_.steer_by_question) key = SteeringKey::Random();
  daemon->udp_groups_ = std::make_unique<UdpListenerGroups>(shards, key);
  daemon->wanted_shard_ = daemon->options_.shard;
  daemon->current_ = std::make_unique<Generation>();
  Generation& gen = *daemon->current_;
  gen.routes = std::move(*routes);
  if (daemon->options_.descriptor_limit == 0)
    daemon->options_.descriptor_limit = RaiseDescriptorLimit();
  gen.held = daemon->FitToLimits(gen.routes, {});
  daemon->AssignCacheIds(gen.routes);
  gen.health = std::make_unique<HealthTable>(gen.routes.upstream_count);
  gen.cases = std::make_unique<CaseRandomization>(daemon->options_.shard.randomize_case,
                                                  gen.routes.upstream_count);
  if (absl::Status started = daemon->StartShards(
          gen, std::vector<ShardSuccession>(static_cast<std::size_t>(daemon->options_.shards)));
      !started.ok()) {
    return started;
  }
  daemon->ring_description_ = gen.shards.front()->ring_description();
  daemon->io_backend_ = gen.shards.front()->io_backend();
  if (absl::Status loop = daemon->CheckForLoops(config); !loop.ok()) {
    daemon->RequestStop();
    daemon->Wait();
    return loop;
  }
  gen.prober = std::make_unique<Prober>(gen.routes, *gen.health);
  if (daemon->udp_groups_->steered()) daemon->StartBalancer();
  return daemon;
}

HeldByShards Daemon::FitToLimits(const RouteTable& routes, const HeldByShards& running) {
  ShardOptions wanted = wanted_shard_;
  const DescriptorFit descriptors = FitShardsToDescriptors(
      wanted, routes, options_.shards, options_.descriptor_limit, EphemeralPortCount(), running);
  wanted.upstream_sockets = descriptors.upstream_sockets;
  descriptor_warning_ = descriptors.warning;
  memory_fit_ =
      FitShardsToMemory(wanted, options_.shards, CgroupMemoryLimit(options_.cgroup_root),
                        [&](const ShardOptions& o) { return Shard::MemoryBound(o, routes); });
  options_.shard = memory_fit_.options;
  return HeldBy(options_.shard, routes, options_.shards);
}

void Daemon::StartBalancer() {
  HotNameBalancer::Hooks hooks;
  hooks.for_each_shard = [this](const std::function<void(QuestionSamples&)>& take) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto drain = [&](const Generation& gen) {
      for (const auto& shard : gen.shards) {
        if (QuestionSamples* samples = shard->question_samples()) take(*samples);
      }
    };
    drain(*current_);
    for (const auto& gen : retiring_) drain(*gen);  // a reload's old shards still answer
  };
  hooks.spread = [this](const std::vector<std::uint32_t>& hot) {
    std::lock_guard<std::mutex> lock(mu_);
    udp_groups_->Spread(hot);
  };
  const auto shards = static_cast<std::uint32_t>(options_.shards);
  balancer_ = std::make_unique<HotNameBalancer>(
      HotNameTracker(shards, options_.hot_name_min_qps, kMaxSpreadNames),
      options_.shard.hot_name_sample_every, std::move(hooks));
}

void Daemon::PruneUdpGroups() {
  if (!udp_groups_) return;
  std::vector<const RouteTable*> in_use;
  if (current_) in_use.push_back(&current_->routes);
  for (const auto& gen : retiring_) in_use.push_back(&gen->routes);
  udp_groups_->Prune(in_use);
}

absl::Status Daemon::StartShards(Generation& gen, std::vector<ShardSuccession> successions) {
  // Collectors first: a configuration whose dnstap cannot be set up never serves.
  absl::StatusOr<std::vector<std::vector<dnstap::Tap>>> taps =
      dnstap::BindTaps(gen.routes, collectors_);
  if (!taps.ok()) return taps.status();
  if (absl::Status opened = udp_groups_->Provide(gen.routes, successions); !opened.ok())
    return opened;
  if (udp_groups_->steered()) {
    for (ShardSuccession& succession : successions) succession.steering = udp_groups_->key();
  }
  const std::vector<int> cpus = UsableCpus();
  std::vector<std::future<absl::Status>> started;
  for (std::size_t i = 0; i < successions.size(); ++i) {
    auto shard =
        std::make_unique<Shard>(static_cast<ShardId>(i), gen.routes, *gen.health, *gen.cases, loop_,
                                options_.shard, std::move(successions[i]));
    Shard* raw = shard.get();
    gen.shards.push_back(std::move(shard));
    auto ready = std::make_shared<std::promise<absl::Status>>();
    started.push_back(ready->get_future());
    const int cpu = cpus[i % cpus.size()];
    const bool pin = options_.pin_shards;
    gen.running.fetch_add(1, std::memory_order_relaxed);
    Generation* g = &gen;
    gen.threads.emplace_back([raw, ready, cpu, g, pin] {
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
      if (ok) raw->Run(g->stop);
      g->running.fetch_sub(1, std::memory_order_release);
    });
  }
  absl::Status first_error;
  for (auto& f : started) {
    absl::Status s = f.get();
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (!first_error.ok()) {
    gen.Stop();
    gen.Join();
    return first_error;
  }
  std::vector<LogQueue*> queues;
  for (const auto& shard : gen.shards) {
    if (shard->log_queue() != nullptr) queues.push_back(shard->log_queue());
  }
  if (!queues.empty())
    gen.logger = std::make_unique<QueryLogger>(gen.routes, std::move(queues), options_.log_fd);
  if (!taps->empty()) {
    std::vector<dnstap::TapQueue*> tap_queues;
    for (const auto& shard : gen.shards) tap_queues.push_back(shard->tap_queue());
    gen.dnstap = std::make_unique<dnstap::TapWriter>(std::move(*taps), std::move(tap_queues));
  }
  return first_error;
}

void Daemon::RequestStop() {
  stop_.store(true, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  if (current_) current_->Stop();
}

absl::Status Daemon::CheckForLoops(const config::Config& config) {
  // Per block with `loop`: <random>.<random>.<zone> HINFO, to the block's first
  // listener (loopback for a wildcard one), from a socket of our own; all at once.
  struct Probe {
    const config::ServerBlock* block;
    std::string name;
    SockAddr to;
  };
  std::vector<Probe> probes;
  std::vector<WireZone> names;
  RandomPool random;
  for (const config::ServerBlock& block : config.blocks) {
    if (!block.loop) continue;
    const std::string zone = block.keys.front().zone;
    std::string name = absl::StrCat(random.Next16(), random.Next16(), ".", random.Next16(),
                                    random.Next16(), ".", zone == "." ? "" : zone);
    absl::StatusOr<WireZone> wire_name = ToWireZone(name);
    if (!wire_name.ok()) return wire_name.status();
    config::IpAddress to_ip;
    to_ip.family = AF_INET;
    to_ip.bytes[0] = 127;
    to_ip.bytes[3] = 1;
    if (!block.bind.empty()) to_ip = block.bind.front();
    probes.push_back({&block, std::move(name), SockAddr::From(to_ip, block.keys.front().port)});
    names.push_back(*wire_name);
  }
  if (probes.empty()) return absl::OkStatus();
  loop_.Arm(names);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    std::uint8_t query[512];
    const wire::Result<std::size_t> len = wire::BuildQuery(
        {random.Next16(), wire::flag::kRd, names[i].view(), 13 /* HINFO */, 1, false, false},
        query);
    ring::UniqueFd fd(::socket(probes[i].to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (len && fd.valid())
      (void)::sendto(fd.get(), query, *len, 0, probes[i].to.get(), probes[i].to.len);
  }
  // Received once: ours. Again: it came back (a loop brings it within milliseconds;
  // coalescing of identical queries keeps it from multiplying meanwhile).
  const auto looped = [&]() -> const Probe* {
    for (std::size_t i = 0; i < probes.size(); ++i) {
      if (loop_.seen(i) >= 2) return &probes[i];
    }
    return nullptr;
  };
  for (int i = 0; i < 20 && looped() == nullptr; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const Probe* loop = looped();
  const int seen = loop == nullptr ? 0 : loop_.seen(static_cast<std::size_t>(loop - probes.data()));
  loop_.Disarm();
  if (loop == nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      loop->block->where.ToString(), ": forwarding loop detected for zone \"",
      loop->block->keys.front().zone, "\": the query HINFO ", loop->name, " sent to ",
      loop->to.ToString(), " was received ", seen,
      " times; an upstream forwards ringdns's queries back to it (see CoreDNS's loop plugin)"));
}

Daemon::~Daemon() {
  RequestStop();
  Wait();
}

void Daemon::Wait() {
  balancer_.reset();  // reads the shards: goes first
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& gen : retiring_) gen->prober.reset();
    if (current_) current_->prober.reset();
  }
  // Joined outside the lock (a drain can take seconds and the scrape must not wait);
  // only the control thread changes the generations.
  for (const auto& gen : retiring_) gen->Join();
  if (current_) current_->Join();
  ReapRetired();
  std::lock_guard<std::mutex> lock(mu_);
  if (udp_groups_) udp_groups_->Clear();  // nobody serves the ports any more
}

std::string Daemon::Metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  MetricsTotals totals = retired_;
  for (const auto& gen : retiring_) totals.Add(gen->Sources(), /*running=*/false);
  totals.Add(current_->Sources(), /*running=*/true);
  totals.io_backend = io_backend_;
  totals.dnstap_collector_dropped = collectors_.Dropped();
  return FormatMetrics(totals);
}

ShardCounters Daemon::totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  ShardCounters sum;
  for (const ShardCounters& c : retired_.shards) sum += c;
  for (const auto& gen : retiring_) {
    for (const auto& shard : gen->shards) sum += shard->counters();
  }
  for (const auto& shard : current_->shards) sum += shard->counters();
  return sum;
}

}  // namespace ringdns::core
