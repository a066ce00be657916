#include "wire/rr_names.h"

#include <charconv>
#include <utility>

namespace ringdns::wire {
namespace {

constexpr std::pair<std::string_view, std::uint16_t> kTypes[] = {
    {"A", 1},      {"NS", 2},      {"CNAME", 5},  {"SOA", 6},    {"PTR", 12},   {"HINFO", 13},
    {"MX", 15},    {"TXT", 16},    {"RP", 17},    {"AAAA", 28},  {"LOC", 29},   {"SRV", 33},
    {"NAPTR", 35}, {"DNAME", 39},  {"OPT", 41},   {"DS", 43},    {"SSHFP", 44}, {"RRSIG", 46},
    {"NSEC", 47},  {"DNSKEY", 48}, {"NSEC3", 50}, {"TLSA", 52},  {"SVCB", 64},  {"HTTPS", 65},
    {"SPF", 99},   {"TSIG", 250},  {"IXFR", 251}, {"AXFR", 252}, {"ANY", 255},  {"CAA", 257},
};

constexpr std::pair<std::string_view, std::uint16_t> kClasses[] = {
    {"IN", 1}, {"CS", 2}, {"CH", 3}, {"HS", 4}, {"NONE", 254}, {"ANY", 255},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'a' && a[i] <= 'z') ? static_cast<char>(a[i] - 'a' + 'A') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

// "PREFIXnnn" (RFC 3597 section 5), any case, nnn a decimal 16-bit number.
std::optional<std::uint16_t> Numbered(std::string_view text, std::string_view prefix) noexcept {
  if (text.size() <= prefix.size() || !EqualsIgnoreCase(text.substr(0, prefix.size()), prefix))
    return std::nullopt;
  const std::string_view digits = text.substr(prefix.size());
  std::uint16_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

template <std::size_t N>
std::string_view Name(const std::pair<std::string_view, std::uint16_t> (&table)[N],
                      std::string_view prefix, std::uint16_t value,
                      MnemonicBuffer& buffer) noexcept {
  for (const auto& [name, v] : table) {
    if (v == value) return name;
  }
  prefix.copy(buffer.data(), prefix.size());
  const auto end =
      std::to_chars(buffer.data() + prefix.size(), buffer.data() + buffer.size(), value).ptr;
  return {buffer.data(), static_cast<std::size_t>(end - buffer.data())};
}

template <std::size_t N>
std::optional<std::uint16_t> Value(const std::pair<std::string_view, std::uint16_t> (&table)[N],
                                   std::string_view prefix, std::string_view text) noexcept {
  for (const auto& [name, v] : table) {
    if (EqualsIgnoreCase(text, name)) return v;
  }
  return Numbered(text, prefix);
}

}  // namespace

std::string_view TypeName(std::uint16_t type, MnemonicBuffer& buffer) noexcept {
  return Name(kTypes, "TYPE", type, buffer);
}

std::string_view ClassName(std::uint16_t rclass, MnemonicBuffer& buffer) noexcept {
  return Name(kClasses, "CLASS", rclass, buffer);
}

std::optional<std::uint16_t> TypeFromName(std::string_view text) noexcept {
  return Value(kTypes, "TYPE", text);
}

std::optional<std::uint16_t> ClassFromName(std::string_view text) noexcept {
  return Value(kClasses, "CLASS", text);
}

}  // namespace ringdns::wire
