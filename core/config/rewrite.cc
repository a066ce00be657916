// `rewrite [continue|stop] FIELD ARGS...`, read as CoreDNS's rewrite plugin reads it (its
// setup.go, rewrite.go, name.go, ttl.go, type.go, class.go): one rule per line, or the
// tokens of a block joined into one rule (`rewrite stop { name regex ... answer name ... }`).
// Regexes are compiled here, so a bad one is refused with its position.
#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"
#include "re2/re2.h"
#include "wire/rr_names.h"

namespace ringdns::core::config {
namespace {

std::string Lower(const std::string& s) { return absl::AsciiStrToLower(s); }

// CoreDNS's plugin.Name(s).Normalize(): lower case, fully qualified.
std::string Normalized(const std::string& s) {
  std::string out = Lower(s);
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

// The highest {N} a replacement uses, or -1.
int HighestGroup(const std::string& replacement) {
  int highest = -1;
  for (std::size_t open = replacement.find('{'); open != std::string::npos;
       open = replacement.find('{', open + 1)) {
    const std::size_t close = replacement.find('}', open);
    if (close == std::string::npos) break;
    int n = 0;
    if (close > open + 1 && close - open <= 3 &&
        absl::SimpleAtoi(replacement.substr(open + 1, close - open - 1), &n)) {
      highest = std::max(highest, n);
    }
  }
  return highest;
}

// A regex and the replacement that reads its groups, checked together (CoreDNS's
// isValidRegexPattern).
absl::Status CheckRegex(const Token& pattern, const Token& replacement) {
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 re(pattern.text, options);
  if (!re.ok()) {
    return ErrorAt(pattern, absl::StrCat("rewrite: invalid regex matching pattern '", pattern.text,
                                         "': ", re.error()));
  }
  if (HighestGroup(replacement.text) > re.NumberOfCapturingGroups()) {
    return ErrorAt(replacement, absl::StrCat("rewrite: the replacement '", replacement.text,
                                             "' uses more groups than the regex '", pattern.text,
                                             "' has (", re.NumberOfCapturingGroups(), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<NameMatch> ParseMatch(const Token& t) {
  const std::string kind = Lower(t.text);
  if (kind == "exact") return NameMatch::kExact;
  if (kind == "prefix") return NameMatch::kPrefix;
  if (kind == "suffix") return NameMatch::kSuffix;
  if (kind == "substring") return NameMatch::kSubstring;
  if (kind == "regex") return NameMatch::kRegex;
  return ErrorAt(t, absl::StrCat("rewrite: unknown match type '", t.text,
                                 "', expected exact, prefix, suffix, substring or regex"));
}

// `answer auto`, `answer name FROM TO`, `answer value FROM TO`, in any number.
absl::Status ParseAnswers(const std::vector<Token>& args, std::size_t at, Rewrite& out) {
  while (at < args.size()) {
    if (Lower(args[at].text) != "answer") {
      return ErrorAt(
          args[at],
          absl::StrCat("rewrite: unexpected '", args[at].text,
                       "', expected answer auto, answer name FROM TO or answer value FROM TO"));
    }
    if (++at == args.size())
      return ErrorAt(args[at - 1], "rewrite: answer needs auto, name or value");
    const Token& kind = args[at++];
    const std::string what = Lower(kind.text);
    if (what == "auto") {
      if (out.match == NameMatch::kRegex) {
        return ErrorAt(kind,
                       "rewrite: answer auto is not supported by ringdns for a regex rule, "
                       "expected answer name REGEX REPLACEMENT");
      }
      out.answer_auto = true;
      continue;
    }
    if (what != "name" && what != "value") {
      return ErrorAt(kind, absl::StrCat("rewrite: unknown answer rule '", kind.text,
                                        "', expected auto, name or value"));
    }
    if (args.size() - at < 2)
      return ErrorAt(kind, absl::StrCat("rewrite: answer ", what, " needs FROM TO"));
    if (absl::Status s = CheckRegex(args[at], args[at + 1]); !s.ok()) return s;
    out.answers.push_back({what == "value", args[at].text, Normalized(args[at + 1].text)});
    at += 2;
  }
  if (out.answer_auto && std::any_of(out.answers.begin(), out.answers.end(),
                                     [](const RewriteAnswer& a) { return !a.value; })) {
    return ErrorAt(args.back(), "rewrite: answer auto cannot be combined with answer name rules");
  }
  return absl::OkStatus();
}

// name [exact|prefix|suffix|substring|regex] FROM TO [answer ...]
absl::Status ParseNameRule(const Token& field, const std::vector<Token>& args, std::size_t at,
                           Rewrite& out) {
  const std::size_t left = args.size() - at;
  if (left < 2)
    return ErrorAt(field,
                   "rewrite: a name rule needs FROM TO, expected name "
                   "[exact|prefix|suffix|substring|regex] FROM TO");
  std::size_t from = at;
  if (left >= 3) {
    absl::StatusOr<NameMatch> match = ParseMatch(args[at]);
    if (!match.ok()) return match.status();
    out.match = *match;
    from = at + 1;
  }
  if (from + 1 >= args.size()) return ErrorAt(args.back(), "rewrite: a name rule needs FROM TO");
  if (out.match == NameMatch::kRegex) {
    if (absl::Status s = CheckRegex(args[from], args[from + 1]); !s.ok()) return s;
    out.from = args[from].text;
  } else {
    out.from = Normalized(args[from].text);
  }
  out.to = Normalized(args[from + 1].text);
  return ParseAnswers(args, from + 2, out);
}

// ttl [exact|prefix|suffix|substring|regex] NAME SECONDS|MIN-MAX
absl::Status ParseTtlRule(const Token& field, const std::vector<Token>& args, std::size_t at,
                          Rewrite& out) {
  const std::size_t left = args.size() - at;
  if (left < 2 || left > 3)
    return ErrorAt(field,
                   "rewrite: expected ttl [exact|prefix|suffix|substring|regex] NAME SECONDS");
  if (left == 3) {
    absl::StatusOr<NameMatch> match = ParseMatch(args[at]);
    if (!match.ok()) return match.status();
    out.match = *match;
    ++at;
  }
  if (out.match == NameMatch::kRegex) {
    RE2::Options options;
    options.set_log_errors(false);
    if (!RE2(args[at].text, options).ok()) {
      return ErrorAt(args[at], absl::StrCat("rewrite: invalid regex pattern in a ttl rule: '",
                                            args[at].text, "'"));
    }
    out.from = args[at].text;
  } else {
    out.from = Normalized(args[at].text);
  }
  // SECONDS, or a range MIN-MAX where either side may be left out.
  const Token& ttl = args[at + 1];
  const std::size_t dash = ttl.text.find('-');
  const std::string low = dash == std::string::npos ? ttl.text : ttl.text.substr(0, dash);
  const std::string high = dash == std::string::npos ? ttl.text : ttl.text.substr(dash + 1);
  std::uint32_t min = 0, max = 2147483647;
  auto bound = [&](const std::string& text, std::uint32_t& v) {
    return text.empty() || (absl::SimpleAtoi(text, &v) && v <= 2147483647);
  };
  if ((low.empty() && high.empty()) || !bound(low, min) || !bound(high, max) || min > max) {
    return ErrorAt(ttl,
                   absl::StrCat("rewrite: invalid TTL '", ttl.text,
                                "' for a ttl rule, expected SECONDS or MIN-MAX (0 to 2147483647)"));
  }
  out.ttl_min = min;
  out.ttl_max = max;
  return absl::OkStatus();
}

absl::Status ParseCodeRule(const Token& field, const std::vector<Token>& args, std::size_t at,
                           Rewrite& out) {
  const bool type = out.field == RewriteField::kType;
  if (args.size() - at != 2) {
    return ErrorAt(field, absl::StrCat("rewrite: ", field.text,
                                       " rules must have exactly two arguments, expected ",
                                       field.text, " FROM TO"));
  }
  for (std::size_t i = 0; i < 2; ++i) {
    const Token& t = args[at + i];
    std::optional<std::uint16_t> code;
    if (type) {
      absl::StatusOr<std::uint16_t> qtype = ParseQtype(t);
      if (!qtype.ok()) return qtype.status();
      code = *qtype;
    } else {
      code = wire::ClassFromName(absl::AsciiStrToUpper(t.text));
      if (!code)
        return ErrorAt(t, absl::StrCat("rewrite: invalid class '", t.text,
                                       "', expected IN, CH, HS, ANY or CLASSnnn"));
    }
    (i == 0 ? out.from_code : out.to_code) = *code;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRewrite(const Directive& d, std::vector<Rewrite>& out) {
  std::vector<Token> args = d.args;
  if (d.has_block) {
    if (args.size() >= 2)
      return ErrorAt(d.name,
                     "rewrite: a block follows at most continue or stop, expected rewrite "
                     "[continue|stop] { RULE }");
    // CoreDNS joins the block's tokens, lines and all, into one rule.
    for (const Directive& line : d.block) {
      if (line.has_block) return ErrorAt(line.name, "rewrite: a rule takes no block");
      args.push_back(line.name);
      args.insert(args.end(), line.args.begin(), line.args.end());
    }
  }
  if (args.empty())
    return ErrorAt(d.name, "rewrite: expected rewrite [continue|stop] FIELD FROM TO");
  Rewrite rule;
  rule.where = d.name.where;
  std::size_t at = 0;
  const std::string mode = Lower(args[0].text);
  if (mode == "continue" || mode == "stop") {
    rule.stop = mode == "stop";
    if (args.size() < 2)
      return ErrorAt(args[0], "rewrite: expected a FIELD after continue or stop");
    at = 1;
  }
  const Token& field = args[at++];
  const std::string what = Lower(field.text);
  absl::Status status;
  if (what == "name") {
    rule.field = RewriteField::kName;
    status = ParseNameRule(field, args, at, rule);
  } else if (what == "ttl") {
    rule.field = RewriteField::kTtl;
    status = ParseTtlRule(field, args, at, rule);
  } else if (what == "type" || what == "class") {
    rule.field = what == "type" ? RewriteField::kType : RewriteField::kClass;
    status = ParseCodeRule(field, args, at, rule);
  } else if (what == "answer") {
    return ErrorAt(field, "rewrite: response rewrites must begin with a name rule");
  } else if (what == "edns0") {
    rule.field = RewriteField::kEdns0;
    status = ParseEdns0Rule(field, args, at, rule);
  } else if (what == "rcode" || what == "cname_target") {
    return ErrorAt(field, absl::StrCat("rewrite: ", what,
                                       " rules are not supported by ringdns yet, "
                                       "expected name, type, class, ttl or edns0"));
  } else {
    return ErrorAt(field, absl::StrCat("rewrite: invalid rule type '", field.text,
                                       "', expected name, type, class, ttl or edns0"));
  }
  if (!status.ok()) return status;
  if (out.size() == kMaxRewriteRules) {
    return ErrorAt(d.name, absl::StrCat("rewrite: more than ", kMaxRewriteRules,
                                        " rules in one server block"));
  }
  out.push_back(std::move(rule));
  return absl::OkStatus();
}

}  // namespace ringdns::core::config
