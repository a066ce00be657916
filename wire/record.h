// wire/record.h: reading resource records one at a time, and walking the three record
// sections of a message with a visitor.
//
// A RecordView is a handful of offsets into the caller's buffer; nothing is copied.
// Owner names are validated in full (pointers followed); RDATA is bounds-checked as a
// blob, so a visitor that looks inside it must check names itself (see response.cc).
// Precondition everywhere: the message is at most kMaxMessageSize octets, so every
// offset fits 16 bits.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytes.h"
#include "wire/name.h"
#include "wire/result.h"

namespace ringdns::wire {

enum class Section : std::uint8_t { kAnswer = 0, kAuthority = 1, kAdditional = 2 };

struct RecordView {
  std::uint16_t owner_offset;
  std::uint16_t type;
  std::uint16_t rclass;
  std::uint16_t ttl_offset;
  std::uint32_t ttl;
  std::uint16_t rdata_offset;
  std::uint16_t rdlength;
  Section section;

  std::size_t end() const noexcept { return std::size_t{rdata_offset} + rdlength; }
  // A TSIG (RFC 8945) or SIG(0) (RFC 2931): a signature over the message's octets, which
  // must then reach the client exactly as signed.
  bool signs_message() const noexcept {
    return type == rrtype::kTsig || (type == rrtype::kSig && section == Section::kAdditional);
  }
};

// Reads the record at `offset`; its owner name is checked against and added to
// `starts`. Errors: those of ScanName, kTooShort.
Result<RecordView> ReadRecord(std::span<const std::uint8_t> msg, std::size_t offset,
                              Section section, LabelStarts& starts) noexcept;

// ANCOUNT, NSCOUNT, ARCOUNT.
using SectionCounts = std::array<std::uint16_t, 3>;

inline SectionCounts ReadSectionCounts(std::span<const std::uint8_t> msg) noexcept {
  return {LoadU16(msg.data() + header::kAnCount), LoadU16(msg.data() + header::kNsCount),
          LoadU16(msg.data() + header::kArCount)};
}

// Walks every record of the three sections starting at `offset` (the end of the
// question), calling `visit(const RecordView&) -> Error` on each; a visitor error stops
// the walk and is returned. Returns the offset after the last record. `starts` holds the
// labels of the question (and receives those of every owner name); a visitor that scans
// names in RDATA adds them too.
// Precondition: msg holds at least a header.
template <typename Visitor>
Result<std::size_t> WalkRecords(std::span<const std::uint8_t> msg, std::size_t offset,
                                LabelStarts& starts, Visitor&& visit) noexcept {
  const SectionCounts counts = ReadSectionCounts(msg);
  // The smallest record is 11 octets (root owner + fixed part); reject impossible counts
  // before walking, so a forged count cannot make us loop for long (Knot's pkt.c).
  constexpr std::size_t kMinRecordSize = 1 + rr::kFixedSize;
  const std::size_t total = std::size_t{counts[0]} + counts[1] + counts[2];
  if (offset > msg.size() || total > (msg.size() - offset) / kMinRecordSize) {
    return Error::kTooShort;
  }
  std::size_t pos = offset;
  for (std::uint8_t s = 0; s < 3; ++s) {
    for (std::uint16_t i = 0; i < counts[s]; ++i) {
      const Result<RecordView> record = ReadRecord(msg, pos, static_cast<Section>(s), starts);
      if (!record) return record.error();
      if (const Error e = visit(*record); e != Error::kOk) return e;
      pos = record->end();
    }
  }
  return pos;
}

}  // namespace ringdns::wire
