// core/base/zone_name.h: a zone name in lower-case wire form, and the label-aligned "is
// under" test the packet path uses for forward FROM/except and cache zones.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "wire/name.h"

namespace ringdns::core {

struct WireZone {
  wire::NameStorage name{};  // lower-case wire form
  std::uint8_t len = 0;
  std::span<const std::uint8_t> view() const noexcept { return {name.data(), len}; }
};

// From normalised presentation text ("remote.svc.cluster.local.").
absl::StatusOr<WireZone> ToWireZone(const std::string& zone);
// Each of `zones`, in order; the first that is not a name is the error.
absl::StatusOr<std::vector<WireZone>> ToWireZones(const std::vector<std::string>& zones);

// True when `name` equals `zone` or lies under it, on label boundaries, ignoring case.
bool InZone(std::span<const std::uint8_t> name, std::span<const std::uint8_t> zone) noexcept;

}  // namespace ringdns::core
