// The view expression tokenizer (core/view/expr_lexer.h).
#include "core/view/expr_lexer.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace ringdns::core::view::internal {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void Lexer::Fail(int column, std::string message) {
  if (error_.message.empty()) error_ = {column, std::move(message)};
  tok_ = Token{};
  pos_ = src_.size();
}

void Lexer::Next() {
  while (pos_ < src_.size() &&
         (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\n' || src_[pos_] == '\r'))
    ++pos_;
  tok_ = Token{};
  tok_.column = static_cast<int>(pos_) + 1;
  if (pos_ >= src_.size()) return;
  const char c = src_[pos_];
  const std::size_t start = pos_;
  if (IsIdentStart(c)) {
    while (pos_ < src_.size() && (IsIdentStart(src_[pos_]) || IsDigit(src_[pos_]))) ++pos_;
    tok_.kind = Tok::kIdent;
    tok_.text = src_.substr(start, pos_ - start);
    // Word operators are operators.
    static constexpr absl::string_view kWords[] = {"and",     "or",       "not",        "in",
                                                   "matches", "contains", "startsWith", "endsWith"};
    for (absl::string_view w : kWords) {
      if (tok_.text == w) tok_.kind = Tok::kOp;
    }
    return;
  }
  if (IsDigit(c)) {
    std::int64_t n = 0;
    while (pos_ < src_.size() && IsDigit(src_[pos_])) {
      if (n > (INT64_MAX - 9) / 10) {
        Fail(tok_.column, "number too large, expected at most 18 digits");
        return;
      }
      n = n * 10 + (src_[pos_++] - '0');
    }
    tok_.kind = Tok::kInt;
    tok_.number = n;
    tok_.text = src_.substr(start, pos_ - start);
    return;
  }
  if (c == '\'' || c == '"') {
    ++pos_;
    std::string value;
    while (pos_ < src_.size() && src_[pos_] != c) {
      char ch = src_[pos_++];
      if (ch == '\\') {
        if (pos_ >= src_.size()) break;
        const char e = src_[pos_++];
        switch (e) {
          case 'n': ch = '\n'; break;
          case 't': ch = '\t'; break;
          case 'r': ch = '\r'; break;
          case '\\':
          case '\'':
          case '"': ch = e; break;
          default:
            Fail(static_cast<int>(pos_) - 1,
                 absl::StrCat("unknown escape '\\", std::string(1, e),
                              "', expected \\\\ \\' \\\" \\n \\t or \\r"));
            return;
        }
      }
      value += ch;
    }
    if (pos_ >= src_.size()) {
      Fail(tok_.column,
           absl::StrCat("unterminated string, expected a closing ", std::string(1, c)));
      return;
    }
    ++pos_;
    tok_.kind = Tok::kString;
    tok_.value = std::move(value);
    tok_.text = src_.substr(start, pos_ - start);
    return;
  }
  static constexpr absl::string_view kTwo[] = {"==", "!=", "<=", ">=", "&&", "||"};
  for (absl::string_view op : kTwo) {
    if (src_.substr(pos_, 2) == op) {
      pos_ += 2;
      tok_.kind = Tok::kOp;
      tok_.text = op;
      return;
    }
  }
  ++pos_;
  tok_.text = src_.substr(start, 1);
  switch (c) {
    case '(': tok_.kind = Tok::kLParen; return;
    case ')': tok_.kind = Tok::kRParen; return;
    case '[': tok_.kind = Tok::kLBracket; return;
    case ']': tok_.kind = Tok::kRBracket; return;
    case ',': tok_.kind = Tok::kComma; return;
    case '!':
    case '<':
    case '>': tok_.kind = Tok::kOp; return;
    default:
      Fail(tok_.column, absl::StrCat("unexpected character '", std::string(1, c),
                                     "', expected an operand or an operator"));
  }
}

}  // namespace ringdns::core::view::internal
