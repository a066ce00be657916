// core/config/parse_util.h: typed readers for directive arguments, each failing with
// "FILE:LINE:COLUMN: what was wrong, what was expected".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/config/syntax.h"

namespace ringdns::core::config {

absl::Status ErrorAt(const Token& token, absl::string_view message);

// A transport ringdns does not speak (CoreDNS's https://, grpc://, quic://, or any other
// SCHEME://) in `token`: says "not supported", naming it, rather than failing later on a
// port or address that only looks wrong. An error when `token` has such a scheme, else OK.
absl::Status RefuseUnsupportedScheme(const Token& token, absl::string_view expected);

// Go's time.ParseDuration forms: "500ms", "2s", "1.5m", "1h30m", "0".
absl::StatusOr<absl::Duration> ParseDuration(const Token& token, absl::string_view what);
absl::StatusOr<std::uint32_t> ParseUint(const Token& token, absl::string_view what,
                                        std::uint32_t min, std::uint32_t max);
// A zone: lower-cased and fully qualified; "." stays the root.
absl::StatusOr<std::string> ParseZone(const Token& token);
// An RCODE by name (NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, ...).
absl::StatusOr<std::uint16_t> ParseRcode(const Token& token);
const char* RcodeName(std::uint16_t rcode);
// A QTYPE by name (A, AAAA, SRV, ...) or TYPEnnn.
absl::StatusOr<std::uint16_t> ParseQtype(const Token& token);
std::string QtypeName(std::uint16_t qtype);

// A keyword and what it stands for, in a table of choices.
template <typename T>
struct Keyword {
  absl::string_view name;
  T value;
};

// The value named `text` exactly, or null.
template <typename T>
const T* FindKeyword(std::span<const Keyword<T>> choices, absl::string_view text) {
  for (const Keyword<T>& choice : choices) {
    if (choice.name == text) return &choice.value;
  }
  return nullptr;
}

// "a, b or c": the names, for an error's "expected".
template <typename T>
std::string KeywordList(std::span<const Keyword<T>> choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    out += i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ";
    out += std::string(choices[i].name);
  }
  return out;
}

// One of a fixed set of keywords, e.g. policy random|round_robin|sequential. Errors:
// "unknown WHAT 'TEXT', expected a, b or c".
template <typename T>
absl::StatusOr<T> ParseKeyword(const Token& token, absl::string_view what,
                               std::initializer_list<Keyword<T>> choices) {
  const std::span<const Keyword<T>> table(choices.begin(), choices.size());
  if (const T* value = FindKeyword(table, token.text)) return *value;
  return ErrorAt(token, std::string("unknown ") + std::string(what) + " '" + token.text +
                            "', expected " + KeywordList(table));
}

// Argument-count checks for a directive line or sub-option.
absl::Status ExpectArgs(const Directive& d, std::size_t min, std::size_t max,
                        absl::string_view usage);
absl::Status ExpectNoBlock(const Directive& d);

// "1m30s" style, for printing a normalised Corefile.
std::string DurationText(absl::Duration d);

}  // namespace ringdns::core::config
