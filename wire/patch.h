// wire/patch.h: in-place edits and the answers ringdns writes itself.
//
// SetId and SetRcode patch a message in place. BuildErrorAnswer and BuildHeaderOnlyAnswer
// write a complete answer to a query; their output may be the query's own buffer (the
// packet path answers from the buffer the query arrived in). BuildQuery writes the
// queries ringdns sends on its own behalf (cache refreshes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/message.h"
#include "wire/result.h"

namespace ringdns::wire {

// RFC 8914 section 4 INFO-CODEs ringdns uses.
namespace ede {
inline constexpr std::uint16_t kOther = 0;
inline constexpr std::uint16_t kStaleAnswer = 3;
inline constexpr std::uint16_t kFiltered = 17;
inline constexpr std::uint16_t kProhibited = 18;
inline constexpr std::uint16_t kNotSupported = 21;
inline constexpr std::uint16_t kNoReachableAuthority = 22;
inline constexpr std::uint16_t kNetworkError = 23;
}  // namespace ede

inline std::uint16_t GetId(std::span<const std::uint8_t> msg) noexcept {
  return LoadU16(msg.data() + header::kId);
}
// Precondition for both: msg.size() >= header::kSize.
inline void SetId(std::span<std::uint8_t> msg, std::uint16_t id) noexcept {
  StoreU16(msg.data() + header::kId, id);
}

// Sets AA: an answer of data this server holds itself (whoami, hosts). Precondition: a
// whole header.
inline void SetAuthoritative(std::span<std::uint8_t> msg) noexcept {
  StoreU16(msg.data() + header::kFlags,
           static_cast<std::uint16_t>(LoadU16(msg.data() + header::kFlags) | flag::kAa));
}

// Writes a 12-bit RCODE: the low 4 bits into the header, the high 8 into the OPT at
// `opt` (RFC 6891 section 6.1.3). Precondition: rcode <= 15 when there is no OPT.
void SetRcode(std::span<std::uint8_t> msg, const OptView& opt, std::uint16_t rcode) noexcept;

struct ErrorAnswer {
  std::uint16_t rcode = rcode::kServFail;
  bool has_extended_error = false;  // attach an RFC 8914 EDE when the query had EDNS
  std::uint16_t extended_error = ede::kOther;
  bool truncated = false;  // TC set: the client is to ask again over TCP (RFC 7766)
  std::string_view extended_error_text = {};  // its EXTRA-TEXT; the caller keeps it small
};

// Writes an answer to the parsed query `q` with `error.rcode`: the query's ID, opcode,
// RD and CD; QR and RA set, TC when `error.truncated`; the question echoed; and, when the query had
// an OPT, an OPT of ours (version 0, our UDP size, the query's DO bit, the extended RCODE bits, the
// EDE) (RFC 6891 section 7). `out` may start at query.data(). Errors: kBufferTooSmall.
Result<std::size_t> BuildErrorAnswer(std::span<const std::uint8_t> query, const QueryView& q,
                                     const ErrorAnswer& error,
                                     std::span<std::uint8_t> out) noexcept;

// A record answering the question locally: owned by the question's name (a compression
// pointer to it), after `owner_labels` if any (wire labels without the root, e.g. "\4_udp"
// for _udp.QNAME), of class `rclass` (IN unless said).
struct LocalRecord {
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  std::span<const std::uint8_t> rdata;
  std::uint16_t rclass = 1;
  std::span<const std::uint8_t> owner_labels = {};
};

// Writes a NOERROR answer to `q` carrying `answers` in the answer section and
// `additional` in the additional section (before the OPT), otherwise as BuildErrorAnswer
// (flags, question, OPT). `out` may start at query.data(); nothing is written when it is
// too small. Errors: kBufferTooSmall; kNameTooLong when owner labels make an owner name
// longer than 255 octets.
Result<std::size_t> BuildLocalAnswer(std::span<const std::uint8_t> query, const QueryView& q,
                                     std::span<const LocalRecord> answers,
                                     std::span<std::uint8_t> out,
                                     std::span<const LocalRecord> additional = {}) noexcept;

// For a query whose header is readable but whose body is not (FORMERR): the header with
// ID, opcode and RD copied, QR set, every count zero. `out` may start at query.data().
// Errors: kTooShort, kBufferTooSmall.
Result<std::size_t> BuildHeaderOnlyAnswer(std::span<const std::uint8_t> query, std::uint16_t rcode,
                                          std::span<std::uint8_t> out) noexcept;

struct QuerySpec {
  std::uint16_t id = 0;
  std::uint16_t flags = flag::kRd;      // QR clear, opcode QUERY; RD and CD as wanted
  std::span<const std::uint8_t> qname;  // uncompressed wire name
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 1;
  bool edns = true;  // add an OPT advertising edns::kAdvertisedUdpSize
  bool do_bit = false;
};

// Writes a one-question query. Errors: kBufferTooSmall.
Result<std::size_t> BuildQuery(const QuerySpec& spec, std::span<std::uint8_t> out) noexcept;

}  // namespace ringdns::wire
