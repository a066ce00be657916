// core/metrics_text.h: the Prometheus text exposition (format 0.0.4) of every shard's
// metrics, summed at scrape time, under CoreDNS's metric names and labels so existing
// dashboards keep working, plus ringdns_* series for what only ringdns has.
#pragma once

#include <string>
#include <vector>

#include "core/counters.h"
#include "core/health.h"
#include "core/metrics.h"
#include "core/routes.h"

namespace ringdns::core {

struct MetricsSources {
  const RouteTable* routes = nullptr;
  std::vector<const ShardMetrics*> shards;
  std::vector<const ShardCounters*> counters;  // same order as shards
  const HealthTable* health = nullptr;
  std::vector<std::uint64_t> probe_failures;   // per global upstream
  std::uint64_t reload_failures = 0;
};

std::string FormatMetrics(const MetricsSources& sources);

}  // namespace ringdns::core
