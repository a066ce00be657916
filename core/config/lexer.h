// core/config/lexer.h: splits Corefile text into tokens (CoreDNS's Caddyfile lexer).
//
// White space separates tokens; "quoted strings" may hold white space and newlines, with
// \" escaping a quote; # starts a comment at the start of a token; {$VAR} is replaced by
// the environment variable VAR in every token (empty when unset).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/token.h"

namespace ringdns::core::config {

// Errors: an unterminated quoted string, with its position.
absl::StatusOr<std::vector<Token>> Lex(absl::string_view text,
                                       std::shared_ptr<const std::string> file,
                                       std::uint32_t instance);

// Replaces every {$VAR} in `text` with the environment variable's value.
std::string ExpandEnv(absl::string_view text);

}  // namespace ringdns::core::config
