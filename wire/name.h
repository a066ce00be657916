// wire/name.h: domain names on the wire: scanning, validation, comparison, lookup keys,
// and conversion from and to presentation format.
//
// All functions are pure, never allocate and never read outside the span they are given.
// Compression pointers must point strictly backwards and never into the header; together
// with the 255-octet limit this bounds every walk, so a pointer loop is an error, not a
// hang (RFC 1035 section 4.1.4; Knot's knot_dname_wire_check).
// Case folding is ASCII only (RFC 4343).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "wire/bytes.h"
#include "wire/label_starts.h"
#include "wire/result.h"

namespace ringdns::wire {

// Fixed storage for one uncompressed wire name (Knot's knot_dname_storage_t).
using NameStorage = std::array<std::uint8_t, kMaxNameLen>;

// The longest presentation form of a name: every octet escaped as \DDD, plus dots.
inline constexpr std::size_t kMaxNameTextLen = 4 * kMaxNameLen + 1;

constexpr std::uint8_t ToLowerAscii(std::uint8_t c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + ('a' - 'A')) : c;
}

// Validates an uncompressed name starting at `offset` (the form a query's QNAME must
// have). Returns its wire length, including the terminating root label.
// Errors: kTooShort, kLabelTooLong (never: 6-bit length), kBadLabelType, kNameTooLong,
// kPointerInQuestion.
// When `starts` is given, the offset of every label is added to it.
Result<std::size_t> ScanUncompressedName(std::span<const std::uint8_t> msg, std::size_t offset,
                                         LabelStarts* starts = nullptr) noexcept;

// Validates a possibly compressed name starting at `offset`, following its pointers.
// Returns the number of octets the name occupies at `offset` (up to and including the
// terminating root label or the first pointer).
// When `starts` is given, every pointer must also land on an offset in it (a label of an
// earlier name), and the labels written at `offset` are added to it. Whole-message walks
// pass one; a lone name has nothing earlier to check against.
// Errors: kTooShort, kBadLabelType, kNameTooLong, kBadPointer.
Result<std::size_t> ScanName(std::span<const std::uint8_t> msg, std::size_t offset,
                             LabelStarts* starts = nullptr) noexcept;

// Like ScanName, but also reports the uncompressed length of the name.
struct ScannedName {
  std::size_t wire_len;      // octets at the scanned offset
  std::size_t expanded_len;  // octets of the name with every pointer expanded
};
Result<ScannedName> ScanNameExpanded(std::span<const std::uint8_t> msg, std::size_t offset,
                                     LabelStarts* starts = nullptr) noexcept;

// Case-insensitive equality of two uncompressed wire names.
bool NamesEqualIgnoreCase(std::span<const std::uint8_t> a,
                          std::span<const std::uint8_t> b) noexcept;

// Writes the lower-cased copy of an uncompressed wire name into `out` and returns its
// length. Precondition: `qname` passed ScanUncompressedName (so it fits kMaxNameLen).
std::size_t WriteLookupKey(std::span<const std::uint8_t> qname, NameStorage& out) noexcept;

// Records the offset of every label of an uncompressed name, root excluded, in order.
// Returns the label count. Precondition: `qname` is validated.
using LabelOffsets = std::array<std::uint8_t, kMaxLabels + 1>;
std::size_t SplitLabels(std::span<const std::uint8_t> qname, LabelOffsets& out) noexcept;

// Converts presentation format ("Www.Example.com", "a\.b.example.", "\065.example", ".")
// to an uncompressed wire name. A name without a trailing dot is taken as fully
// qualified. Case is preserved. Errors: kBadText, kLabelTooLong, kNameTooLong.
Result<std::size_t> NameFromText(std::string_view text, NameStorage& out) noexcept;

// Converts an uncompressed wire name to presentation format, escaping '.', '\\', '"',
// and non-printable octets as RFC 1035 section 5.1 describes. Returns the text length, or
// kBufferTooSmall if `out` cannot hold it (kMaxNameTextLen always suffices).
Result<std::size_t> NameToText(std::span<const std::uint8_t> name, std::span<char> out) noexcept;

}  // namespace ringdns::wire
