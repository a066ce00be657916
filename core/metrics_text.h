// core/metrics_text.h: the Prometheus text exposition (format 0.0.4) of every shard's
// metrics, summed at scrape time, under CoreDNS's metric names and labels so existing
// dashboards keep working, plus ringdns_* series for what only ringdns has.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/base/counters.h"
#include "core/health.h"
#include "core/metrics.h"
#include "core/routes.h"

namespace ringdns::core {

// One configuration's shards, as the scrape reads them.
struct MetricsSources {
  const RouteTable* routes = nullptr;
  std::vector<const ShardMetrics*> shards;
  std::vector<const ShardCounters*> counters;  // same order as shards
  const HealthTable* health = nullptr;
  std::vector<std::uint64_t> probe_failures;  // per global upstream
};

// Every series summed by its labels: over shards, and over the configurations a reload
// replaced, so counters never go back when the configuration changes.
struct MetricsTotals {
  struct Block {
    BlockMetrics metrics;
    bool cached = false;  // some configuration gave the block a cache
  };
  struct Upstream {
    DurationHistogram duration;
    std::uint64_t probe_failures = 0;
    bool configured = false;  // in the running configuration: its up gauge is shown
    bool up = true;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Block>
      blocks;                                 // by (server, zone, view)
  std::map<std::string, Upstream> upstreams;  // by "to"
  std::vector<ShardCounters> shards;          // by shard index
  std::uint64_t cache_entries[2] = {0, 0};    // the running configuration's pools
  std::uint64_t cache_evictions[2] = {0, 0};  // counted by the pools, which reloads keep
  std::uint64_t cache_bytes[2] = {0, 0};
  std::uint64_t reload_failures = 0;
  std::string io_backend;  // "io_uring" or "epoll": what the shards' rings run on
  // dnstap frames a collector's fstrm queue could not take (the collector away or slow),
  // by collector ("unix:///run/dnstap.sock"); counted by the daemon's CollectorPool.
  std::vector<std::pair<std::string, std::uint64_t>> dnstap_collector_dropped;

  // Adds a configuration's figures; `running` also takes its gauges.
  void Add(const MetricsSources& sources, bool running);
};

std::string FormatMetrics(const MetricsTotals& totals);

}  // namespace ringdns::core
