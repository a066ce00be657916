// core/pipeline/acl.h: CoreDNS's `acl`, compiled for the packet path: per server block, rule sets
// restricted to zones, each rule an action for some query types from some source
// prefixes; the first rule that matches decides, and no match allows.
//
//   allow   the query is served
//   block   REFUSED, with Extended DNS Error 18 "Prohibited" (RFC 8914)
//   filter  NOERROR with no records, with EDE 17 "Filtered"
//   drop    no answer at all
//
// Matching reads the query's type, name and source address only; it never allocates.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/base/zone_name.h"
#include "core/config/config.h"

namespace ringdns::core {

struct AclPrefix {
  int family = 0;
  std::array<std::uint8_t, 16> bytes{};
  int length = 0;

  bool Contains(const sockaddr* address) const noexcept;
};

struct AclRule {
  config::AclAction action = config::AclAction::kAllow;
  std::vector<std::uint16_t> qtypes;  // empty: every type
  std::vector<AclPrefix> sources;     // empty: every source
};

struct AclSet {
  std::vector<WireZone> zones;  // empty: every name of the block
  std::vector<AclRule> rules;
};

// The action for a query of `qtype` for `qname` from `source` under the block's sets.
config::AclAction Decide(const std::vector<AclSet>& sets, std::span<const std::uint8_t> qname,
                         std::uint16_t qtype, const sockaddr* source) noexcept;

// Compiles a block's `acl` directives. Errors: a zone that is not a name.
absl::StatusOr<std::vector<AclSet>> CompileAcls(const std::vector<config::Acl>& acls);

}  // namespace ringdns::core
