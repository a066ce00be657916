// wire/response.h: reading upstream answers: a validating walk, the minimum TTL and the
// negative-caching TTL, answer-to-query matching, and the in-place edits a cached answer
// needs before it is served: TTL capping, dropping an EDNS option, UDP truncation.
//
// All functions work in place on the caller's buffer and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "wire/edns.h"
#include "wire/message.h"
#include "wire/record.h"
#include "wire/result.h"

namespace ringdns::wire {

// A TTL with the top bit set means zero (RFC 2181 section 8).
constexpr std::uint32_t ClampTtl(std::uint32_t ttl) noexcept { return ttl > 0x7fffffffu ? 0 : ttl; }

inline constexpr std::uint32_t kNoTtl = std::numeric_limits<std::uint32_t>::max();

struct ResponseInfo {
  QueryView question;  // header fields, and the question when has_question
  bool has_question = false;
  std::uint16_t rcode = 0;  // 12-bit RCODE: header bits plus OPT's extended bits
  SectionCounts counts{};
  // Minimum clamped TTL over every record but OPT; kNoTtl when there is none.
  std::uint32_t min_ttl = kNoTtl;
  // The first SOA of the authority section, which sets negative-caching time.
  bool has_soa = false;
  std::uint32_t soa_ttl = 0;
  std::uint32_t soa_minimum = 0;

  const OptView& opt() const noexcept { return question.opt; }
  bool truncated() const noexcept { return (question.flags & flag::kTc) != 0; }
  // RFC 2308 section 5: a negative answer lives for min(SOA TTL, SOA MINIMUM).
  std::uint32_t negative_ttl() const noexcept {
    const std::uint32_t ttl = ClampTtl(soa_ttl);
    const std::uint32_t minimum = ClampTtl(soa_minimum);
    return ttl < minimum ? ttl : minimum;
  }
};

// Walks and validates a whole response: header, at most one question (uncompressed
// QNAME), every record (owner names with backward pointers; the names inside NS, CNAME,
// PTR, MX, SRV and SOA RDATA too, each ending inside its RDATA; A and AAAA lengths),
// at most one OPT, in the additional section, and nothing after the last record.
Result<ResponseInfo> WalkResponse(std::span<const std::uint8_t> msg) noexcept;

// The same walk, calling `on_record(context, record)` for every record but OPT once its
// checks passed. The records seen before a failure were sound; the walk's result says
// whether the whole message is.
using RecordSink = void (*)(void* context, const RecordView& record);
Result<ResponseInfo> WalkResponse(std::span<const std::uint8_t> msg, RecordSink on_record,
                                  void* context) noexcept;

// Checks that `answer` answers the query we sent: QR set, the expected ID and opcode,
// one question equal to `question` (name case-insensitively, type, class)
// (RFC 5452 section 9.1). Returns Error::kOk or the first mismatch.
Error MatchAnswer(std::span<const std::uint8_t> answer, std::uint16_t expected_id,
                  std::uint16_t expected_opcode, const Question& question) noexcept;

// Lowers every TTL but OPT's to at most `cap` seconds; TTLs with the top bit set become
// zero. A cached answer is served with cap = the entry's remaining lifetime, so a client
// never holds it longer than the upstream allowed nor longer than the cache will.
// Precondition: `msg` passed WalkResponse (checked again; on a malformed message nothing
// past the bad record is touched and the error is returned).
Error CapTtls(std::span<std::uint8_t> msg, std::uint32_t cap) noexcept;

// CapTtls and WalkResponse in one walk: caps as CapTtls does and returns what
// WalkResponse would return for the capped message (the cache-hit path needs both).
Result<ResponseInfo> WalkAndCapTtls(std::span<std::uint8_t> msg, std::uint32_t cap) noexcept;

// Drops every EDNS option `code` from the OPT of `msg` (e.g. an upstream's COOKIE, which
// echoes another client's cookie and must not reach this one, RFC 7873 section 5.3).
// When the OPT is the last record the options are removed and the message shrinks;
// otherwise each is overwritten in place by a zeroed PADDING option of the same size
// (RFC 7830), so no later name moves. Updates `info` and returns the new size.
// Precondition: `info` came from WalkResponse over these bytes.
std::size_t DropEdnsOption(std::span<std::uint8_t> msg, ResponseInfo& info,
                           std::uint16_t code) noexcept;

// RFC 6891 section 7: the answer to a query without OPT carries none. Removes the answer's
// OPT unless its extended RCODE means something (BADVERS, say: dropping it would change
// the answer) or it is not the last record. Updates `info` and returns the new size.
// Precondition: `info` came from WalkResponse over these bytes.
std::size_t DropOptForClientWithout(std::span<std::uint8_t> msg, ResponseInfo& info) noexcept;

// Shrinks a response of msg.size() octets to at most `max_size` for a UDP client: when it
// does not fit, keep the header and question, drop every record but OPT, set TC
// (RFC 1035 section 4.2.1, RFC 6891 section 7). The client retries over TCP, so partial
// RRsets are never sent. Returns the new length (msg.size() when it already fits).
// Precondition: `info` came from WalkResponse over these bytes.
std::size_t TruncateForUdp(std::span<std::uint8_t> msg, const ResponseInfo& info,
                           std::size_t max_size) noexcept;

}  // namespace ringdns::wire
