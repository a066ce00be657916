// core/config/token.h: a Corefile token and where it came from.
//
// Control thread only. Locations are kept for every token so that every error can name
// FILE:LINE:COLUMN, including tokens spliced in by `import`.
#pragma once

#include <memory>
#include <string>

namespace ringdns::core::config {

struct Location {
  std::shared_ptr<const std::string> file;
  int line = 0;
  int column = 0;

  std::string ToString() const;  // "FILE:LINE:COLUMN"
};

// The chain of imports a token was spliced through, innermost first; empty at top level.
struct ImportChain {
  std::string name;
  std::shared_ptr<const ImportChain> parent;
};

struct Token {
  std::string text;
  bool quoted = false;
  Location where;
  int end_line = 0;            // a quoted token may span lines
  std::uint32_t instance = 0;  // tokens of different files or imports never share a line
  std::shared_ptr<const ImportChain> chain;

  // An unquoted "{" or "}" is a brace; a quoted one is text.
  bool Is(const char* s) const { return !quoted && text == s; }
};

// True when `next` continues the line `prev` ended on.
inline bool SameLine(const Token& prev, const Token& next) {
  return prev.instance == next.instance && prev.end_line == next.where.line;
}

}  // namespace ringdns::core::config
