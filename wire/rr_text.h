// wire/rr_text.h: one resource record in presentation format (RFC 1035 section 5.1), read
// as CoreDNS's template plugin reads the text it renders (miekg/dns's NewRR):
//
//   OWNER [TTL] [CLASS] TYPE RDATA          (TTL and CLASS in either order)
//
// TTL defaults to 3600 and CLASS to IN, as there. Parentheses group fields across what
// would be lines; ';' starts a comment. Names are absolute with or without their final
// dot (the origin is the root); "@" is the root. RDATA is read for A, AAAA, NS, CNAME, PTR,
// DNAME, MX, SRV, TXT, SPF and SOA, and in RFC 3597's generic form (\# LENGTH HEX) for
// any type but those whose RDATA holds names (their octets could hold compression
// pointers), which miekg/dns would decode and ringdns refuses.
//
// The text may carry a client's bytes (a query name a template put in it): every field
// is bounds-checked; nothing is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "wire/result.h"

namespace ringdns::wire {

// Writes the record in wire format: its owner uncompressed, TYPE, CLASS, TTL, RDLENGTH
// and RDATA. Returns the octets written.
// Errors: kBadRecordText (a field missing, unknown, out of range, or left over),
// kBadText / kLabelTooLong / kNameTooLong (a name), kBufferTooSmall.
Result<std::size_t> RecordFromText(std::string_view text, std::span<std::uint8_t> out) noexcept;

}  // namespace ringdns::wire
