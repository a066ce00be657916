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
// Control thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/hot_names.h"
#include "core/net.h"
#include "core/routes.h"
#include "core/shard.h"
#include "ring/fd.h"

namespace ringdns::core {

class UdpListenerGroups {
 public:
  // `steering`: the plan the groups are steered by; null leaves them to the kernel.
  UdpListenerGroups(std::uint32_t shards, std::shared_ptr<const SteeringPlan> steering);

  // Gives shard i (successions[i]) its socket of every UDP listener of `routes`, opening
  // the groups not open yet. An optional listener (IPv6 on a host without it) that cannot
  // be bound is left out; any other failure is returned.
  absl::Status Provide(const RouteTable& routes, std::vector<ShardSuccession>& successions);
  // Closes the groups whose address none of `in_use` listens on.
  void Prune(const std::vector<const RouteTable*>& in_use);
  void Clear() { groups_.clear(); }

  // Every group is steered by question; else steering() says why not.
  bool steered() const noexcept { return steering_ != nullptr && failure_.empty(); }
  std::string steering() const;

 private:
  struct Group {
    SockAddr address;
    std::vector<ring::UniqueFd> sockets;  // socket i is shard i's
  };
  // The group for `address`, opened (and steered) if needed; null for an optional
  // listener that cannot be bound.
  absl::StatusOr<const Group*> Open(const ListenerSpec& spec);

  const std::uint32_t shards_;
  const std::shared_ptr<const SteeringPlan> steering_;
  std::vector<std::unique_ptr<Group>> groups_;
  std::string failure_;  // why a group could not be steered
};

}  // namespace ringdns::core
