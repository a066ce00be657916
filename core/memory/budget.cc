#include "core/memory/budget.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace ringdns::core {

namespace {

// A v1 cgroup without a limit reports a number near 2^63; anything past this is none.
constexpr std::uint64_t kNoLimitAbove = std::uint64_t{1} << 60;

std::string MiB(std::uint64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

// Halves `value` toward `floor`; false when it is there already.
template <typename T>
bool Halve(T& value, T floor) {
  if (value <= floor) return false;
  value = std::max(floor, static_cast<T>(value / 2));
  return true;
}

// Halves the buffers, slots and connections toward floors that still serve; false when
// every one is at its floor.
bool ScaleDownBuffers(ShardOptions& o) {
  bool scaled = false;
  scaled |= Halve<std::uint32_t>(o.query_buffers, 256);
  scaled |= Halve<std::uint32_t>(o.answer_buffers, 256);
  scaled |= Halve<std::uint32_t>(o.slots, 4096);
  scaled |= Halve<std::uint32_t>(o.tcp_connections, 64);
  scaled |= Halve<std::uint32_t>(o.tcp_query_buffers, 64);
  scaled |= Halve<std::uint32_t>(o.tls_connections, 16);
  return scaled;
}

// One step down: the larger of the cache and everything else is halved first; false at
// the floors.
bool ScaleDown(ShardOptions& o, absl::FunctionRef<std::uint64_t(const ShardOptions&)> bound) {
  ShardOptions uncached = o;
  uncached.cache_percent = 0;
  const std::uint64_t rest = bound(uncached);
  const bool cache_first = bound(o) - rest >= rest;
  if (cache_first && o.cache_percent > 1) return Halve<std::uint32_t>(o.cache_percent, 1);
  if (ScaleDownBuffers(o)) return true;
  return Halve<std::uint32_t>(o.cache_percent, 1);
}

}  // namespace

std::uint64_t CgroupMemoryLimit(const std::string& cgroup_root) {
  // This process's own cgroup first (a service's MemoryMax=, a container without a
  // cgroup namespace), then the root as mounted (a container with one: its own).
  std::string v2_path;
  std::string v1_path;
  if (std::FILE* self = std::fopen("/proc/self/cgroup", "r")) {
    char line[512];
    while (std::fgets(line, sizeof(line), self) != nullptr) {
      // "ID:CONTROLLERS:PATH"; v2's line is "0::PATH".
      const std::vector<absl::string_view> fields =
          absl::StrSplit(absl::StripTrailingAsciiWhitespace(line), absl::MaxSplits(':', 2));
      if (fields.size() != 3) continue;
      if (fields[0] == "0" && fields[1].empty()) v2_path = std::string(fields[2]);
      for (const absl::string_view controller : absl::StrSplit(fields[1], ',')) {
        if (controller == "memory") v1_path = std::string(fields[2]);
      }
    }
    std::fclose(self);
  }
  const std::string candidates[] = {
      cgroup_root + v2_path + "/memory.max",  // v2: bytes or "max"
      cgroup_root + "/memory.max",
      cgroup_root + "/memory" + v1_path + "/memory.limit_in_bytes",
      cgroup_root + "/memory/memory.limit_in_bytes",
  };
  for (const std::string& file : candidates) {
    std::FILE* f = std::fopen(file.c_str(), "r");
    if (f == nullptr) continue;
    unsigned long long limit = 0;
    if (std::fscanf(f, "%llu", &limit) != 1) limit = 0;  // "max"
    std::fclose(f);
    return limit >= kNoLimitAbove ? 0 : limit;
  }
  return 0;
}

std::uint64_t ShardBudget(std::uint64_t limit) noexcept { return limit / 4 * 3; }

MemoryFit FitShardsToMemory(const ShardOptions& wanted, int shards, std::uint64_t limit,
                            absl::FunctionRef<std::uint64_t(const ShardOptions&)> bound) {
  MemoryFit fit{wanted, bound(wanted), true, ""};
  if (limit == 0 || shards <= 0) return fit;
  const std::uint64_t budget = ShardBudget(limit);
  const auto total = [&] { return fit.shard_bound * static_cast<std::uint64_t>(shards); };
  const std::uint64_t wanted_total = total();
  if (wanted_total <= budget) return fit;
  while (total() > budget && ScaleDown(fit.options, bound)) fit.shard_bound = bound(fit.options);
  fit.fits = total() <= budget;
  const ShardOptions& o = fit.options;
  fit.note = absl::StrCat(
      "memory limit ", MiB(limit), ": ", shards, " shards would hold up to ", MiB(wanted_total),
      "; ", fit.fits ? "scaled to fit " : "scaled to the smallest sizes, still over ", MiB(budget),
      " (", MiB(total()), "): caches ", o.cache_percent, "% of their capacity, ", o.query_buffers,
      " query and ", o.answer_buffers, " answer buffers, ", o.slots, " queries in flight, ",
      o.tcp_connections, " TCP connections per shard");
  return fit;
}

}  // namespace ringdns::core
