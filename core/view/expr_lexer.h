// core/view/expr_lexer.h: the tokens of a view expression (core/view/expr.h): names,
// word operators (and or not in matches contains startsWith endsWith), integers, strings in single
// or double quotes with \\ \' \" \n \t \r escapes, brackets, commas and the symbol operators
// == != <= >= && || ! < >. Columns are 1-based, in bytes. Control thread only; internal
// to core/view.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "core/view/expr.h"

namespace ringdns::core::view::internal {

enum class Tok : std::uint8_t {
  kEnd,
  kInt,
  kString,
  kIdent,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kOp
};

struct Token {
  Tok kind = Tok::kEnd;
  absl::string_view text;  // the spelling (kOp, kIdent: what the parser compares)
  std::string value;       // kString: unescaped
  std::int64_t number = 0;
  int column = 0;
};

class Lexer {
 public:
  explicit Lexer(absl::string_view src) : src_(src) {}
  // Reads the next token. A bad one (an unknown character, an unterminated string, a bad
  // escape, a number over 18 digits) sets error() and reads as the end.
  void Next();
  const Token& token() const { return tok_; }
  const CompileError& error() const { return error_; }

 private:
  void Fail(int column, std::string message);

  absl::string_view src_;
  std::size_t pos_ = 0;
  Token tok_;
  CompileError error_;
};

}  // namespace ringdns::core::view::internal
