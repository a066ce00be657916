// wire/rr_names.h: the mnemonics of RR types and classes (RFC 1035 section 3.2, RFC 3597
// section 5's TYPEnnn and CLASSnnn for the rest), both ways, case-insensitive on input.
// Pure, never allocates.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ringdns::wire {

// Room for the longest name either function writes ("CLASS65535").
using MnemonicBuffer = std::array<char, 12>;

// "A", "AAAA", ..., or "TYPE65280" for a type without a mnemonic; returns the text in `buffer`.
std::string_view TypeName(std::uint16_t type, MnemonicBuffer& buffer) noexcept;
// "IN", "CH", "HS", "NONE", "ANY", or "CLASSnnn".
std::string_view ClassName(std::uint16_t rclass, MnemonicBuffer& buffer) noexcept;

// The type or class a mnemonic names (or a TYPEnnn / CLASSnnn); nullopt when none.
std::optional<std::uint16_t> TypeFromName(std::string_view text) noexcept;
std::optional<std::uint16_t> ClassFromName(std::string_view text) noexcept;

}  // namespace ringdns::wire
