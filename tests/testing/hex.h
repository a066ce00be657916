// tests/testing/hex.h: byte vectors from hex text, for table-driven wire tests.
//
// Whitespace and '|' separators are ignored so a literal can be laid out field by field:
//   Hex("1234 0100 0001 0000 0000 0000 | 03 www 00 ...")  -- but labels must be hex too.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace ringdns::testing {

using Bytes = std::vector<std::uint8_t>;

// Parses pairs of hex digits; aborts the test binary on a malformed literal.
Bytes Hex(std::string_view text);

// Joins byte vectors in order.
Bytes Concat(std::initializer_list<Bytes> parts);

// Lower-case hex of `bytes`, for failure messages.
std::string ToHex(const Bytes& bytes);

}  // namespace ringdns::testing
