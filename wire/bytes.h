// wire/bytes.h: big-endian loads and stores, and the DNS header layout by named offsets.
//
// Named byte offsets plus memcpy, never packed bitfield structs (Knot's wire.h), so the
// code is endian-clean and free of alignment traps. All functions are constexpr-cheap and
// assume the caller has already checked the bounds.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ringdns::wire {

inline std::uint16_t LoadU16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t LoadU32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline void StoreU16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void StoreU32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

// The largest DNS message (RFC 1035 section 4.2.2: a 16-bit TCP length).
inline constexpr std::size_t kMaxMessageSize = 65535;
// RFC 1035 section 2.3.4 limits.
inline constexpr std::size_t kMaxNameLen = 255;
inline constexpr std::size_t kMaxLabelLen = 63;
inline constexpr std::size_t kMaxLabels = 127;
// A UDP answer without EDNS fits in this (RFC 1035 section 4.2.1).
inline constexpr std::uint16_t kClassicUdpSize = 512;

// Header: RFC 1035 section 4.1.1.
namespace header {
inline constexpr std::size_t kId = 0;
inline constexpr std::size_t kFlags = 2;
inline constexpr std::size_t kQdCount = 4;
inline constexpr std::size_t kAnCount = 6;
inline constexpr std::size_t kNsCount = 8;
inline constexpr std::size_t kArCount = 10;
inline constexpr std::size_t kSize = 12;
}  // namespace header

// Flag bits of the 16-bit flags word.
namespace flag {
inline constexpr std::uint16_t kQr = 0x8000;
inline constexpr std::uint16_t kOpcodeMask = 0x7800;
inline constexpr int kOpcodeShift = 11;
inline constexpr std::uint16_t kAa = 0x0400;
inline constexpr std::uint16_t kTc = 0x0200;
inline constexpr std::uint16_t kRd = 0x0100;
inline constexpr std::uint16_t kRa = 0x0080;
inline constexpr std::uint16_t kZ = 0x0040;
inline constexpr std::uint16_t kAd = 0x0020;
inline constexpr std::uint16_t kCd = 0x0010;
inline constexpr std::uint16_t kRcodeMask = 0x000f;
}  // namespace flag

namespace opcode {
inline constexpr std::uint8_t kQuery = 0;
inline constexpr std::uint8_t kNotify = 4;
inline constexpr std::uint8_t kUpdate = 5;
}  // namespace opcode

// RCODEs; values above 15 live partly in the OPT record (RFC 6891 section 6.1.3).
namespace rcode {
inline constexpr std::uint16_t kNoError = 0;
inline constexpr std::uint16_t kFormErr = 1;
inline constexpr std::uint16_t kServFail = 2;
inline constexpr std::uint16_t kNxDomain = 3;
inline constexpr std::uint16_t kNotImp = 4;
inline constexpr std::uint16_t kRefused = 5;
inline constexpr std::uint16_t kBadVers = 16;
inline constexpr std::uint16_t kBadCookie = 23;  // RFC 7873 section 8
}  // namespace rcode

namespace rrtype {
inline constexpr std::uint16_t kA = 1;
inline constexpr std::uint16_t kNs = 2;
inline constexpr std::uint16_t kCname = 5;
inline constexpr std::uint16_t kSoa = 6;
inline constexpr std::uint16_t kPtr = 12;
inline constexpr std::uint16_t kSig = 24;
inline constexpr std::uint16_t kMx = 15;
inline constexpr std::uint16_t kTxt = 16;
inline constexpr std::uint16_t kAaaa = 28;
inline constexpr std::uint16_t kSrv = 33;
inline constexpr std::uint16_t kOpt = 41;
inline constexpr std::uint16_t kDs = 43;
inline constexpr std::uint16_t kTsig = 250;
inline constexpr std::uint16_t kAxfr = 252;
inline constexpr std::uint16_t kAny = 255;
}  // namespace rrtype

namespace rrclass {
inline constexpr std::uint16_t kIn = 1;
inline constexpr std::uint16_t kChaos = 3;
}  // namespace rrclass

// Fixed part of a resource record after its owner name: TYPE, CLASS, TTL, RDLENGTH.
namespace rr {
inline constexpr std::size_t kType = 0;
inline constexpr std::size_t kClass = 2;
inline constexpr std::size_t kTtl = 4;
inline constexpr std::size_t kRdLength = 8;
inline constexpr std::size_t kFixedSize = 10;
}  // namespace rr

inline std::uint16_t Opcode(std::uint16_t flags) noexcept {
  return static_cast<std::uint16_t>((flags & flag::kOpcodeMask) >> flag::kOpcodeShift);
}

}  // namespace ringdns::wire
