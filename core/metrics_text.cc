#include "core/metrics_text.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "core/base/version.h"

namespace ringdns::core {
namespace {

// Label values escape backslash, double quote and newline (exposition format 0.0.4).
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void Family(const char* name, const char* type, const char* help) {
    absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  void Sample(const std::string& name, const std::string& labels, std::uint64_t value) {
    absl::StrAppend(&out_, name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", " ",
                    value, "\n");
  }
  void Sample(const std::string& name, const std::string& labels, double value) {
    char text[64];
    std::snprintf(text, sizeof(text), "%.9g", value);
    absl::StrAppend(&out_, name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", " ",
                    text, "\n");
  }
  // A histogram's cumulative buckets, sum and count; `scale` turns stored units into
  // the metric's (microseconds into seconds).
  template <std::size_t N>
  void Histogram(const char* name, const std::string& labels, const core::Histogram<N>& h,
                 const std::array<std::uint64_t, N>& bounds, double scale) {
    const std::string prefix = labels.empty() ? "" : labels + ",";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= N; ++i) {
      cumulative += h.buckets[i].get();
      char le[32];
      if (i < N) {
        std::snprintf(le, sizeof(le), "%.9g", static_cast<double>(bounds[i]) * scale);
      } else {
        std::snprintf(le, sizeof(le), "+Inf");
      }
      Sample(absl::StrCat(name, "_bucket"), absl::StrCat(prefix, "le=\"", le, "\""), cumulative);
    }
    Sample(absl::StrCat(name, "_sum"), labels, static_cast<double>(h.sum.get()) * scale);
    Sample(absl::StrCat(name, "_count"), labels, h.count.get());
  }

 private:
  std::string& out_;
};

using BlockKey = std::tuple<std::string, std::string, std::string>;  // server, zone, view
std::string BlockLabels(const BlockKey& block) {
  return absl::StrCat("server=\"", Escape(std::get<0>(block)), "\",zone=\"",
                      Escape(std::get<1>(block)), "\",view=\"", Escape(std::get<2>(block)), "\"");
}
std::string CacheLabels(const BlockKey& block) {
  return absl::StrCat("server=\"", Escape(std::get<0>(block)), "\",zones=\"",
                      Escape(std::get<1>(block)), "\",view=\"", Escape(std::get<2>(block)), "\"");
}

}  // namespace

void MetricsTotals::Add(const MetricsSources& src, bool running) {
  const RouteTable& routes = *src.routes;
  for (std::size_t b = 0; b < routes.blocks.size(); ++b) {
    Block& block = blocks[{routes.blocks[b].server_label, routes.blocks[b].zone_label,
                           routes.blocks[b].view_name}];
    block.cached = block.cached || routes.blocks[b].cache.has_value();
    for (const ShardMetrics* shard : src.shards) block.metrics.Merge(shard->blocks[b]);
  }
  for (const BlockRoute& block : routes.blocks) {
    for (const ForwardRoute& f : block.forwards) {
      for (std::size_t i = 0; i < f.upstreams.size(); ++i) {
        const std::uint32_t id = f.first_upstream + static_cast<std::uint32_t>(i);
        Upstream& u = upstreams[f.upstreams[i].ToString()];
        for (const ShardMetrics* shard : src.shards)
          u.duration.Merge(shard->upstreams[id].duration);
        if (id < src.probe_failures.size()) u.probe_failures += src.probe_failures[id];
        if (running) {
          u.configured = true;
          // An upstream named by two forwards is down when either's view says so.
          u.up = u.up && !(src.health != nullptr && src.health->down(id));
        }
      }
    }
  }
  if (shards.size() < src.counters.size()) shards.resize(src.counters.size());
  for (std::size_t s = 0; s < src.counters.size(); ++s) shards[s] += *src.counters[s];
  if (running) {
    for (const ShardMetrics* shard : src.shards) {
      for (int c = 0; c < 2; ++c) {
        cache_entries[c] += shard->cache_entries[c].get();
        cache_evictions[c] += shard->cache_evictions[c].get();
        cache_bytes[c] += shard->cache_bytes[c].get();
      }
    }
  }
}

std::string FormatMetrics(const MetricsTotals& totals) {
  const auto& blocks = totals.blocks;
  const auto& cache_entries = totals.cache_entries;
  const auto& cache_evictions = totals.cache_evictions;
  const auto& cache_bytes = totals.cache_bytes;

  std::string out;
  Writer w(out);
  w.Family("coredns_build_info", "gauge",
           "A metric with a constant '1' value labeled by version, revision, and goversion from "
           "which CoreDNS was built.");
  w.Sample(
      "coredns_build_info",
      absl::StrCat("version=\"", std::string(Version()), "\",revision=\"\",goversion=\"none\""),
      std::uint64_t{1});
  if (!totals.io_backend.empty()) {
    w.Family("ringdns_io_backend_info", "gauge",
             "A metric with a constant '1' value labeled by the I/O backend the shards run on: "
             "io_uring, or epoll where io_uring is refused.");
    w.Sample("ringdns_io_backend_info", absl::StrCat("backend=\"", totals.io_backend, "\""),
             std::uint64_t{1});
  }

  if (!totals.dnstap_collector_dropped.empty()) {
    w.Family("ringdns_dnstap_collector_dropped_total", "counter",
             "dnstap messages a collector's queue could not take: the collector away or reading "
             "slower than ringdns taps.");
    for (const auto& [collector, dropped] : totals.dnstap_collector_dropped) {
      w.Sample("ringdns_dnstap_collector_dropped_total",
               absl::StrCat("collector=\"", Escape(collector), "\""), dropped);
    }
  }
  w.Family("coredns_dns_requests_total", "counter",
           "Counter of DNS requests made per zone, protocol and family.");
  for (const auto& [labels, block] : blocks) {
    for (std::size_t p = 0; p < 2; ++p) {
      for (std::size_t f = 0; f < 2; ++f) {
        for (std::size_t t = 0; t < kTypeSlots; ++t) {
          const std::uint64_t n = block.metrics.requests[p][f][t].get();
          if (n == 0) continue;
          w.Sample("coredns_dns_requests_total",
                   absl::StrCat(BlockLabels(labels), ",proto=\"", p == kTcp ? "tcp" : "udp",
                                "\",family=\"", f + 1, "\",type=\"", TypeName(t), "\""),
                   n);
        }
      }
    }
  }
  w.Family("coredns_dns_responses_total", "counter", "Counter of response status codes.");
  for (const auto& [labels, block] : blocks) {
    for (std::size_t r = 0; r < kRcodeSlots; ++r) {
      const std::uint64_t n = block.metrics.responses[r].get();
      if (n == 0) continue;
      w.Sample("coredns_dns_responses_total",
               absl::StrCat(BlockLabels(labels), ",rcode=\"", RcodeName(r), "\",plugin=\"\""), n);
    }
  }
  w.Family("coredns_dns_request_duration_seconds", "histogram",
           "Histogram of the time (in seconds) each request took per zone.");
  for (const auto& [labels, block] : blocks) {
    for (std::size_t t = 0; t < kTypeSlots; ++t) {
      if (block.metrics.duration[t].count.get() == 0) continue;
      w.Histogram("coredns_dns_request_duration_seconds",
                  absl::StrCat(BlockLabels(labels), ",type=\"", TypeName(t), "\""),
                  block.metrics.duration[t], kDurationBoundsUs, 1e-6);
    }
  }
  for (const char* which : {"request", "response"}) {
    const std::string name = absl::StrCat("coredns_dns_", which, "_size_bytes");
    w.Family(
        name.c_str(), "histogram",
        absl::StrCat("Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.")
            .c_str());
    for (const auto& [labels, block] : blocks) {
      for (std::size_t p = 0; p < 2; ++p) {
        const SizeHistogram& h =
            which[2] == 'q' ? block.metrics.request_size[p] : block.metrics.response_size[p];
        if (h.count.get() == 0) continue;
        w.Histogram(name.c_str(),
                    absl::StrCat(BlockLabels(labels), ",proto=\"", p == kTcp ? "tcp" : "udp", "\""),
                    h, kSizeBounds, 1.0);
      }
    }
  }

  // The cache: per server block for what a block's queries did, per pool for the pools
  // (each shard's pools serve every block of the shard).
  w.Family("coredns_cache_entries", "gauge", "The number of elements in the cache.");
  for (int c = 0; c < 2; ++c) {
    w.Sample("coredns_cache_entries",
             absl::StrCat("server=\"\",type=\"", c == 0 ? "success" : "denial",
                          "\",zones=\"\",view=\"\""),
             cache_entries[c]);
  }
  w.Family("coredns_cache_evictions_total", "counter", "The count of cache evictions.");
  for (int c = 0; c < 2; ++c) {
    w.Sample("coredns_cache_evictions_total",
             absl::StrCat("server=\"\",type=\"", c == 0 ? "success" : "denial",
                          "\",zones=\"\",view=\"\""),
             cache_evictions[c]);
  }
  w.Family(
      "ringdns_cache_bytes", "gauge",
      "Octets the cache's entries and answers hold: they grow with the work, up to the capacity.");
  for (int c = 0; c < 2; ++c) {
    w.Sample("ringdns_cache_bytes", absl::StrCat("type=\"", c == 0 ? "success" : "denial", "\""),
             cache_bytes[c]);
  }
  // One family at a time: the exposition format keeps each family's samples together.
  const auto per_cached_block = [&](const char* name, const char* type, const char* help,
                                    auto&& emit) {
    w.Family(name, type, help);
    for (const auto& [labels, block] : blocks) {
      if (block.cached) emit(CacheLabels(labels), block.metrics);
    }
  };
  per_cached_block("coredns_cache_hits_total", "counter", "The count of cache hits.",
                   [&](const std::string& labels, const BlockMetrics& m) {
                     w.Sample("coredns_cache_hits_total", absl::StrCat(labels, ",type=\"success\""),
                              m.cache_hits[0].get());
                     w.Sample("coredns_cache_hits_total", absl::StrCat(labels, ",type=\"denial\""),
                              m.cache_hits[1].get());
                   });
  per_cached_block("coredns_cache_misses_total", "counter", "The count of cache misses.",
                   [&](const std::string& labels, const BlockMetrics& m) {
                     w.Sample("coredns_cache_misses_total", labels, m.cache_misses.get());
                   });
  per_cached_block("coredns_cache_requests_total", "counter", "The count of cache requests.",
                   [&](const std::string& labels, const BlockMetrics& m) {
                     w.Sample("coredns_cache_requests_total", labels,
                              m.cache_hits[0].get() + m.cache_hits[1].get() + m.cache_misses.get() +
                                  m.cache_served_stale.get());
                   });
  per_cached_block("coredns_cache_prefetch_total", "counter",
                   "The number of times the cache has prefetched a cached item.",
                   [&](const std::string& labels, const BlockMetrics& m) {
                     w.Sample("coredns_cache_prefetch_total", labels, m.cache_prefetches.get());
                   });
  per_cached_block("coredns_cache_served_stale_total", "counter",
                   "The number of requests served from stale cache entries.",
                   [&](const std::string& labels, const BlockMetrics& m) {
                     w.Sample("coredns_cache_served_stale_total", labels,
                              m.cache_served_stale.get());
                   });

  // Upstreams, one family at a time.
  const auto per_upstream = [&](auto&& emit) {
    for (const auto& [to, upstream] : totals.upstreams) {
      emit(upstream, absl::StrCat("proxy_name=\"forward\",to=\"", Escape(to), "\""));
    }
  };
  w.Family("coredns_proxy_request_duration_seconds", "histogram",
           "Histogram of the time each request took.");
  per_upstream([&](const MetricsTotals::Upstream& u, const std::string& to) {
    if (u.duration.count.get() > 0) {
      w.Histogram("coredns_proxy_request_duration_seconds", to, u.duration, kDurationBoundsUs,
                  1e-6);
    }
  });
  w.Family("coredns_proxy_healthcheck_failures_total", "counter",
           "Count of failed health checks per upstream.");
  per_upstream([&](const MetricsTotals::Upstream& u, const std::string& to) {
    w.Sample("coredns_proxy_healthcheck_failures_total", to, u.probe_failures);
  });
  w.Family("ringdns_upstream_up", "gauge",
           "1 while the upstream is considered healthy, 0 while it is marked down.");
  per_upstream([&](const MetricsTotals::Upstream& u, const std::string& to) {
    if (u.configured) w.Sample("ringdns_upstream_up", to, std::uint64_t{u.up ? 1u : 0u});
  });
  w.Family(
      "coredns_forward_max_concurrent_rejects_total", "counter",
      "Counter of the number of queries rejected because the concurrent queries were at maximum.");
  std::uint64_t max_concurrent_rejects = 0;
  for (const ShardCounters& c : totals.shards)
    max_concurrent_rejects += c.refused_max_concurrent.get();
  w.Sample("coredns_forward_max_concurrent_rejects_total", "", max_concurrent_rejects);
  w.Family("coredns_reload_failed_total", "counter",
           "Counter of the number of failed reload attempts.");
  w.Sample("coredns_reload_failed_total", "", totals.reload_failures);

  // Every shard counter, per shard: what only ringdns counts (buffer and slot
  // exhaustion, coalescing, rejected answers by reason, TCP limits).
  std::vector<std::string> names;
  ForEachCounter(ShardCounters{}, [&](const char* name, std::uint64_t) { names.push_back(name); });
  for (std::size_t n = 0; n < names.size(); ++n) {
    const std::string metric = absl::StrCat("ringdns_", names[n], "_total");
    w.Family(metric.c_str(), "counter",
             absl::StrCat("ringdns shard counter ", names[n], ".").c_str());
    for (std::size_t s = 0; s < totals.shards.size(); ++s) {
      std::size_t i = 0;
      ForEachCounter(totals.shards[s], [&](const char*, std::uint64_t value) {
        if (i++ == n) w.Sample(metric, absl::StrCat("shard=\"", s, "\""), value);
      });
    }
  }
  return out;
}

}  // namespace ringdns::core
