// wire/name_case.h: DNS 0x20 (draft-vixie-dnsext-dns0x20). A forwarded query's name goes
// out with the case of each letter chosen by a secret key, and an answer is taken only
// when its question repeats that spelling exactly. Servers copy the question as they
// received it, so a genuine answer does; a blind forger must guess one bit per letter on
// top of the port and the ID.
//
// The case of the i-th letter of the name is bit i of a stream derived from the key (so
// it does not depend on how the client spelled the name). Label lengths are never
// letters (they are at most 63), so a whole wire name is treated octet by octet.
// Pure functions; no allocation; nothing read outside the spans given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringdns::wire {

// Copies `name` into `out` with every ASCII letter's case set by `key`.
// Precondition: out.size() >= name.size().
void SpellWithKey(std::span<const std::uint8_t> name, std::uint64_t key,
                  std::span<std::uint8_t> out) noexcept;

// True when every letter of `name` has the case `key` gives it (SpellWithKey's output).
bool SpelledWithKey(std::span<const std::uint8_t> name, std::uint64_t key) noexcept;

// How many letters `name` has: the bits of secret 0x20 adds to a query for it.
std::size_t CaseBits(std::span<const std::uint8_t> name) noexcept;

// True when `key` spells at least one letter of `name` upper case (or `name` has none).
// A spelling all in lower case would let an upstream that folds case pass unseen, so
// keys are drawn until this holds: uniform over the 2^n - 1 other spellings.
bool SpellsAnUpperLetter(std::span<const std::uint8_t> name, std::uint64_t key) noexcept;

// True when `name` has an upper-case and a lower-case letter: an echo of it shows that
// a server echoes case, which one folding every name to one case cannot fake.
bool HasBothCases(std::span<const std::uint8_t> name) noexcept;

}  // namespace ringdns::wire
