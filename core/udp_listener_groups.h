// core/udp_listener_groups.h: the UDP listener sockets, one SO_REUSEPORT group per
// address, bound by the daemon in shard order and steered by question.
//
// The steering program (core/udp_steering.h) returns an index into the group, and the
// kernel keeps a group's sockets in the order they joined; closing one moves the last
// into its place. So the daemon, not the shards, binds each group: shard 0's socket
// first, then shard 1's, and keeps its own copy of every socket for as long as any
// generation (running or draining after a reload) listens on the address. A reload that
// brings an address back while the old sockets live reuses them, rather than binding N
// more behind N that nobody reads; each shard receives a duplicate of its socket.
//
// Steering is all or nothing: if any group refuses the program, every group is left to
// the kernel's hash from then on, so the state is what steered() says.
// Not thread-safe: the daemon calls it under its lock (control and balancer threads).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/net.h"
#include "core/routes.h"
#include "core/shard/shard_succession.h"
#include "core/udp_steering.h"
#include "ring/fd.h"

namespace ringdns::core {

class UdpListenerGroups {
 public:
  // `key`: the groups are steered by question with it; nullopt leaves them to the kernel.
  UdpListenerGroups(std::uint32_t shards, std::optional<SteeringKey> key);

  // Gives shard i (successions[i]) its socket of every UDP listener of `routes`, opening
  // the groups not open yet. An optional listener (IPv6 on a host without it) that cannot
  // be bound is left out; any other failure is returned.
  absl::Status Provide(const RouteTable& routes, std::vector<ShardSuccession>& successions);
  // Closes the groups whose address none of `in_use` listens on.
  void Prune(const std::vector<const RouteTable*>& in_use);
  void Clear() { groups_.clear(); }
  // Steers every group again, with the names in `hot` (sorted) left to the kernel.
  void Spread(const std::vector<std::uint32_t>& hot);

  // The groups are steered by question; else steering() says why not.
  bool steered() const noexcept { return key_.has_value() && failure_.empty(); }
  std::string steering() const;
  const std::optional<SteeringKey>& key() const noexcept { return key_; }

 private:
  struct Group {
    SockAddr address;
    std::vector<ring::UniqueFd> sockets;  // socket i is shard i's
  };
  // The group for `address`, opened (and steered) if needed; null for an optional
  // listener that cannot be bound.
  absl::StatusOr<const Group*> Open(const ListenerSpec& spec);

  // Attaches the program for the current hot names to `group`; on a refusal, leaves
  // every group to the kernel for good.
  void Steer(const Group& group);

  const std::uint32_t shards_;
  const std::optional<SteeringKey> key_;
  std::vector<std::unique_ptr<Group>> groups_;
  std::vector<sock_filter> program_;  // for the current hot names
  std::vector<std::uint32_t> hot_;
  std::string failure_;  // why a group could not be steered
};

}  // namespace ringdns::core
