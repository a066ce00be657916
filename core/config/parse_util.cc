#include "core/config/parse_util.h"

#include <array>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "wire/bytes.h"
#include "wire/name.h"

namespace ringdns::core::config {

absl::Status ErrorAt(const Token& token, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(token.where.ToString(), ": ", message));
}

absl::Status RefuseUnsupportedScheme(const Token& token, absl::string_view expected) {
  const absl::string_view text = token.text;
  const std::size_t end = text.find("://");
  if (end == absl::string_view::npos) return absl::OkStatus();
  const absl::string_view scheme = text.substr(0, end);
  if (scheme == "dns" || scheme == "tls") return absl::OkStatus();
  absl::string_view what = "a transport";
  if (scheme == "https") what = "DNS over HTTPS";
  if (scheme == "grpc") what = "DNS over gRPC";
  if (scheme == "quic") what = "DNS over QUIC";
  return ErrorAt(token, absl::StrCat("'", text, "': ", scheme, ":// (", what,
                                     ") is not supported by ringdns, expected ", expected));
}

absl::StatusOr<absl::Duration> ParseDuration(const Token& token, absl::string_view what) {
  const absl::string_view text = token.text;
  const auto bad = [&] {
    return ErrorAt(token, absl::StrCat("invalid ", what, " '", text,
                                       "', expected a duration such as 500ms, 2s, 1m or 1h30m"));
  };
  if (text == "0") return absl::ZeroDuration();
  if (text.empty()) return bad();
  absl::Duration total = absl::ZeroDuration();
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t number_start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == number_start) return bad();
    double value = 0;
    if (!absl::SimpleAtod(text.substr(number_start, i - number_start), &value)) return bad();
    const std::size_t unit_start = i;
    while (i < text.size() && !((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    const absl::string_view unit = text.substr(unit_start, i - unit_start);
    absl::Duration scale;
    if (unit == "ns") {
      scale = absl::Nanoseconds(1);
    } else if (unit == "us" || unit == "\xC2\xB5s") {
      scale = absl::Microseconds(1);
    } else if (unit == "ms") {
      scale = absl::Milliseconds(1);
    } else if (unit == "s") {
      scale = absl::Seconds(1);
    } else if (unit == "m") {
      scale = absl::Minutes(1);
    } else if (unit == "h") {
      scale = absl::Hours(1);
    } else {
      return bad();
    }
    total += value * scale;
  }
  return total;
}

absl::StatusOr<std::uint32_t> ParseUint(const Token& token, absl::string_view what,
                                        std::uint32_t min, std::uint32_t max) {
  std::uint64_t value = 0;
  if (!absl::SimpleAtoi(token.text, &value) || value < min || value > max) {
    return ErrorAt(token, absl::StrCat("invalid ", what, " '", token.text,
                                       "', expected an integer from ", min, " to ", max));
  }
  return static_cast<std::uint32_t>(value);
}

absl::StatusOr<std::string> ParseZone(const Token& token) {
  wire::NameStorage wire_name;
  const wire::Result<std::size_t> len = wire::NameFromText(std::string_view(token.text), wire_name);
  if (!len) {
    return ErrorAt(token, absl::StrCat("invalid zone '", token.text,
                                       "': ", std::string(wire::ToString(len.error())),
                                       "; expected a domain name such as example.org."));
  }
  std::array<char, wire::kMaxNameTextLen> text;
  wire::NameStorage lower;
  const std::size_t lower_len =
      wire::WriteLookupKey(std::span<const std::uint8_t>(wire_name.data(), *len), lower);
  const wire::Result<std::size_t> text_len =
      wire::NameToText(std::span<const std::uint8_t>(lower.data(), lower_len), text);
  return std::string(text.data(), *text_len);
}

namespace {

constexpr std::pair<const char*, std::uint16_t> kRcodes[] = {
    {"NOERROR", 0}, {"FORMERR", 1}, {"SERVFAIL", 2}, {"NXDOMAIN", 3},
    {"NOTIMP", 4},  {"REFUSED", 5}, {"YXDOMAIN", 6}, {"YXRRSET", 7},
    {"NXRRSET", 8}, {"NOTAUTH", 9}, {"NOTZONE", 10}, {"BADVERS", 16},
};

constexpr std::pair<const char*, std::uint16_t> kQtypes[] = {
    {"A", 1},      {"NS", 2},     {"CNAME", 5},   {"SOA", 6},    {"PTR", 12},   {"HINFO", 13},
    {"MX", 15},    {"TXT", 16},   {"AAAA", 28},   {"SRV", 33},   {"NAPTR", 35}, {"DS", 43},
    {"RRSIG", 46}, {"NSEC", 47},  {"DNSKEY", 48}, {"NSEC3", 50}, {"TLSA", 52},  {"SVCB", 64},
    {"HTTPS", 65}, {"IXFR", 251}, {"AXFR", 252},  {"ANY", 255},  {"CAA", 257},
};

}  // namespace

absl::StatusOr<std::uint16_t> ParseRcode(const Token& token) {
  const std::string upper = absl::AsciiStrToUpper(token.text);
  for (const auto& [name, value] : kRcodes) {
    if (upper == name) return value;
  }
  return ErrorAt(token, absl::StrCat("unknown RCODE '", token.text,
                                     "', expected a name such as NXDOMAIN, SERVFAIL or REFUSED"));
}

const char* RcodeName(std::uint16_t rcode) {
  for (const auto& [name, value] : kRcodes) {
    if (value == rcode) return name;
  }
  return "UNKNOWN";
}

absl::StatusOr<std::uint16_t> ParseQtype(const Token& token) {
  const std::string upper = absl::AsciiStrToUpper(token.text);
  for (const auto& [name, value] : kQtypes) {
    if (upper == name) return value;
  }
  std::uint32_t number = 0;
  if (upper.rfind("TYPE", 0) == 0 && absl::SimpleAtoi(upper.substr(4), &number) &&
      number <= 65535) {
    return static_cast<std::uint16_t>(number);
  }
  return ErrorAt(token, absl::StrCat("unknown query type '", token.text,
                                     "', expected a name such as A, AAAA or SRV, or TYPEnnn"));
}

std::string QtypeName(std::uint16_t qtype) {
  for (const auto& [name, value] : kQtypes) {
    if (value == qtype) return name;
  }
  return absl::StrCat("TYPE", qtype);
}

absl::Status ExpectArgs(const Directive& d, std::size_t min, std::size_t max,
                        absl::string_view usage) {
  if (d.args.size() < min) {
    return ErrorAt(d.name, absl::StrCat(d.name.text, ": missing argument, expected ", usage));
  }
  if (d.args.size() > max) {
    return ErrorAt(d.args[max], absl::StrCat(d.name.text, ": unexpected argument '",
                                             d.args[max].text, "', expected ", usage));
  }
  return absl::OkStatus();
}

absl::Status ExpectNoBlock(const Directive& d) {
  if (!d.has_block) return absl::OkStatus();
  return ErrorAt(d.name, absl::StrCat(d.name.text, " takes no block"));
}

std::string DurationText(absl::Duration d) {
  if (d == absl::ZeroDuration()) return "0s";
  std::string out;
  const std::int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms % 1000 != 0) return absl::StrCat(ms, "ms");
  std::int64_t s = ms / 1000;
  if (s >= 3600) {
    absl::StrAppend(&out, s / 3600, "h");
    s %= 3600;
  }
  if (s >= 60) {
    absl::StrAppend(&out, s / 60, "m");
    s %= 60;
  }
  if (s > 0 || out.empty()) absl::StrAppend(&out, s, "s");
  return out;
}

}  // namespace ringdns::core::config
