#include "wire/name_case.h"

#include <algorithm>

namespace ringdns::wire {
namespace {

constexpr bool IsLetter(std::uint8_t c) noexcept {
  const std::uint8_t folded = c | 0x20;
  return folded >= 'a' && folded <= 'z';
}

// SplitMix64 (Steele, Lea, Flood 2014): 64 well-mixed bits per word, so the letters'
// cases are independent bits of the key. 255 octets need at most four words.
constexpr std::uint64_t StreamWord(std::uint64_t key, std::size_t word) noexcept {
  std::uint64_t z = key + (word + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Whether the key gives any of `letters` letters upper case.
bool AnyUpper(std::uint64_t key, std::size_t letters) noexcept {
  for (std::size_t word = 0; word * 64 < letters; ++word) {
    const std::size_t in_word = std::min<std::size_t>(64, letters - word * 64);
    const std::uint64_t mask =
        in_word == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << in_word) - 1;
    if ((StreamWord(key, word) & mask) != 0) return true;
  }
  return false;
}

// Calls visit(offset, upper) for each letter of `name`: its position and the case the
// key gives it.
template <typename Visit>
bool ForEachLetter(std::span<const std::uint8_t> name, std::uint64_t key, Visit&& visit) noexcept {
  std::size_t letter = 0;
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!IsLetter(name[i])) continue;
    if (letter % 64 == 0) bits = StreamWord(key, letter / 64);
    const bool upper = ((bits >> (letter % 64)) & 1) != 0;
    ++letter;
    if (!visit(i, upper)) return false;
  }
  return true;
}

}  // namespace

void SpellWithKey(std::span<const std::uint8_t> name, std::uint64_t key,
                  std::span<std::uint8_t> out) noexcept {
  for (std::size_t i = 0; i < name.size(); ++i) out[i] = name[i];
  ForEachLetter(name, key, [&](std::size_t i, bool upper) {
    out[i] = upper ? static_cast<std::uint8_t>(name[i] & ~0x20)
                   : static_cast<std::uint8_t>(name[i] | 0x20);
    return true;
  });
}

bool SpelledWithKey(std::span<const std::uint8_t> name, std::uint64_t key) noexcept {
  return ForEachLetter(name, key,
                       [&](std::size_t i, bool upper) { return ((name[i] & 0x20) == 0) == upper; });
}

std::size_t CaseBits(std::span<const std::uint8_t> name) noexcept {
  std::size_t letters = 0;
  for (const std::uint8_t c : name) letters += IsLetter(c) ? 1u : 0u;
  return letters;
}

bool SpellsAnUpperLetter(std::span<const std::uint8_t> name, std::uint64_t key) noexcept {
  const std::size_t letters = CaseBits(name);
  return letters == 0 || AnyUpper(key, letters);
}

bool HasBothCases(std::span<const std::uint8_t> name) noexcept {
  bool upper = false, lower = false;
  for (const std::uint8_t c : name) {
    upper = upper || (c >= 'A' && c <= 'Z');
    lower = lower || (c >= 'a' && c <= 'z');
  }
  return upper && lower;
}

}  // namespace ringdns::wire
