// `rewrite [continue|stop] edns0 local|nsid|subnet set|replace|append|unset ...`, read as
// CoreDNS's rewrite plugin reads it (its edns0.go):
//   edns0 local ACTION CODE DATA    DATA: 0x-prefixed hex, text, or one of {qname},
//                                   {qtype}, {client_ip}, {client_port}, {protocol}
//   edns0 nsid ACTION               an empty NSID option (the upstream's NSID asked for)
//   edns0 subnet ACTION V4LEN V6LEN the client's address cut to the prefix (RFC 7871)
// `unset` (CoreDNS 1.12.3) takes no DATA or lengths.
#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"

namespace ringdns::core::config {
namespace {

// Local data longer than this would crowd the query's room (CoreDNS has no limit).
constexpr std::size_t kMaxLocalData = 512;

constexpr Keyword<EdnsAction> kActionTable[] = {{"set", EdnsAction::kSet},
                                                {"replace", EdnsAction::kReplace},
                                                {"append", EdnsAction::kAppend},
                                                {"unset", EdnsAction::kUnset}};
constexpr Keyword<EdnsVariable> kVariableTable[] = {{"{qname}", EdnsVariable::kQname},
                                                    {"{qtype}", EdnsVariable::kQtype},
                                                    {"{client_ip}", EdnsVariable::kClientIp},
                                                    {"{client_port}", EdnsVariable::kClientPort},
                                                    {"{protocol}", EdnsVariable::kProtocol}};
constexpr std::span<const Keyword<EdnsAction>> kActions = kActionTable;
constexpr std::span<const Keyword<EdnsVariable>> kVariables = kVariableTable;

// CoreDNS reads numbers with strconv.ParseUint(s, 0, ...): decimal, or 0x hex. A leading
// 0 (octal there, as 0o and 0b are) is refused rather than read another way.
bool ParseNumber(const std::string& text, std::uint64_t max, std::uint64_t& out) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower.size() > 1 && lower[0] == '0' && lower[1] != 'x') return false;
  if (lower.size() > 2 && lower[0] == '0' && lower[1] == 'x') {
    if (!absl::SimpleHexAtoi(lower.substr(2), &out)) return false;
  } else if (lower.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(lower[0])) ||
             !absl::SimpleAtoi(lower, &out)) {
    return false;
  }
  return out <= max;
}

absl::Status ParseLocalData(const Token& t, Rewrite& out) {
  const std::string& text = t.text;
  if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
    if (const EdnsVariable* variable = FindKeyword(kVariables, text)) {
      out.edns_variable = *variable;
      return absl::OkStatus();
    }
    if (text == "{server_ip}" || text == "{server_port}") {
      return ErrorAt(
          t, absl::StrCat("rewrite: the variable ", text,
                          " is not supported by ringdns yet, expected ", KeywordList(kVariables)));
    }
    return ErrorAt(
        t, absl::StrCat("rewrite: unsupported variable name '", text,
                        "' (ringdns has no metadata plugin), expected ", KeywordList(kVariables)));
  }
  if (text.size() >= 2 && text[0] == '0' && text[1] == 'x') {
    const std::string hex = text.substr(2);
    const bool valid = hex.size() % 2 == 0 && std::all_of(hex.begin(), hex.end(), [](char c) {
                         return absl::ascii_isxdigit(static_cast<unsigned char>(c));
                       });
    if (!valid)
      return ErrorAt(t, absl::StrCat("rewrite: invalid hex data '", text,
                                     "', expected 0x and pairs of hex digits"));
    out.edns_data = absl::HexStringToBytes(hex);
  } else {
    out.edns_data = text;
  }
  if (out.edns_data.size() > kMaxLocalData) {
    return ErrorAt(t, absl::StrCat("rewrite: EDNS0 local data of ", out.edns_data.size(),
                                   " octets, expected at most ", kMaxLocalData));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseEdns0Rule(const Token& field, const std::vector<Token>& args, std::size_t at,
                            Rewrite& out) {
  if (args.size() - at < 2) {
    return ErrorAt(field,
                   "rewrite: too few arguments for an EDNS0 rule, expected edns0 local|nsid|subnet "
                   "set|replace|append|unset ...");
  }
  const Token& kind = args[at];
  const Token& action = args[at + 1];
  const std::string what = absl::AsciiStrToLower(kind.text);
  const std::string verb = absl::AsciiStrToLower(action.text);
  const EdnsAction* edit = FindKeyword(kActions, verb);
  if (edit == nullptr)
    return ErrorAt(action, absl::StrCat("rewrite: invalid EDNS0 action '", action.text,
                                        "', expected ", KeywordList(kActions)));
  out.edns_action = *edit;
  const bool unset = out.edns_action == EdnsAction::kUnset;
  const std::size_t left = args.size() - at - 2;  // after the action
  if (what == "local") {
    out.edns_option = EdnsOptionKind::kLocal;
    const std::size_t want = unset ? 1 : 2;
    if (left != want) {
      return ErrorAt(kind, unset ? "rewrite: expected edns0 local unset CODE"
                                 : "rewrite: EDNS0 local rules require exactly two arguments, "
                                   "expected edns0 local ACTION CODE DATA");
    }
    std::uint64_t code = 0;
    const Token& c = args[at + 2];
    if (!ParseNumber(c.text, 0xffff, code)) {
      return ErrorAt(c, absl::StrCat("rewrite: invalid EDNS0 option code '", c.text,
                                     "', expected 0 to 65535 in decimal or 0x hex (0xffee, say)"));
    }
    out.from_code = static_cast<std::uint16_t>(code);
    return unset ? absl::OkStatus() : ParseLocalData(args[at + 3], out);
  }
  if (what == "nsid") {
    out.edns_option = EdnsOptionKind::kNsid;
    if (left != 0)
      return ErrorAt(
          args[at + 2],
          "rewrite: EDNS0 NSID rules do not accept arguments, expected edns0 nsid ACTION");
    return absl::OkStatus();
  }
  if (what == "subnet") {
    out.edns_option = EdnsOptionKind::kSubnet;
    if (unset) {
      if (left != 0) return ErrorAt(args[at + 2], "rewrite: expected edns0 subnet unset");
      return absl::OkStatus();
    }
    if (left != 2)
      return ErrorAt(kind,
                     "rewrite: EDNS0 subnet rules require exactly two arguments, expected edns0 "
                     "subnet ACTION V4LEN V6LEN");
    std::uint64_t v4 = 0, v6 = 0;
    if (!ParseNumber(args[at + 2].text, 32, v4)) {
      return ErrorAt(args[at + 2], absl::StrCat("rewrite: invalid IPv4 bit mask length '",
                                                args[at + 2].text, "', expected 0 to 32"));
    }
    if (!ParseNumber(args[at + 3].text, 128, v6)) {
      return ErrorAt(args[at + 3], absl::StrCat("rewrite: invalid IPv6 bit mask length '",
                                                args[at + 3].text, "', expected 0 to 128"));
    }
    out.subnet_v4 = static_cast<std::uint8_t>(v4);
    out.subnet_v6 = static_cast<std::uint8_t>(v6);
    return absl::OkStatus();
  }
  return ErrorAt(kind, absl::StrCat("rewrite: invalid EDNS0 rule type '", kind.text,
                                    "', expected local, nsid or subnet"));
}

}  // namespace ringdns::core::config
