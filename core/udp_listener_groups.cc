#include "core/udp_listener_groups.h"

#include <fcntl.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/udp_steering.h"

namespace ringdns::core {

UdpListenerGroups::UdpListenerGroups(std::uint32_t shards, std::optional<SteeringKey> key)
    : shards_(shards), key_(std::move(key)) {
  if (key_) program_ = QuestionSteeringProgram(shards_, *key_);
}

std::string UdpListenerGroups::steering() const {
  if (steered()) return "by question";
  if (!key_) return "by the kernel's hash of the client's address";
  return absl::StrCat("by the kernel's hash of the client's address (", failure_, ")");
}

void UdpListenerGroups::Steer(const Group& group) {
  if (!steered()) return;
  // One attach sets the whole group's program.
  if (absl::Status attached = AttachSteering(group.sockets.front().get(), program_);
      !attached.ok()) {
    failure_ = std::string(attached.message());
    for (const auto& other : groups_) DetachSteering(other->sockets.front().get());
  }
}

void UdpListenerGroups::Spread(const std::vector<std::uint32_t>& hot) {
  if (!steered() || hot == hot_) return;
  hot_ = hot;
  program_ = QuestionSteeringProgram(shards_, *key_, hot_);
  for (const auto& group : groups_) Steer(*group);
}

absl::StatusOr<const UdpListenerGroups::Group*> UdpListenerGroups::Open(const ListenerSpec& spec) {
  for (const auto& group : groups_) {
    if (SameEndpoint(group->address.get(), spec.address.get())) return group.get();
  }
  auto group = std::make_unique<Group>();
  group->address = spec.address;
  for (std::uint32_t i = 0; i < shards_; ++i) {
    absl::StatusOr<ring::UniqueFd> fd = OpenUdpListener(spec.address);
    if (!fd.ok() && spec.optional) return nullptr;  // no IPv6 here: every shard goes without
    if (!fd.ok()) return fd.status();
    group->sockets.push_back(std::move(*fd));
  }
  groups_.push_back(std::move(group));
  Steer(*groups_.back());  // once every socket is in place
  return groups_.back().get();
}

absl::Status UdpListenerGroups::Provide(const RouteTable& routes,
                                        std::vector<ShardSuccession>& successions) {
  for (const ListenerSpec& spec : routes.listeners) {
    if (spec.tls != nullptr) continue;  // DNS over TLS has no UDP socket
    absl::StatusOr<const Group*> group = Open(spec);
    if (!group.ok()) return group.status();
    if (*group == nullptr) continue;
    for (std::size_t i = 0; i < successions.size() && i < (*group)->sockets.size(); ++i) {
      ring::UniqueFd copy(::fcntl((*group)->sockets[i].get(), F_DUPFD_CLOEXEC, 0));
      if (!copy.valid())
        return absl::UnavailableError(
            absl::StrCat("cannot duplicate a UDP listener of ", spec.address.ToString()));
      ShardSuccession::Listener& l = successions[i].listeners.emplace_back();
      l.address = spec.address;
      l.udp = std::move(copy);
    }
  }
  return absl::OkStatus();
}

void UdpListenerGroups::Prune(const std::vector<const RouteTable*>& in_use) {
  std::erase_if(groups_, [&](const std::unique_ptr<Group>& group) {
    return std::none_of(in_use.begin(), in_use.end(), [&](const RouteTable* routes) {
      return std::any_of(
          routes->listeners.begin(), routes->listeners.end(), [&](const ListenerSpec& spec) {
            return spec.tls == nullptr && SameEndpoint(spec.address.get(), group->address.get());
          });
    });
  });
}

}  // namespace ringdns::core
