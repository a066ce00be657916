// core/config/lexer.h: splits Corefile text into tokens exactly as CoreDNS's Caddyfile
// lexer does (coredns/caddy's caddyfile/lexer.go):
//
// - White space is Go's unicode.IsSpace: ASCII space, \t \n \v \f \r, and the Unicode
//   spaces (a non-breaking space pasted from a web page among them).
// - '#' outside a quoted string starts a comment to the end of the line, also in the
//   middle of a token ("1.1.1.1#note" is "1.1.1.1").
// - A '"' at the start of a token opens a quoted string, which may hold white space and
//   newlines; inside it a backslash escapes only a quote: \" is ", any other \X stays
//   \X (so "a\\" is a\\, and "C:\dir" is C:\dir).
// - {$VAR} and {%VAR%} are replaced by the environment variable VAR in every token
//   (empty when unset).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/config/token.h"

namespace ringdns::core::config {

// Errors: an unterminated quoted string, with its position.
absl::StatusOr<std::vector<Token>> Lex(absl::string_view text,
                                       std::shared_ptr<const std::string> file,
                                       std::uint32_t instance);

// Replaces every {%VAR%}, then every {$VAR}, in `text` with the variable's value.
std::string ExpandEnv(absl::string_view text);

// The octets of the white space character at text[i] (1 to 3, UTF-8), or 0 when it is none.
std::size_t SpaceAt(absl::string_view text, std::size_t i);

}  // namespace ringdns::core::config
