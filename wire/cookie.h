// wire/cookie.h: the EDNS COOKIE option (RFC 7873) as ringdns uses it towards its
// upstreams: finding one in an answer, and writing ours into a query.
//
// A COOKIE option is an 8-octet client cookie, alone or followed by a server cookie of
// 8 to 32 octets (RFC 7873 section 4); any other length is malformed (section 5.2.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/edns.h"

namespace ringdns::wire {

namespace cookie {
inline constexpr std::size_t kClientSize = 8;
inline constexpr std::size_t kMinServerSize = 8;
inline constexpr std::size_t kMaxServerSize = 32;
inline constexpr std::size_t kMaxOptionSize =
    edns::kOptionHeaderSize + kClientSize + kMaxServerSize;
}  // namespace cookie

struct FoundCookie {
  enum class Status : std::uint8_t { kNone, kMalformed, kOk };
  Status status = Status::kNone;
  std::span<const std::uint8_t> client;  // kOk: 8 octets
  std::span<const std::uint8_t> server;  // kOk: empty, or 8 to 32 octets
};

// The first COOKIE option of `msg`'s OPT; kMalformed when its length is not one RFC 7873
// allows, or when a second one follows (an answer carries at most one).
// Precondition: `opt` came from ParseOpt over the same message (or is absent).
FoundCookie FindCookie(std::span<const std::uint8_t> msg, const OptView& opt) noexcept;

// Writes a COOKIE option holding `client` and `server` (empty, or 8 to 32 octets) at
// `out`, which must hold cookie::kMaxOptionSize octets. Returns the octets written.
std::size_t WriteCookieOption(std::span<const std::uint8_t, cookie::kClientSize> client,
                              std::span<const std::uint8_t> server, std::uint8_t* out) noexcept;

}  // namespace ringdns::wire
