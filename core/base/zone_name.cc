#include "core/base/zone_name.h"

#include "absl/strings/str_cat.h"

namespace ringdns::core {

absl::StatusOr<WireZone> ToWireZone(const std::string& zone) {
  WireZone out;
  const wire::Result<std::size_t> len = wire::NameFromText(zone, out.name);
  if (!len) return absl::InvalidArgumentError(absl::StrCat("bad zone ", zone));
  out.len = static_cast<std::uint8_t>(wire::WriteLookupKey({out.name.data(), *len}, out.name));
  return out;
}

absl::StatusOr<std::vector<WireZone>> ToWireZones(const std::vector<std::string>& zones) {
  std::vector<WireZone> out;
  for (const std::string& zone : zones) {
    absl::StatusOr<WireZone> wire_zone = ToWireZone(zone);
    if (!wire_zone.ok()) return wire_zone.status();
    out.push_back(*wire_zone);
  }
  return out;
}

bool InZone(std::span<const std::uint8_t> name, std::span<const std::uint8_t> zone) noexcept {
  if (zone.size() > name.size()) return false;
  // Walk name's labels until the remainder has the zone's length: a label boundary.
  std::size_t pos = 0;
  while (name.size() - pos > zone.size()) pos += std::size_t{name[pos]} + 1;
  return name.size() - pos == zone.size() && wire::NamesEqualIgnoreCase(name.subspan(pos), zone);
}

}  // namespace ringdns::core
