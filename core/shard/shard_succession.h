// core/shard/shard_succession.h: what a reload's new shard takes over from the shard it
// replaces: the listener sockets, the cache (through a CacheHandoff) and the client
// connections (core/shard/stream_handoff.h). The daemon fills one per shard (core/daemon_reload.cc;
// the UDP sockets from core/udp_listener_groups.h) and ShardReactor::Init
// (core/shard/shard_reactor.cc) consumes it.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "core/cache/response_cache.h"
#include "core/net.h"
#include "core/shard/stream_handoff.h"
#include "core/udp_steering.h"
#include "ring/fd.h"

namespace ringdns::core {

// A reload's hand-over from a running shard to the shard that replaces it: the old
// shard publishes its cache once it has stopped receiving (and stops touching it); the
// new one adopts it on its next loop turn.
struct CacheHandoff {
  std::unique_ptr<ResponseCache> cache;  // written by the old shard before `ready`
  std::atomic<bool> ready{false};
  std::atomic<bool> adopted{false};  // the new shard took it (or started afresh)
};

// What a new shard takes over from the one it replaces.
struct ShardSuccession {
  // Listener sockets that stay open across the reload (UDP and TCP, by address): the
  // datagrams and connections queued on them are served by the new shard. The UDP ones
  // come from the daemon's groups, on first start too.
  struct Listener {
    SockAddr address;
    ring::UniqueFd udp;
    ring::UniqueFd tcp;
  };
  std::vector<Listener> listeners;
  std::shared_ptr<CacheHandoff> cache;     // null: a fresh cache (first start)
  std::shared_ptr<StreamHandoff> streams;  // client connections; null on first start
  // The key UDP queries are steered to shards with (core/udp_steering.h): the shard
  // samples its queries' hashes for the hot-name balancer; nullopt when not steered.
  std::optional<SteeringKey> steering;
};

}  // namespace ringdns::core
