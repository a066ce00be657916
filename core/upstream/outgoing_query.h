// core/upstream/outgoing_query.h: a query as it leaves for an upstream over UDP, laid
// out as pieces for one sendmsg, so the client's bytes are sent from where they lie.
//
// On top of the client's query go the name spelled for DNS 0x20 (wire/name_case.h) and
// ringdns's own COOKIE option (core/upstream/cookie_jar.h): added at the end of the
// query's OPT, or in an OPT of its own when the client sent none (the answer's is taken
// out again before the client sees it). The client's own COOKIE was removed beforehand:
// it is ringdns's to answer, not the upstream's.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/cookie.h"
#include "wire/message.h"

namespace ringdns::core {

// Where a query's OPT is, as far as adding a COOKIE goes.
inline constexpr std::uint16_t kNoOpt = 0;  // none, nor any other additional record: one is added
inline constexpr std::uint16_t kOptNotLast =
    0xffff;  // other additional records (a TSIG): no COOKIE is added

// What LayOutQuery writes besides the client's bytes: a copy of the header (ARCOUNT one
// more) and the OPT's new RDLENGTH or a whole OPT, with the COOKIE.
inline constexpr std::size_t kOutgoingScratchSize =
    wire::header::kSize + wire::edns::kOptFixedSize + wire::cookie::kMaxOptionSize;

struct OutgoingQuery {
  iovec parts[5];
  std::size_t count = 0;
  std::size_t size() const noexcept;
};

// `query` is the client's query, `qname_len` its name's length, `opt_rdata` the offset of
// its OPT's RDATA when the OPT is the last record (else kNoOpt or kOptNotLast). `spelled`
// replaces the name when not empty; `cookie` (a whole option) is added when not empty and
// opt_rdata is not kOptNotLast. `scratch` must outlive the send.
OutgoingQuery LayOutQuery(std::span<std::uint8_t> query, std::size_t qname_len,
                          std::uint16_t opt_rdata, std::span<const std::uint8_t> spelled,
                          std::span<const std::uint8_t> cookie,
                          std::span<std::uint8_t, kOutgoingScratchSize> scratch) noexcept;

}  // namespace ringdns::core
