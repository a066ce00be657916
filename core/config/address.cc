#include "core/config/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ringdns::core::config {

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes.data(), text, sizeof(text));
  return text;
}

std::string Prefix::ToString() const { return absl::StrCat(address.ToString(), "/", length); }

std::optional<IpAddress> ParseIp(absl::string_view text) {
  const std::string s(text);
  IpAddress ip;
  if (::inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  if (::inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  return std::nullopt;
}

std::optional<Prefix> ParsePrefix(absl::string_view text) {
  const std::size_t slash = text.find('/');
  const std::optional<IpAddress> ip = ParseIp(text.substr(0, slash));
  if (!ip) return std::nullopt;
  const int bits = ip->family == AF_INET ? 32 : 128;
  int length = bits;
  if (slash != absl::string_view::npos &&
      (!absl::SimpleAtoi(text.substr(slash + 1), &length) || length < 0 || length > bits)) {
    return std::nullopt;
  }
  Prefix prefix{*ip, length};
  for (int bit = length; bit < bits; ++bit) {
    prefix.address.bytes[static_cast<std::size_t>(bit / 8)] &=
        static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return prefix;
}

std::optional<HostPort> SplitHostPort(absl::string_view text) {
  HostPort out;
  absl::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == absl::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    const absl::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
  } else {
    const std::size_t colon = text.rfind(':');
    // More than one colon without brackets is a bare IPv6 address.
    if (colon == absl::string_view::npos || text.find(':') != colon) {
      out.host = std::string(text);
      return out;
    }
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (port_text.empty()) return std::nullopt;
  }
  if (!port_text.empty()) {
    int port = 0;
    if (!absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(port);
  }
  return out;
}

std::vector<std::string> ReverseZones(const Prefix& prefix) {
  const bool v4 = prefix.address.family == AF_INET;
  const int step = v4 ? 8 : 4;  // octets or nibbles
  const int boundary = (prefix.length + step - 1) / step * step;
  const int extra = boundary - prefix.length;
  std::vector<std::string> zones;
  for (std::uint32_t n = 0; n < (1u << extra); ++n) {
    // Fill the bits between the prefix and the boundary with n.
    std::array<std::uint8_t, 16> bytes = prefix.address.bytes;
    for (int i = 0; i < extra; ++i) {
      if ((n >> (extra - 1 - i)) & 1u) {
        const int bit = prefix.length + i;
        bytes[static_cast<std::size_t>(bit / 8)] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
      }
    }
    std::string zone;
    if (v4) {
      for (int i = boundary / 8 - 1; i >= 0; --i) {
        absl::StrAppend(&zone, bytes[static_cast<std::size_t>(i)], ".");
      }
      absl::StrAppend(&zone, "in-addr.arpa.");
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      for (int nibble = boundary / 4 - 1; nibble >= 0; --nibble) {
        const std::uint8_t byte = bytes[static_cast<std::size_t>(nibble / 2)];
        zone.push_back(kHex[nibble % 2 == 0 ? byte >> 4 : byte & 15]);
        zone.push_back('.');
      }
      absl::StrAppend(&zone, "ip6.arpa.");
    }
    zones.push_back(std::move(zone));
  }
  return zones;
}

}  // namespace ringdns::core::config
