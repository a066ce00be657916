// wire/rewrite_names.h: a message re-encoded with some of its names replaced and its
// TTLs adjusted, for rewrites that change a name's length (CoreDNS's `rewrite` turning an
// upstream's answer back to the name the client asked).
//
// Every name is read expanded (pointers followed, bounds and loops checked) and written
// again compressed against the names already written, so the copy is about as compact
// as the original. Names inside RDATA are rewritten for the types that carry one a
// resolver reads (CNAME, DNAME, NS, PTR, MX, SRV, the SOA's MNAME, NAPTR's replacement,
// and the RFC 1035 mailbox types), and compressed only where RFC 3597 allows it. The
// RDATA of every other type is copied as it is. Never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/name.h"
#include "wire/result.h"

namespace ringdns::wire {

enum class NameRole : std::uint8_t {
  kQuestion,  // the question's name
  kOwner,     // a record's owner name (OPT's excepted)
  kTarget,    // a name in a record's RDATA
};

// What to change. `map_name` is given each name uncompressed; it writes a replacement
// into `out` and returns its length, or returns 0 to keep the name. A replacement must
// be a valid uncompressed name. `map_ttl` maps each TTL but OPT's (null: kept).
struct NameEdits {
  void* context = nullptr;
  std::size_t (*map_name)(void* context, NameRole role, std::span<const std::uint8_t> name,
                          NameStorage& out) = nullptr;
  std::uint32_t (*map_ttl)(void* context, std::uint32_t ttl) = nullptr;
  // The question's TYPE and CLASS written in place of the message's (0: kept).
  std::uint16_t question_type = 0;
  std::uint16_t question_class = 0;
};

// Re-encodes `in` into `out` with `edits` applied. Returns the new length.
// Errors: kTooShort, kBadPointer, kBadLabelType, kNameTooLong (malformed input; `in`
// normally passed WalkResponse), kBufferTooSmall (the result does not fit `out`),
// kTrailing, kBadRdata. `in` and `out` must not overlap.
Result<std::size_t> RewriteNames(std::span<const std::uint8_t> in, std::span<std::uint8_t> out,
                                 const NameEdits& edits) noexcept;

}  // namespace ringdns::wire
