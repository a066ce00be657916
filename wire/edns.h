// wire/edns.h: the OPT pseudo-record of EDNS(0) (RFC 6891): parsing, the options walk,
// and writing our own OPT into an answer.
//
// OptView is offsets and decoded fixed fields; the options stay in the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "wire/bytes.h"
#include "wire/record.h"
#include "wire/result.h"

namespace ringdns::wire {

namespace edns {
inline constexpr std::uint16_t kFlagDo = 0x8000;           // RFC 3225
inline constexpr std::uint16_t kOptionNsid = 3;            // RFC 5001
inline constexpr std::uint16_t kOptionClientSubnet = 8;    // RFC 7871
inline constexpr std::uint16_t kOptionCookie = 10;         // RFC 7873
inline constexpr std::uint16_t kOptionPadding = 12;        // RFC 7830
inline constexpr std::uint16_t kOptionExtendedError = 15;  // RFC 8914
// The UDP payload size ringdns advertises: DNS Flag Day 2020's safe default.
inline constexpr std::uint16_t kAdvertisedUdpSize = 1232;
inline constexpr std::size_t kOptFixedSize = 1 + rr::kFixedSize;  // root owner + fixed part
inline constexpr std::size_t kOptionHeaderSize = 4;
}  // namespace edns

struct OptView {
  std::uint16_t offset = 0;    // the OPT record's owner octet; 0 when there is no OPT
  std::uint16_t udp_size = 0;  // as the sender wrote it
  std::uint8_t ext_rcode = 0;  // upper 8 bits of the 12-bit RCODE
  std::uint8_t version = 0;
  std::uint16_t flags = 0;  // DO is the top bit
  std::uint16_t rdata_offset = 0;
  std::uint16_t rdlength = 0;

  // No OPT can start at offset 0, which is the header.
  bool present() const noexcept { return offset != 0; }
  bool do_bit() const noexcept { return (flags & edns::kFlagDo) != 0; }
  std::size_t end() const noexcept { return std::size_t{rdata_offset} + rdlength; }
};

// Decodes an OPT record already read by ReadRecord, checking that its owner is the root
// and that its options exactly fill RDLENGTH (RFC 6891 section 6.1.2).
// Errors: kBadOpt.
Result<OptView> ParseOpt(std::span<const std::uint8_t> msg, const RecordView& record) noexcept;

// The size a UDP answer to this query may have: 512 without EDNS, and never less than
// 512 with it (RFC 6891 section 6.2.5).
inline std::uint16_t MaxUdpAnswerSize(const OptView& opt) noexcept {
  if (!opt.present() || opt.udp_size < kClassicUdpSize) return kClassicUdpSize;
  return opt.udp_size;
}

// Calls `visit(code, std::span<const uint8_t> data)` for each option, in order.
// Precondition: `opt` came from ParseOpt over the same message.
template <typename Visitor>
void ForEachOption(std::span<const std::uint8_t> msg, const OptView& opt, Visitor&& visit) {
  std::size_t pos = opt.rdata_offset;
  const std::size_t end = opt.end();
  while (end - pos >= edns::kOptionHeaderSize) {
    const std::uint16_t code = LoadU16(msg.data() + pos);
    const std::uint16_t len = LoadU16(msg.data() + pos + 2);
    pos += edns::kOptionHeaderSize;
    if (end - pos < len) return;
    visit(code, msg.subspan(pos, len));
    pos += len;
  }
}

// Whether `opt` holds an option `code`; false without an OPT.
// Precondition: `opt` came from ParseOpt (or ParseQuery) over the same message.
inline bool HasOption(std::span<const std::uint8_t> msg, const OptView& opt,
                      std::uint16_t code) noexcept {
  bool found = false;
  if (opt.present())
    ForEachOption(msg, opt,
                  [&](std::uint16_t c, std::span<const std::uint8_t>) { found |= c == code; });
  return found;
}

// Removes every option `code` from `msg`'s OPT, which must be its last record: the
// options after it move up and RDLENGTH shrinks. Updates `opt` and returns the new
// size; `msg.size()`, untouched, when the OPT is absent or not last.
// Precondition: `opt` came from ParseOpt over the same message.
std::size_t DropOption(std::span<std::uint8_t> msg, OptView& opt, std::uint16_t code) noexcept;

// Removes the OPT record from `msg`, where it must be the last record, and counts it out
// of ARCOUNT. Returns the new size; `msg.size()`, untouched, when the OPT is absent or
// not last. Clears `opt` when it removed it.
std::size_t DropOpt(std::span<std::uint8_t> msg, OptView& opt) noexcept;

// What ringdns puts in the OPT of an answer it writes itself.
struct OptAnswer {
  std::uint16_t udp_size = edns::kAdvertisedUdpSize;
  std::uint8_t ext_rcode = 0;
  bool do_bit = false;
  // RFC 8914 Extended DNS Error; written only when has_extended_error.
  bool has_extended_error = false;
  std::uint16_t extended_error = 0;
  std::string_view extended_error_text = {};  // its EXTRA-TEXT (UTF-8), often empty
};

inline std::size_t OptAnswerSize(const OptAnswer& opt) noexcept {
  return edns::kOptFixedSize + (opt.has_extended_error
                                    ? edns::kOptionHeaderSize + 2 + opt.extended_error_text.size()
                                    : 0);
}

// Writes the OPT record described by `opt` at `out`, which must hold OptAnswerSize(opt)
// octets. Returns the octets written.
std::size_t WriteOpt(const OptAnswer& opt, std::uint8_t* out) noexcept;

}  // namespace ringdns::wire
