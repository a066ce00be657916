// ring/user_data.h: the 64-bit io_uring user_data of every submission, packing what a
// completion needs to find its owner without a heap object (liburing's examples/proxy.h).
//
//   bits 63..56  op          what kind of operation completed (the owner's enum)
//   bits 55..40  generation  bumped each time a slot is reused; rejects stale completions
//   bits 39..16  slot        index into the owner's fixed table (up to 16 Mi entries)
//   bits 15..0   buffer id   provided-buffer id or a small per-op argument
#pragma once

#include <cstdint>

namespace ringdns::ring {

struct UserData {
  std::uint8_t op = 0;
  std::uint16_t generation = 0;
  std::uint32_t slot = 0;  // 24 bits used
  std::uint16_t buffer = 0;

  static constexpr std::uint32_t kMaxSlot = (1u << 24) - 1;

  constexpr std::uint64_t Pack() const noexcept {
    return (std::uint64_t{op} << 56) | (std::uint64_t{generation} << 40) |
           (std::uint64_t{slot & kMaxSlot} << 16) | std::uint64_t{buffer};
  }
  static constexpr UserData Unpack(std::uint64_t v) noexcept {
    return UserData{static_cast<std::uint8_t>(v >> 56), static_cast<std::uint16_t>(v >> 40),
                    static_cast<std::uint32_t>((v >> 16) & kMaxSlot),
                    static_cast<std::uint16_t>(v)};
  }
  friend constexpr bool operator==(const UserData&, const UserData&) = default;
};

}  // namespace ringdns::ring
