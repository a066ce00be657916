// core/config/syntax.h: the Corefile's structure, before any directive is interpreted:
// server blocks with their keys, and directive lines with nested blocks. Snippets are
// collected and every `import` is expanded here.
//
// Control thread only.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/config/token.h"

namespace ringdns::core::config {

// One directive line: its name, its arguments (the rest of the line), and the lines of
// the block a `{` at the end of the line opens.
struct Directive {
  Token name;
  std::vector<Token> args;
  bool has_block = false;
  std::vector<Directive> block;
};

struct ServerBlockSyntax {
  std::vector<Token> keys;  // one token per key, commas removed
  std::vector<Directive> directives;
};

struct CorefileSyntax {
  std::vector<ServerBlockSyntax> blocks;
};

// Limits that turn runaway `import` expansion into an error instead of a hang.
inline constexpr int kMaxImportDepth = 32;
inline constexpr std::size_t kMaxExpandedTokens = 200000;

// Parses `text`, read from `file` (whose folder anchors relative import paths). With
// `read_files` false, an import that names no snippet is an error.
absl::StatusOr<CorefileSyntax> ParseSyntax(absl::string_view text, const std::string& file,
                                           bool read_files = true);

}  // namespace ringdns::core::config
