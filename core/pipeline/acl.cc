#include "core/pipeline/acl.h"

#include <netinet/in.h>

#include <cstring>

namespace ringdns::core {

bool AclPrefix::Contains(const sockaddr* address) const noexcept {
  if (address == nullptr || address->sa_family != family) return false;
  const std::uint8_t* bytes_of = nullptr;
  if (family == AF_INET) {
    bytes_of = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(address)->sin_addr);
  } else {
    bytes_of = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  }
  const int whole = length / 8;
  if (std::memcmp(bytes_of, bytes.data(), static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (bytes_of[whole] & mask) == (bytes[static_cast<std::size_t>(whole)] & mask);
}

config::AclAction Decide(const std::vector<AclSet>& sets, std::span<const std::uint8_t> qname,
                         std::uint16_t qtype, const sockaddr* source) noexcept {
  for (const AclSet& set : sets) {
    bool covered = set.zones.empty();
    for (const WireZone& zone : set.zones) covered = covered || InZone(qname, zone.view());
    if (!covered) continue;
    for (const AclRule& rule : set.rules) {
      bool type_matches = rule.qtypes.empty();
      for (std::uint16_t t : rule.qtypes) type_matches = type_matches || t == qtype;
      if (!type_matches) continue;
      bool source_matches = rule.sources.empty();
      for (const AclPrefix& p : rule.sources) source_matches = source_matches || p.Contains(source);
      if (source_matches) return rule.action;
    }
  }
  return config::AclAction::kAllow;
}

absl::StatusOr<std::vector<AclSet>> CompileAcls(const std::vector<config::Acl>& acls) {
  std::vector<AclSet> sets;
  for (const config::Acl& acl : acls) {
    AclSet set;
    for (const std::string& name : acl.zones) {
      absl::StatusOr<WireZone> zone = ToWireZone(name);
      if (!zone.ok()) return zone.status();
      set.zones.push_back(*zone);
    }
    for (const config::AclRule& r : acl.rules) {
      AclRule rule;
      rule.action = r.action;
      rule.qtypes = r.qtypes;
      for (const config::Prefix& p : r.sources) {
        rule.sources.push_back(AclPrefix{p.address.family, p.address.bytes, p.length});
      }
      set.rules.push_back(std::move(rule));
    }
    sets.push_back(std::move(set));
  }
  return sets;
}

}  // namespace ringdns::core
