// wire/error.h: every reason the wire codec rejects a message, one value per cause.
//
// Values are stable and small so that core/ can count rejects per cause in a plain
// array indexed by the enum. ToString() returns a static string; it never allocates.
#pragma once

#include <cstdint>
#include <string_view>

namespace ringdns::wire {

enum class Error : std::uint8_t {
  kOk = 0,
  kTooShort,              // fewer bytes than a header or a field needs
  kTooLong,               // more bytes than any DNS message may hold (65535)
  kBadLabelType,          // label type 0x40 or 0x80 (RFC 6891 section 5 retired them)
  kLabelTooLong,          // label over 63 octets (RFC 1035 section 2.3.4)
  kNameTooLong,           // name over 255 octets (RFC 1035 section 2.3.4)
  kBadPointer,            // compression pointer not strictly backwards, or into the header
  kPointerInQuestion,     // compression in a query's QNAME (we accept none there)
  kQdCount,               // QDCOUNT is not 1
  kTrailing,              // bytes after the last record
  kBadRdata,              // RDATA shorter than its type requires, or a name overruns it
  kBadOpt,                // OPT not owned by the root, or options overrun RDLENGTH
  kDuplicateOpt,          // more than one OPT record (RFC 6891 section 6.1.1)
  kOptOutsideAdditional,  // OPT in the answer or authority section
  kNotResponse,           // QR clear where an answer was expected
  kIdMismatch,            // answer ID differs from the one sent
  kOpcodeMismatch,        // answer opcode differs from the query's
  kQuestionMismatch,      // answer question differs from the query's (RFC 5452 section 9.1)
  kBufferTooSmall,        // caller's output buffer cannot hold the result
  kBadText,               // presentation-format name malformed (bad escape, empty label)
  kBadRecordText,         // presentation-format record malformed (unknown type, bad TTL or RDATA)
  kCount                  // number of values; keep last
};

inline constexpr std::size_t kErrorCount = static_cast<std::size_t>(Error::kCount);

constexpr std::string_view ToString(Error error) noexcept {
  switch (error) {
    case Error::kOk: return "ok";
    case Error::kTooShort: return "message too short";
    case Error::kTooLong: return "message too long";
    case Error::kBadLabelType: return "bad label type";
    case Error::kLabelTooLong: return "label longer than 63 octets";
    case Error::kNameTooLong: return "name longer than 255 octets";
    case Error::kBadPointer: return "bad compression pointer";
    case Error::kPointerInQuestion: return "compression pointer in question";
    case Error::kQdCount: return "QDCOUNT is not 1";
    case Error::kTrailing: return "trailing bytes after last record";
    case Error::kBadRdata: return "malformed RDATA";
    case Error::kBadOpt: return "malformed OPT record";
    case Error::kDuplicateOpt: return "more than one OPT record";
    case Error::kOptOutsideAdditional: return "OPT record outside additional section";
    case Error::kNotResponse: return "QR bit not set";
    case Error::kIdMismatch: return "ID mismatch";
    case Error::kOpcodeMismatch: return "opcode mismatch";
    case Error::kQuestionMismatch: return "question mismatch";
    case Error::kBufferTooSmall: return "output buffer too small";
    case Error::kBadText: return "malformed domain name text";
    case Error::kBadRecordText: return "malformed resource record text";
    case Error::kCount: break;
  }
  return "unknown error";
}

}  // namespace ringdns::wire
