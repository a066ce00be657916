// wire/message.h: parsing a query in place.
//
// ParseQuery validates a whole query and returns a QueryView: a few offsets and decoded
// fields over the caller's buffer, nothing copied. The view is valid as long as the
// buffer is unchanged. The parser judges structure only; policy (QR set, opcode, EDNS
// version) is for the caller, which has the decoded fields at hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/result.h"

namespace ringdns::wire {

// A question as the in-flight table keeps it: the qname bytes (uncompressed), type, class.
struct Question {
  std::span<const std::uint8_t> qname;
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
};

struct QueryView {
  static constexpr std::uint16_t kQnameOffset = header::kSize;

  std::uint16_t size = 0;  // octets of the whole message
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint16_t qname_len = 0;  // wire length including the root label
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::uint16_t question_end = 0;  // offset just past QCLASS
  OptView opt;                     // opt.present() is false without EDNS

  std::uint16_t opcode() const noexcept { return Opcode(flags); }
  bool qr() const noexcept { return (flags & flag::kQr) != 0; }
  std::span<const std::uint8_t> qname(std::span<const std::uint8_t> msg) const noexcept {
    return msg.subspan(kQnameOffset, qname_len);
  }
  Question question(std::span<const std::uint8_t> msg) const noexcept {
    return Question{qname(msg), qtype, qclass};
  }
};

// Parses a DNS query (RFC 1035 section 4.1, RFC 6891). Rules:
//  - at least a header; at most 65535 octets;
//  - QDCOUNT exactly 1; the QNAME uncompressed and valid; QTYPE and QCLASS present;
//  - every record of the other sections well-formed, owner names with backward pointers;
//  - at most one OPT, in the additional section, owned by the root, options filling it;
//  - nothing after the last record.
// On error the caller may still read the header if msg.size() >= header::kSize.
Result<QueryView> ParseQuery(std::span<const std::uint8_t> msg) noexcept;

// Parses the question section of any message (query or answer) that has QDCOUNT == 1.
// The QNAME must be uncompressed: it is the first name, so a pointer could only point
// into the header. Fills size, id, flags and the question fields of the result, and adds
// the QNAME's labels to `starts` when given.
Result<QueryView> ParseQuestion(std::span<const std::uint8_t> msg,
                                LabelStarts* starts = nullptr) noexcept;

}  // namespace ringdns::wire
