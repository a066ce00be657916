// core/shard/shard.h: one shard, as the daemon sees it: a thread's io_uring loop that
// receives queries on its own SO_REUSEPORT listeners, forwards them from its own upstream
// sockets, and answers. Init and Run on the shard's own thread (the ring is
// SINGLE_ISSUER); Wake, the counters and the metrics from any.
//
// The loop and the components it owns are `ShardReactor`'s (core/shard/shard_reactor.h),
// which only the shard's own files include: this header names what crosses the shard's
// edge and nothing of how it works.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/base/counters.h"
#include "core/metrics.h"
#include "core/shard/shard_options.h"
#include "core/shard/shard_succession.h"

namespace ringdns::core {

struct RouteTable;
class HealthTable;
class CaseRandomization;
class LoopProbe;
class QuestionSamples;
class LogQueue;
namespace dnstap {
class TapQueue;
}  // namespace dnstap
class ShardReactor;

using ShardId = std::uint32_t;

class Shard {
 public:
  // `health` (shared with the prober), `cases` (which upstreams get DNS 0x20 names) and
  // `loop` (the start-up loop check) are shared by every shard and outlive it.
  Shard(ShardId id, const RouteTable& routes, HealthTable& health, CaseRandomization& cases,
        LoopProbe& loop, const ShardOptions& options, ShardSuccession succession = {});
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;
  ~Shard();

  // The most one shard can ever hold with these options and routes: every pool, table
  // and cache at its capacity (core/shard/shard_memory.cc). Memory is touched as it is
  // used, so this is a bound, not what a shard holds.
  static std::uint64_t MemoryBound(const ShardOptions& options, const RouteTable& routes);
  // The capacities of this shard's cache pools (success, denial) for these routes.
  static void CacheCapacities(const ShardOptions& options, const RouteTable& routes,
                              std::uint32_t (&capacity)[2]) noexcept;

  // Sets up the ring, buffers and sockets and arms the receives. Errors name the cause.
  absl::Status Init();
  // Serves until `stop` is set, then stops receiving, lets in-flight queries finish or
  // reach their deadline, and returns.
  void Run(const std::atomic<bool>& stop);
  // Any thread: ends the loop's wait, so that it looks at `stop` (and what else other
  // threads hand it) now. A loop with nothing in flight sleeps for up to a second.
  void Wake() const noexcept;

  // Reload, control thread, before `stop` is set (with release): once stopped, hand the
  // cache to `to` instead of dropping it.
  void PassCacheOn(std::shared_ptr<CacheHandoff> to);
  // Likewise: once stopped, hand client connections to `to` once answered, instead of
  // closing them.
  void PassStreamsOn(std::shared_ptr<StreamHandoff> to);
  // Duplicates of the TCP listener sockets for a successor (control thread, after Init);
  // the daemon hands out the UDP ones (core/udp_listener_groups.h).
  std::vector<ShardSuccession::Listener> DuplicateListeners() const;

  const ShardCounters& counters() const noexcept;
  // Safe to read from any thread while the shard runs (relaxed counters).
  const ShardMetrics& metrics() const noexcept;
  // Sampled question hashes, drained by the daemon's balancer thread.
  // Null when UDP is not steered.
  QuestionSamples* question_samples() noexcept;
  const std::string& ring_description() const noexcept;
  const char* io_backend() const noexcept;
  // The records for `log` and `errors` (null when no block has either); after Init.
  LogQueue* log_queue() noexcept;
  // The records for `dnstap` (null when no block has it); after Init.
  dnstap::TapQueue* tap_queue() noexcept;

 private:
  const std::unique_ptr<ShardReactor> reactor_;
};

}  // namespace ringdns::core
