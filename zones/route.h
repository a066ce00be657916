// zones/route.h: RouteId, the opaque number a zone maps to.
//
// zones/ never interprets it; core/ uses it to index its table of routes (server block,
// forward rule, cache policy).
#pragma once

#include <cstdint>
#include <limits>

namespace ringdns::zones {

using RouteId = std::uint32_t;
inline constexpr RouteId kNoRoute = std::numeric_limits<RouteId>::max();

}  // namespace ringdns::zones
