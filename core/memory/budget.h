// core/memory/budget.h: fitting the shards under a container's memory limit.
//
// Every pool in a shard has a capacity fixed at start, so the most a shard can hold is
// known before it runs (Shard::MemoryBound). When the container's limit cannot hold
// that for every shard with headroom, the caches are scaled down first, then the
// buffers and tables, so that ringdns is never OOM-killed by its own configuration.
#pragma once

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "core/shard/shard_options.h"

namespace ringdns::core {

// The memory limit in bytes of this process's cgroup (v2 `memory.max`, or v1
// `memory/memory.limit_in_bytes`) under `cgroup_root`, else of the root cgroup there;
// 0 when there is none.
std::uint64_t CgroupMemoryLimit(const std::string& cgroup_root = "/sys/fs/cgroup");

// What the shards may hold under `limit`: a quarter is left for the process itself
// (libraries, threads, the HTTP server, allocator slack) and for the kernel's socket
// buffers, which are charged to the same cgroup.
std::uint64_t ShardBudget(std::uint64_t limit) noexcept;

struct MemoryFit {
  ShardOptions options;           // as wanted, or scaled down
  std::uint64_t shard_bound = 0;  // Shard::MemoryBound of `options`
  bool fits = true;               // false: even the smallest sizes exceed the budget
  std::string note;               // one line for the log when anything was scaled
};

// Scales `wanted` until `shards` shards of `bound(options)` fit ShardBudget(limit), by
// halves, the larger part first: the caches (down to 1 % of their capacity) or the
// query and answer buffers, in-flight slots and connections (down to floors that still
// serve). `limit` 0: unchanged.
MemoryFit FitShardsToMemory(const ShardOptions& wanted, int shards, std::uint64_t limit,
                            absl::FunctionRef<std::uint64_t(const ShardOptions&)> bound);

}  // namespace ringdns::core
