#include "core/config/lexer.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace ringdns::core::config {

std::string Location::ToString() const {
  return absl::StrCat(file ? *file : std::string("<input>"), ":", line, ":", column);
}

std::string ExpandEnv(absl::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find("{$", pos);
    if (open == absl::string_view::npos) break;
    const std::size_t close = text.find('}', open + 2);
    if (close == absl::string_view::npos) break;
    const absl::string_view before = text.substr(pos, open - pos);
    out.append(before.data(), before.size());
    const std::string name(text.substr(open + 2, close - open - 2));
    if (const char* value = std::getenv(name.c_str()); value != nullptr) out.append(value);
    pos = close + 1;
  }
  const absl::string_view rest = text.substr(pos);
  out.append(rest.data(), rest.size());
  return out;
}

absl::StatusOr<std::vector<Token>> Lex(absl::string_view text,
                                       std::shared_ptr<const std::string> file,
                                       std::uint32_t instance) {
  std::vector<Token> tokens;
  int line = 1;
  int column = 1;
  std::size_t i = 0;
  auto advance = [&]() {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    ++i;
  };
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < text.size()) {
    if (is_space(text[i])) {
      advance();
      continue;
    }
    if (text[i] == '#') {
      while (i < text.size() && text[i] != '\n') advance();
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
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '"') {
          token.text.push_back('"');
          advance();
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
      while (i < text.size() && !is_space(text[i])) {
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
