// core/pipeline/whoami_stage.h: CoreDNS's `whoami`. Every query it sees is answered
// NOERROR, authoritative, with an empty answer section and, in the additional section,
// the client's address (A, or AAAA; an IPv4 client reaching an IPv6 socket gets its A)
// and an SRV record `_udp.QNAME` (or `_tcp.`, for TCP and TLS) holding the client's port,
// target the root, all TTL 0 and of the query's class (without the SRV when `_udp.QNAME`
// would pass 255 octets: CoreDNS cannot answer such a name at all). Like CoreDNS, it comes after
// `forward` in the plugin order, so it answers only what no forward of the block takes.
// Difference from CoreDNS: the owner names keep the query's spelling (CoreDNS lowers
// their case).
#pragma once

#include "core/pipeline/query_context.h"

namespace ringdns::core {

class WhoamiStage {
 public:
  Verdict OnQuery(QueryContext& ctx) const noexcept;
};

}  // namespace ringdns::core
