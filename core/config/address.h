// core/config/address.h: IP addresses, prefixes and host:port forms as a Corefile
// writes them ("10.1.0.10", "10.1.0.10:5353", "[fd00::1]:53", "10.0.0.0/8").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ringdns::core::config {

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};

  std::string ToString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct Prefix {
  IpAddress address;
  int length = 0;
  std::string ToString() const;
};

std::optional<IpAddress> ParseIp(absl::string_view text);
// "IP/LEN" or a bare IP (a host prefix). Host bits beyond LEN are cleared.
std::optional<Prefix> ParsePrefix(absl::string_view text);

struct HostPort {
  std::string host;  // brackets removed
  std::optional<std::uint16_t> port;
};
// Splits "host:port", "[v6]:port", "host", "v6" (several colons, no brackets). Returns
// nullopt when a port is present but not a number in 1..65535.
std::optional<HostPort> SplitHostPort(absl::string_view text);

// The reverse zones that cover a prefix, each on an octet (IPv4) or nibble (IPv6)
// boundary: 10.0.0.0/8 -> {"10.in-addr.arpa."}; a /27 -> 32 zones.
std::vector<std::string> ReverseZones(const Prefix& prefix);

}  // namespace ringdns::core::config
