#include "core/pipeline/rewrite_stage.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <optional>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "wire/bytes.h"
#include "wire/rewrite_names.h"

namespace ringdns::core {
namespace {

using config::NameMatch;
using config::RewriteField;

// A name as text, every octet escaped at worst, with room for a replacement that grows it.
constexpr std::size_t kMaxText = 2 * wire::kMaxNameTextLen;
constexpr int kMaxGroups = 10;  // {0} to {9}

// Text that is being built; writing past its end marks it overflowed instead.
struct Text {
  std::array<char, kMaxText> data;
  std::size_t len = 0;
  bool overflow = false;

  void Append(std::string_view s) noexcept {
    if (s.empty()) return;  // a group that took no part has no data at all
    if (len + s.size() > data.size()) {
      overflow = true;
      return;
    }
    std::memcpy(data.data() + len, s.data(), s.size());
    len += s.size();
  }
  std::string_view view() const noexcept { return {data.data(), len}; }
};

// How a name is matched and replaced: a rule of the query side, or one run backwards or
// given by `answer name|value` for the answer side.
struct Matcher {
  NameMatch match = NameMatch::kExact;
  std::string from;  // a name's text, or unused for a regex
  std::string to;    // the new text, or the regex's replacement with {N}
  std::unique_ptr<RE2> re;
  int groups = 0;  // the groups the replacement reads, {0} included
  // `(.*)LITERAL` (optionally anchored): found without RE2's group search, which
  // allocates for a regex it cannot search one-pass, as this one (AKS's documented rule).
  std::optional<std::string> any_then_literal;
  bool literal_at_end = false;  // the pattern ends in `$`

  // Writes the replaced `name` into `out` when it matches; false when it does not.
  bool Apply(std::string_view name, Text& out) const noexcept {
    out.len = 0;
    out.overflow = false;
    switch (match) {
      case NameMatch::kExact:
        if (name != from) return false;
        out.Append(to);
        return true;
      case NameMatch::kPrefix:
        if (!name.starts_with(from)) return false;
        out.Append(to);
        out.Append(name.substr(from.size()));
        return true;
      case NameMatch::kSuffix:
        if (!name.ends_with(from)) return false;
        out.Append(name.substr(0, name.size() - from.size()));
        out.Append(to);
        return true;
      case NameMatch::kSubstring: {
        std::size_t at = name.find(from);
        if (at == std::string_view::npos || from.empty()) return false;
        std::size_t done = 0;
        for (; at != std::string_view::npos;
             at = name.find(from, done)) {  // every occurrence, as Go's Replace(-1)
          out.Append(name.substr(done, at - done));
          out.Append(to);
          done = at + from.size();
        }
        out.Append(name.substr(done));
        return true;
      }
      case NameMatch::kRegex: return ApplyRegex(name, out);
    }
    return false;
  }

  bool ApplyRegex(std::string_view name, Text& out) const noexcept {
    std::array<re2::StringPiece, kMaxGroups> pieces;
    if (any_then_literal) {
      // Greedy `.*` from the start (a name has no newline): the last LITERAL, or the
      // one at the end with `$`.
      const std::string& literal = *any_then_literal;
      const std::size_t at =
          literal_at_end
              ? (name.ends_with(literal) ? name.size() - literal.size() : std::string_view::npos)
              : name.rfind(literal);
      if (at == std::string_view::npos) return false;
      pieces[0] = re2::StringPiece(name.data(), at + literal.size());
      pieces[1] = re2::StringPiece(name.data(), at);
    } else if (!re->Match(re2::StringPiece(name.data(), name.size()), 0, name.size(),
                          RE2::UNANCHORED, pieces.data(), groups)) {
      return false;
    }
    // {N} becomes group N; anything else is copied.
    for (std::size_t i = 0; i < to.size();) {
      if (to[i] == '{' && i + 2 < to.size() && to[i + 1] >= '0' && to[i + 1] <= '9' &&
          to[i + 2] == '}' && to[i + 1] - '0' < groups) {
        const re2::StringPiece& g = pieces[static_cast<std::size_t>(to[i + 1] - '0')];
        out.Append(std::string_view(g.data(), g.size()));
        i += 3;
      } else {
        out.Append(std::string_view(&to[i], 1));
        ++i;
      }
    }
    return true;
  }
};

// The highest {N} `replacement` reads, plus one.
int GroupsRead(const std::string& replacement) {
  int groups = 0;
  for (std::size_t i = 0; i + 2 < replacement.size(); ++i) {
    if (replacement[i] == '{' && replacement[i + 1] >= '0' && replacement[i + 1] <= '9' &&
        replacement[i + 2] == '}') {
      groups = std::max(groups, replacement[i + 1] - '0' + 1);
    }
  }
  return groups;
}

absl::StatusOr<std::unique_ptr<RE2>> Compile(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok())
    return absl::InvalidArgumentError(absl::StrCat("rewrite: invalid regex '", pattern, "'"));
  return re;
}

// LITERAL when `pattern` is `^?(.*)LITERAL$?`, LITERAL being letters, digits, '-', '_'
// and backslash-escaped punctuation; `at_end` says whether it ends in `$`.
std::optional<std::string> AnyThenLiteral(std::string_view pattern, bool& at_end) {
  if (pattern.starts_with('^')) pattern.remove_prefix(1);
  if (!pattern.starts_with("(.*)")) return std::nullopt;
  pattern.remove_prefix(4);
  at_end = pattern.ends_with('$') && !pattern.ends_with("\\$");
  if (at_end) pattern.remove_suffix(1);
  std::string literal;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      literal += c;
    } else if (c == '\\' && i + 1 < pattern.size() &&
               std::ispunct(static_cast<unsigned char>(pattern[i + 1]))) {
      literal += pattern[++i];
    } else {
      return std::nullopt;
    }
  }
  if (literal.empty()) return std::nullopt;
  return literal;
}

absl::StatusOr<Matcher> RegexMatcher(const std::string& pattern, const std::string& replacement) {
  Matcher m;
  m.match = NameMatch::kRegex;
  absl::StatusOr<std::unique_ptr<RE2>> re = Compile(pattern);
  if (!re.ok()) return re.status();
  m.re = std::move(*re);
  m.to = replacement;
  m.groups = std::min(GroupsRead(replacement), m.re->NumberOfCapturingGroups() + 1);
  m.any_then_literal = AnyThenLiteral(pattern, m.literal_at_end);
  return m;
}

// The name of `wire_name` as lower-case text.
std::size_t LowerText(std::span<const std::uint8_t> wire_name,
                      std::array<char, wire::kMaxNameTextLen>& out) noexcept {
  const wire::Result<std::size_t> len = wire::NameToText(wire_name, out);
  if (!len) return 0;
  for (std::size_t i = 0; i < *len; ++i) {
    if (out[i] >= 'A' && out[i] <= 'Z') out[i] = static_cast<char>(out[i] - 'A' + 'a');
  }
  return *len;
}

}  // namespace

struct RewriteStage::Rule {
  RewriteField field = RewriteField::kName;
  bool stop = true;
  Matcher query;  // name and ttl rules: what matches (and, for name, the new name)
  std::uint16_t from_code = 0, to_code = 0;
  std::uint32_t ttl_min = 0, ttl_max = 0;
  std::optional<Matcher> reverse;     // the rule backwards, for exact and `answer auto`
  bool reverse_targets = false;       // `answer auto`: names in RDATA too
  std::vector<Matcher> owner_rules;   // answer name
  std::vector<Matcher> target_rules;  // answer value
  std::optional<Edns0Rule> edns;      // edns0
};

RewriteStage::RewriteStage() = default;
RewriteStage::RewriteStage(RewriteStage&&) noexcept = default;
RewriteStage& RewriteStage::operator=(RewriteStage&&) noexcept = default;
RewriteStage::~RewriteStage() = default;

absl::StatusOr<RewriteStage> RewriteStage::Build(const std::vector<config::Rewrite>& rules) {
  RewriteStage stage;
  for (std::size_t i = 0; i < rules.size() && i < config::kMaxRewriteRules; ++i) {
    const config::Rewrite& c = rules[i];
    Rule r;
    r.field = c.field;
    r.stop = c.stop;
    r.from_code = c.from_code;
    r.to_code = c.to_code;
    r.ttl_min = c.ttl_min;
    r.ttl_max = c.ttl_max;
    if (c.field == RewriteField::kName || c.field == RewriteField::kTtl) {
      if (c.match == NameMatch::kRegex) {
        absl::StatusOr<Matcher> m = RegexMatcher(c.from, c.to);
        if (!m.ok()) return m.status();
        r.query = std::move(*m);
      } else {
        r.query.match = c.match;
        r.query.from = c.from;
        r.query.to = c.to;
      }
    }
    if (c.field == RewriteField::kEdns0) {
      r.edns.emplace(c);
      stage.has_edns0_ = true;
      stage.per_client_ |= r.edns->per_client();
    }
    if (c.field == RewriteField::kName) {
      if (c.match != NameMatch::kRegex && (c.answer_auto || c.match == NameMatch::kExact)) {
        Matcher back;
        back.match = c.match;
        back.from = c.to;
        back.to = c.from;
        r.reverse = std::move(back);
        r.reverse_targets = c.answer_auto;
      }
      for (const config::RewriteAnswer& a : c.answers) {
        absl::StatusOr<Matcher> m = RegexMatcher(a.pattern, a.replacement);
        if (!m.ok()) return m.status();
        (a.value ? r.target_rules : r.owner_rules).push_back(std::move(*m));
      }
    }
    if (r.reverse || !r.owner_rules.empty() || !r.target_rules.empty() ||
        c.field == RewriteField::kTtl) {
      stage.answer_rules_ |= std::uint32_t{1} << i;
    }
    stage.rules_.push_back(std::move(r));
  }
  return stage;
}

RewriteStage::QueryResult RewriteStage::RewriteQuery(std::span<std::uint8_t> message,
                                                     std::size_t len, std::size_t qname_len,
                                                     std::uint16_t qtype, std::uint16_t qclass,
                                                     const QueryOrigin& origin) const noexcept {
  QueryResult result;
  result.len = len;
  result.qname_len = qname_len;
  std::array<char, wire::kMaxNameTextLen> original;
  const std::size_t original_len =
      LowerText(message.subspan(wire::header::kSize, qname_len), original);
  if (original_len == 0) return result;
  std::array<Text, 2> texts;
  texts[0].Append(std::string_view(original.data(), original_len));
  std::size_t current = 0;
  bool renamed = false;
  std::uint16_t type = qtype, rclass = qclass;
  std::optional<OptionsPresent> options;
  if (has_edns0_) options.emplace(message.first(len));
  std::uint32_t edns_hits = 0;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule& r = rules_[i];
    bool hit = false;
    switch (r.field) {
      case RewriteField::kName:
        if (r.query.Apply(texts[current].view(), texts[1 - current])) {
          if (texts[1 - current].overflow) return {Outcome::kFailed, result.matched, len};
          current = 1 - current;
          hit = renamed = true;
        }
        break;
      case RewriteField::kTtl:
        hit = r.query.Apply(texts[current].view(), texts[1 - current]);
        break;
      case RewriteField::kType:
        hit = type == r.from_code;
        if (hit) type = r.to_code;
        break;
      case RewriteField::kClass:
        hit = rclass == r.from_code;
        if (hit) rclass = r.to_code;
        break;
      case RewriteField::kEdns0:
        hit = options->usable() && r.edns->Available(origin) &&
              wire::OptionEditApplies(r.edns->edit(), options->Has(r.edns->code()));
        if (hit) {
          options->Note(r.edns->code(), r.edns->edit() != wire::OptionEdit::kUnset);
          edns_hits |= std::uint32_t{1} << i;
        }
        break;
    }
    if (!hit) continue;
    result.matched |= std::uint32_t{1} << i;
    if (r.stop) break;
  }
  const bool question = renamed || type != qtype || rclass != qclass;
  if (question) {
    wire::NameStorage name;
    std::size_t name_len = qname_len;
    if (renamed) {
      const wire::Result<std::size_t> parsed = wire::NameFromText(texts[current].view(), name);
      if (!parsed)
        return {Outcome::kFailed, result.matched, len};  // CoreDNS: "invalid name after rewrite"
      name_len = *parsed;
    } else {
      std::memcpy(name.data(), message.data() + wire::header::kSize, qname_len);
    }
    // The rest of the query (type, class, the other sections) moves with the name's length.
    const std::size_t rest = len - wire::header::kSize - qname_len;
    const std::size_t new_len = wire::header::kSize + name_len + rest;
    if (new_len > message.size() || new_len > wire::kMaxMessageSize)
      return {Outcome::kFailed, result.matched, len};
    std::uint8_t* at = message.data() + wire::header::kSize;
    std::memmove(at + name_len, at + qname_len, rest);
    std::memcpy(at, name.data(), name_len);
    wire::StoreU16(at + name_len, type);
    wire::StoreU16(at + name_len + 2, rclass);
    result.len = new_len;
    result.qname_len = name_len;
    result.outcome = Outcome::kRewritten;
  }
  if (edns_hits != 0) {
    // The client's question goes back over the query (Unrewritten): what a shorter name
    // freed is not room for options.
    const std::size_t freed = qname_len > result.qname_len ? qname_len - result.qname_len : 0;
    ApplyEdns0(edns_hits, message.first(message.size() - freed), texts[current].view(), type,
               origin, result);
  }
  return result;
}

void RewriteStage::ApplyEdns0(std::uint32_t hits, std::span<std::uint8_t> message,
                              std::string_view qname, std::uint16_t qtype,
                              const QueryOrigin& origin, QueryResult& result) const noexcept {
  std::array<std::uint8_t, kMaxEdns0Data> data;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if ((hits & (std::uint32_t{1} << i)) == 0) continue;
    const Edns0Rule& rule = *rules_[i].edns;
    const std::size_t data_len = rule.Data(
        qname, qtype, origin, OptionsPresent::Find(message.first(result.len), rule.code()), data);
    const wire::Result<wire::OptionEdited> edited =
        wire::EditOption(message, result.len, rule.edit(), rule.code(), {data.data(), data_len});
    // No room (or a query no longer sound): the option is left out, the query untouched
    // by this rule, which keeps kFailed for queries that are exactly as they came.
    if (!edited || !edited->changed) continue;
    result.len = edited->len;
    result.outcome = Outcome::kRewritten;
    result.opt_created |= edited->created_opt;
  }
}

std::size_t RewriteStage::MapAnswerName(bool owner, std::span<const std::uint8_t> name,
                                        std::uint32_t matched,
                                        wire::NameStorage& out) const noexcept {
  std::array<char, wire::kMaxNameTextLen> text;
  const std::size_t text_len = LowerText(name, text);
  if (text_len == 0) return 0;
  std::array<Text, 2> texts;
  texts[0].Append(std::string_view(text.data(), text_len));
  std::size_t current = 0;
  bool changed = false;
  auto run = [&](const Matcher& m) {
    if (m.Apply(texts[current].view(), texts[1 - current]) && !texts[1 - current].overflow) {
      current = 1 - current;
      changed = true;
    }
  };
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if ((matched & (std::uint32_t{1} << i)) == 0) continue;
    const Rule& r = rules_[i];
    if (r.reverse && (owner || r.reverse_targets)) run(*r.reverse);
    for (const Matcher& m : owner ? r.owner_rules : r.target_rules) run(m);
  }
  if (!changed) return 0;
  const wire::Result<std::size_t> len = wire::NameFromText(texts[current].view(), out);
  return len ? *len : 0;  // a replacement that is not a name leaves the name as it was
}

wire::Result<std::size_t> RewriteStage::RevertAnswer(std::span<const std::uint8_t> answer,
                                                     std::span<std::uint8_t> out,
                                                     const OriginalQuestion& original,
                                                     std::uint32_t matched) const noexcept {
  // An answer repeats its names (an RRset's owners): the last one mapped is remembered.
  struct Context {
    const RewriteStage* stage;
    const OriginalQuestion* original;
    std::uint32_t matched;
    wire::NameRole last_role = wire::NameRole::kQuestion;
    std::size_t last_len = 0;  // 0: nothing remembered
    wire::NameStorage last_in = {};
    std::size_t last_out_len = 0;
    wire::NameStorage last_out = {};
  } ctx{this, &original, matched};
  wire::NameEdits edits;
  edits.context = &ctx;
  edits.question_type = original.qtype;
  edits.question_class = original.qclass;
  edits.map_name = [](void* c, wire::NameRole role, std::span<const std::uint8_t> name,
                      wire::NameStorage& out_name) -> std::size_t {
    Context& x = *static_cast<Context*>(c);
    if (role == wire::NameRole::kQuestion) {
      std::memcpy(out_name.data(), x.original->qname.data(), x.original->qname_len);
      return x.original->qname_len;
    }
    if (x.last_len == name.size() && x.last_role == role &&
        std::memcmp(x.last_in.data(), name.data(), name.size()) == 0) {
      std::memcpy(out_name.data(), x.last_out.data(), x.last_out_len);
      return x.last_out_len;
    }
    const std::size_t mapped =
        x.stage->MapAnswerName(role == wire::NameRole::kOwner, name, x.matched, out_name);
    x.last_role = role;
    x.last_len = name.size();
    std::memcpy(x.last_in.data(), name.data(), name.size());
    x.last_out_len = mapped;
    std::memcpy(x.last_out.data(), out_name.data(), mapped);
    return mapped;
  };
  edits.map_ttl = [](void* c, std::uint32_t ttl) -> std::uint32_t {
    const Context& x = *static_cast<const Context*>(c);
    for (std::size_t i = 0; i < x.stage->rules_.size(); ++i) {
      const Rule& r = x.stage->rules_[i];
      if ((x.matched & (std::uint32_t{1} << i)) == 0 || r.field != RewriteField::kTtl) continue;
      ttl = std::clamp(ttl, r.ttl_min, r.ttl_max);
    }
    return ttl;
  };
  return wire::RewriteNames(answer, out, edits);
}

}  // namespace ringdns::core
