// core/dnstap/taps.h: a configuration's `dnstap` directives bound to their collectors,
// per server block, for its TapWriter.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "core/dnstap/tap_writer.h"
#include "core/routes.h"

namespace ringdns::core::dnstap {

// taps[b]: block b's directives, with CoreDNS's defaults filled in (identity: the host
// name; version: "ringdns-VERSION"); collectors come from `pool`, so one already open
// is shared. Empty when no block has `dnstap`.
absl::StatusOr<std::vector<std::vector<Tap>>> BindTaps(const RouteTable& routes,
                                                       CollectorPool& pool);

}  // namespace ringdns::core::dnstap
