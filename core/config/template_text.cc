#include "core/config/template_text.h"

#include <charconv>
#include <cstring>

#include "absl/strings/ascii.h"

namespace ringdns::core {
namespace {

constexpr std::string_view kSupported =
    "expected {{ .Name }}, {{ .Zone }}, {{ .Class }}, {{ .Type }}, {{ .Regex }}, {{ .Remote }}, "
    "{{ .Group.NAME }}, {{ index .Group \"KEY\" }}, {{ index .Match N }} or {{ .Meta \"NAME\" }}";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// A Go string literal: "..." with backslash escapes, or `raw`. nullopt when `s` is none.
std::optional<std::string> StringLiteral(std::string_view s) {
  if (s.size() >= 2 && s.front() == '`' && s.back() == '`')
    return std::string(s.substr(1, s.size() - 2));
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  std::string out;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    if (s[i] == '\\') {
      if (i + 2 >= s.size()) return std::nullopt;
      ++i;
      switch (s[i]) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case '\\':
        case '"': out += s[i]; break;
        default: return std::nullopt;  // the rest of Go's escapes are not worth a key
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

// The words of an action: white space apart, string literals whole.
std::optional<std::vector<std::string_view>> Words(std::string_view action) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < action.size()) {
    if (IsSpace(action[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    if (action[i] == '"' || action[i] == '`') {
      const char quote = action[i];
      end = i + 1;
      while (end < action.size() && action[end] != quote)
        end += (quote == '"' && action[end] == '\\') ? 2u : 1u;
      if (end >= action.size()) return std::nullopt;
      ++end;
    } else {
      while (end < action.size() && !IsSpace(action[end])) ++end;
    }
    words.push_back(action.substr(i, end - i));
    i = end;
  }
  return words;
}

std::string_view Lookup(const TemplateData& data, std::string_view key, bool numbered) {
  for (const auto& [name, index] : data.group_names) {
    if (name == key && index >= 0 && static_cast<std::size_t>(index) < data.match.size()) {
      return data.match[static_cast<std::size_t>(index)];
    }
  }
  std::size_t n = 0;
  // CoreDNS's keys are strconv.Itoa(i): "1", never "01".
  if (numbered && !(key.size() > 1 && key.front() == '0')) {
    const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), n);
    if (error == std::errc() && end == key.data() + key.size() && n < data.match.size())
      return data.match[n];
  }
  return {};
}

}  // namespace

absl::StatusOr<TemplateText> TemplateText::Compile(std::string_view text) {
  TemplateText t;
  bool trim_next = false;  // the last action ended with -}}: white space after it goes
  auto add_text = [&](std::string_view s) {
    if (trim_next) s = TrimLeft(s);
    trim_next = false;
    if (!s.empty()) t.pieces_.push_back({Kind::kText, std::string(s), 0});
  };
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t open = text.find("{{", at);
    if (open == std::string_view::npos) {
      add_text(text.substr(at));
      break;
    }
    std::string_view inner = text.substr(open + 2);
    const bool trim_before = inner.size() >= 2 && inner[0] == '-' && IsSpace(inner[1]);
    if (trim_before) inner.remove_prefix(2);
    // The action ends at the first }} outside a string literal; a comment at the first
    // */ followed by }} (quotes in a comment are text).
    std::size_t close = std::string_view::npos;
    const std::string_view opened = TrimLeft(inner);
    if (opened.substr(0, 2) == "/*") {
      const std::size_t end = opened.find("*/");
      const std::size_t brace = end == std::string_view::npos ? end : opened.find("}}", end + 2);
      if (brace != std::string_view::npos)
        close = static_cast<std::size_t>(opened.data() - inner.data()) + brace;
    }
    for (std::size_t i = 0; close == std::string_view::npos && i + 1 < inner.size(); ++i) {
      if (inner[i] == '"' || inner[i] == '`') {
        const char quote = inner[i];
        for (++i; i < inner.size() && inner[i] != quote; ++i) {
          if (quote == '"' && inner[i] == '\\') ++i;
        }
        continue;
      }
      if (inner[i] == '}' && inner[i + 1] == '}') {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("unclosed action at '" + std::string(text.substr(open)) +
                                        "', expected }}");
    }
    std::string_view action = inner.substr(0, close);
    const std::size_t text_before = t.pieces_.size();
    add_text(text.substr(at, open - at));
    at = static_cast<std::size_t>(action.data() + close + 2 - text.data());
    const bool trim_after =
        action.size() >= 2 && action.back() == '-' && IsSpace(action[action.size() - 2]);
    if (trim_after) action.remove_suffix(2);
    // {{- trims the white space of the text just before it (not of an earlier one).
    if (trim_before && t.pieces_.size() > text_before) {
      std::string& last = t.pieces_.back().text;
      last.erase(TrimRight(last).size());
      if (last.empty()) t.pieces_.pop_back();
    }
    trim_next = trim_after;
    action = TrimRight(TrimLeft(action));
    if (action.size() >= 4 && action.substr(0, 2) == "/*" &&
        action.substr(action.size() - 2) == "*/")
      continue;
    const std::optional<std::vector<std::string_view>> words = Words(action);
    auto unsupported = [&] {
      return absl::InvalidArgumentError("unsupported template action '{{ " + std::string(action) +
                                        " }}', " + std::string(kSupported));
    };
    if (!words || words->empty()) return unsupported();
    const std::vector<std::string_view>& w = *words;
    if (w.size() == 1) {
      static constexpr std::pair<std::string_view, Kind> kFields[] = {
          {".Name", Kind::kName}, {".Zone", Kind::kZone},   {".Class", Kind::kClass},
          {".Type", Kind::kType}, {".Regex", Kind::kRegex}, {".Remote", Kind::kRemote}};
      bool found = false;
      for (const auto& [field, kind] : kFields) {
        if (w[0] == field) {
          t.pieces_.push_back({kind, "", 0});
          found = true;
        }
      }
      if (found) continue;
      constexpr std::string_view kGroup = ".Group.";
      if (w[0].substr(0, kGroup.size()) == kGroup && IsIdentifier(w[0].substr(kGroup.size()))) {
        t.pieces_.push_back({Kind::kGroupField, std::string(w[0].substr(kGroup.size())), 0});
        continue;
      }
      return unsupported();
    }
    if (w.size() == 2 && w[0] == ".Meta" && StringLiteral(w[1])) continue;  // always ""
    if (w.size() == 3 && w[0] == "index" && w[1] == ".Group") {
      const std::optional<std::string> key = StringLiteral(w[2]);
      if (!key) return unsupported();
      t.pieces_.push_back({Kind::kGroupIndex, *key, 0});
      continue;
    }
    if (w.size() == 3 && w[0] == "index" && w[1] == ".Match") {
      std::size_t n = 0;
      const auto [end, error] = std::from_chars(w[2].data(), w[2].data() + w[2].size(), n);
      if (error != std::errc() || end != w[2].data() + w[2].size()) return unsupported();
      t.pieces_.push_back({Kind::kMatch, "", n});
      continue;
    }
    return unsupported();
  }
  return t;
}

std::optional<std::size_t> TemplateText::Render(const TemplateData& data,
                                                std::span<char> out) const noexcept {
  std::size_t len = 0;
  auto put = [&](std::string_view s) {
    if (out.size() - len < s.size()) return false;
    if (!s.empty()) std::memcpy(out.data() + len, s.data(), s.size());
    len += s.size();
    return true;
  };
  for (const Piece& p : pieces_) {
    std::string_view value;
    switch (p.kind) {
      case Kind::kText: value = p.text; break;
      case Kind::kName: value = data.name; break;
      case Kind::kZone: value = data.zone; break;
      case Kind::kClass: value = data.qclass; break;
      case Kind::kType: value = data.qtype; break;
      case Kind::kRegex: value = data.regex; break;
      case Kind::kRemote: value = data.remote; break;
      case Kind::kMatch:
        if (p.index >= data.match.size()) return std::nullopt;  // Go: index out of range
        value = data.match[p.index];
        break;
      case Kind::kGroupField: {
        bool named = false;
        for (const auto& [name, index] : data.group_names) named = named || name == p.text;
        value = named ? Lookup(data, p.text, false) : std::string_view("<no value>");
        break;
      }
      case Kind::kGroupIndex: value = Lookup(data, p.text, true); break;
    }
    if (!put(value)) return std::nullopt;
  }
  return len;
}

bool TemplateText::constant() const noexcept {
  for (const Piece& p : pieces_) {
    if (p.kind != Kind::kText) return false;
  }
  return true;
}

bool TemplateText::uses_numbered_groups() const noexcept {
  for (const Piece& p : pieces_) {
    if (p.kind == Kind::kMatch && p.index > 0) return true;
    if (p.kind == Kind::kGroupIndex && !p.text.empty() && p.text.front() != '0' &&
        p.text.find_first_not_of("0123456789") == std::string::npos) {
      return true;
    }
  }
  return false;
}

bool TemplateText::uses_remote() const noexcept {
  for (const Piece& p : pieces_) {
    if (p.kind == Kind::kRemote) return true;
  }
  return false;
}

}  // namespace ringdns::core
