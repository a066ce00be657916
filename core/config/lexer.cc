#include "core/config/lexer.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace ringdns::core::config {
namespace {

// Replaces every START NAME END in `text` by the variable NAME, as Caddy's
// replaceEnvReferences does (an empty NAME ends the replacing).
std::string ReplaceReferences(absl::string_view text, absl::string_view start,
                              absl::string_view end) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find(start, pos);
    if (open == absl::string_view::npos) break;
    const std::size_t close = text.find(end, open + start.size());
    if (close == absl::string_view::npos || close == open + start.size()) break;
    out.append(text.data() + pos, open - pos);
    const std::string name(text.substr(open + start.size(), close - open - start.size()));
    if (const char* value = std::getenv(name.c_str()); value != nullptr) out.append(value);
    pos = close + end.size();
  }
  out.append(text.data() + pos, text.size() - pos);
  return out;
}

}  // namespace

std::string Location::ToString() const {
  return absl::StrCat(file ? *file : std::string("<input>"), ":", line, ":", column);
}

std::string ExpandEnv(absl::string_view text) {
  return ReplaceReferences(ReplaceReferences(text, "{%", "%}"), "{$", "}");
}

std::size_t SpaceAt(absl::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) {
    return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u;
  };
  const unsigned c = at(i);
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;                   // \t \n \v \f \r
  if (c == 0xc2 && (at(i + 1) == 0x85 || at(i + 1) == 0xa0)) return 2;  // U+0085, U+00A0
  if (c == 0xe1 && at(i + 1) == 0x9a && at(i + 2) == 0x80) return 3;    // U+1680
  if (c == 0xe2 && at(i + 1) == 0x80) {
    const unsigned d = at(i + 2);
    if ((d >= 0x80 && d <= 0x8a) || d == 0xa8 || d == 0xa9 || d == 0xaf)
      return 3;  // U+2000..200A, 2028, 2029, 202F
  }
  if (c == 0xe2 && at(i + 1) == 0x81 && at(i + 2) == 0x9f) return 3;  // U+205F
  if (c == 0xe3 && at(i + 1) == 0x80 && at(i + 2) == 0x80) return 3;  // U+3000
  return 0;
}

absl::StatusOr<std::vector<Token>> Lex(absl::string_view text,
                                       std::shared_ptr<const std::string> file,
                                       std::uint32_t instance) {
  std::vector<Token> tokens;
  int line = 1;
  int column = 1;
  std::size_t i = 0;
  // Columns count characters: a UTF-8 continuation octet does not move the column.
  auto advance = [&]() {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xc0) != 0x80) {
      ++column;
    }
    ++i;
  };
  auto skip_space = [&](std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) advance();
  };
  auto skip_comment = [&]() {
    while (i < text.size() && text[i] != '\n') advance();
  };
  while (i < text.size()) {
    if (const std::size_t n = SpaceAt(text, i); n > 0) {
      skip_space(n);
      continue;
    }
    if (text[i] == '#') {
      skip_comment();
      continue;
    }
    Token token;
    token.where = Location{file, line, column};
    token.instance = instance;
    if (text[i] == '"') {
      token.quoted = true;
      advance();
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\\' && i + 1 < text.size()) {
          // Only a quote is escaped; any other character keeps its backslash.
          if (text[i + 1] != '"') token.text.push_back('\\');
          advance();
          token.text.push_back(text[i]);
          advance();
          continue;
        }
        if (text[i] == '"') {
          advance();
          closed = true;
          break;
        }
        token.text.push_back(text[i]);
        advance();
      }
      if (!closed) {
        return absl::InvalidArgumentError(absl::StrCat(
            token.where.ToString(), ": unterminated quoted string, expected a closing '\"'"));
      }
    } else {
      while (i < text.size() && SpaceAt(text, i) == 0) {
        if (text[i] == '#') {  // a comment ends the token, as in CoreDNS
          skip_comment();
          break;
        }
        token.text.push_back(text[i]);
        advance();
      }
    }
    token.end_line = line;
    token.text = ExpandEnv(token.text);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

}  // namespace ringdns::core::config
