#include "core/config/syntax.h"

#include <glob.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/config/lexer.h"

namespace ringdns::core::config {
namespace {

absl::Status ErrorAt(const Token& token, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(token.where.ToString(), ": ", message));
}

absl::Status ErrorAtEnd(const Token& last, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(last.where.ToString(), ": ", message));
}

bool ChainContains(const std::shared_ptr<const ImportChain>& chain, const std::string& name) {
  for (const ImportChain* c = chain.get(); c != nullptr; c = c->parent.get()) {
    if (c->name == name) return true;
  }
  return false;
}

int ChainDepth(const std::shared_ptr<const ImportChain>& chain) {
  int depth = 0;
  for (const ImportChain* c = chain.get(); c != nullptr; c = c->parent.get()) ++depth;
  return depth;
}

std::string ChainText(const std::shared_ptr<const ImportChain>& chain, const std::string& last) {
  std::vector<std::string> names{last};
  for (const ImportChain* c = chain.get(); c != nullptr; c = c->parent.get()) {
    names.insert(names.begin(), c->name);
  }
  return absl::StrJoin(names, " -> ");
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::filesystem::path folder, bool read_files)
      : tokens_(std::move(tokens)), folder_(std::move(folder)), read_files_(read_files) {}

  absl::StatusOr<CorefileSyntax> Parse() {
    CorefileSyntax syntax;
    while (pos_ < tokens_.size()) {
      if (absl::Status s = ExpandImportsAtLineStart(); !s.ok()) return s;
      if (pos_ >= tokens_.size()) break;
      if (IsSnippetDefinition()) {
        if (absl::Status s = DefineSnippet(); !s.ok()) return s;
        continue;
      }
      absl::StatusOr<ServerBlockSyntax> block = ParseServerBlock(syntax.blocks.empty());
      if (!block.ok()) return block.status();
      syntax.blocks.push_back(std::move(*block));
    }
    return syntax;
  }

 private:
  bool AtLineStart(std::size_t i) const {
    return i == 0 || !SameLine(tokens_[i - 1], tokens_[i]) || tokens_[i - 1].Is("{");
  }

  bool IsSnippetDefinition() const {
    const Token& t = tokens_[pos_];
    return !t.quoted && t.text.size() > 2 && t.text.front() == '(' && t.text.back() == ')';
  }

  absl::Status DefineSnippet() {
    const Token name_token = tokens_[pos_++];
    const std::string name = name_token.text.substr(1, name_token.text.size() - 2);
    if (pos_ >= tokens_.size() || !tokens_[pos_].Is("{")) {
      return ErrorAt(name_token, absl::StrCat("snippet (", name, ") must be followed by '{'"));
    }
    if (snippets_.count(name) != 0) {
      return ErrorAt(name_token, absl::StrCat("snippet (", name, ") is defined twice"));
    }
    const Token open = tokens_[pos_++];
    std::vector<Token> body;
    int depth = 1;
    while (pos_ < tokens_.size()) {
      const Token& t = tokens_[pos_++];
      if (t.Is("{")) ++depth;
      if (t.Is("}") && --depth == 0) {
        snippets_[name] = std::move(body);
        return absl::OkStatus();
      }
      body.push_back(t);
    }
    return ErrorAt(open, absl::StrCat("snippet (", name, ") is missing its closing '}'"));
  }

  // Replaces `import ARG` lines at pos_ with what they name, until pos_ holds something
  // else. Imported tokens may themselves start with an import: the loop handles that.
  absl::Status ExpandImportsAtLineStart() {
    while (pos_ < tokens_.size() && tokens_[pos_].Is("import") && AtLineStart(pos_)) {
      if (absl::Status s = ExpandImport(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status ExpandImport() {
    const Token import = tokens_[pos_];
    std::size_t end = pos_ + 1;
    while (end < tokens_.size() && SameLine(tokens_[end - 1], tokens_[end]) &&
           !tokens_[end].Is("{") && !tokens_[end].Is("}")) {
      ++end;
    }
    if (end - pos_ != 2) {
      return ErrorAt(import, "import takes exactly one argument: a snippet name, a file or a glob");
    }
    const std::string what = tokens_[pos_ + 1].text;
    if (ChainContains(import.chain, what)) {
      return ErrorAt(import, absl::StrCat("import cycle: ", ChainText(import.chain, what)));
    }
    if (ChainDepth(import.chain) >= kMaxImportDepth) {
      return ErrorAt(import, absl::StrCat("imports nested deeper than ", kMaxImportDepth));
    }
    auto chain = std::make_shared<const ImportChain>(ImportChain{what, import.chain});
    std::vector<Token> spliced;
    if (auto it = snippets_.find(what); it != snippets_.end()) {
      const std::uint32_t instance = ++next_instance_;
      for (Token t : it->second) {
        t.instance = instance;
        t.chain = chain;
        spliced.push_back(std::move(t));
      }
    } else {
      absl::StatusOr<std::vector<Token>> files = ReadImportFiles(import, what, chain);
      if (!files.ok()) return files.status();
      spliced = std::move(*files);
    }
    expanded_ += spliced.size();
    if (expanded_ > kMaxExpandedTokens) {
      return ErrorAt(import, absl::StrCat("imports expand to more than ", kMaxExpandedTokens,
                                          " tokens; is a snippet importing itself?"));
    }
    tokens_.erase(tokens_.begin() + static_cast<std::ptrdiff_t>(pos_),
                  tokens_.begin() + static_cast<std::ptrdiff_t>(end));
    tokens_.insert(tokens_.begin() + static_cast<std::ptrdiff_t>(pos_), spliced.begin(),
                   spliced.end());
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Token>> ReadImportFiles(
      const Token& import, const std::string& what,
      const std::shared_ptr<const ImportChain>& chain) {
    if (!read_files_) {
      return ErrorAt(import, absl::StrCat("import: no snippet named '", what,
                                          "' (file imports are disabled here)"));
    }
    std::filesystem::path pattern(what);
    if (pattern.is_relative()) pattern = folder_ / pattern;
    std::vector<std::string> paths;
    glob_t matches{};
    const int rc = ::glob(pattern.c_str(), 0, nullptr, &matches);
    if (rc == 0) {
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) paths.emplace_back(matches.gl_pathv[i]);
    }
    globfree(&matches);
    if (paths.empty()) {
      // A glob may match nothing (Kubernetes' `import custom/*.override`); a plain name
      // must exist.
      if (what.find_first_of("*?[") != std::string::npos) return std::vector<Token>{};
      return ErrorAt(import, absl::StrCat("import: no snippet named '", what, "' and no file ",
                                          pattern.string()));
    }
    std::vector<Token> out;
    for (const std::string& path : paths) {
      std::ifstream in(path);
      if (!in) return ErrorAt(import, absl::StrCat("import: cannot read ", path));
      std::stringstream text;
      text << in.rdbuf();
      absl::StatusOr<std::vector<Token>> tokens =
          Lex(text.str(), std::make_shared<const std::string>(path), ++next_instance_);
      if (!tokens.ok()) return tokens.status();
      for (Token& t : *tokens) {
        t.chain = chain;
        out.push_back(std::move(t));
      }
    }
    return out;
  }

  absl::StatusOr<ServerBlockSyntax> ParseServerBlock(bool first) {
    ServerBlockSyntax block;
    bool expect_another = true;    // the first key, or one after a trailing comma
    bool after_comma = false;      // the last key ended with ','
    const Token* empty = nullptr;  // the last empty key skipped
    while (pos_ < tokens_.size() && !tokens_[pos_].Is("{")) {
      const Token& t = tokens_[pos_];
      if (!expect_another && !SameLine(tokens_[pos_ - 1], t)) break;
      if (t.Is("}")) return ErrorAt(t, "unexpected '}', expected a server block key");
      if (t.text.empty()) {
        // "" or a {$VAR} that expands to nothing: skipped, as CoreDNS skips it. It leaves
        // a trailing comma before it pending; otherwise, like any key without one, it ends
        // the keys at the line's end.
        empty = &t;
        expect_another = after_comma;
        ++pos_;
        continue;
      }
      if (t.text.find_first_not_of(',') == std::string::npos &&
          !(t.text == "," && (!block.keys.empty() || empty != nullptr))) {
        return ErrorAt(t, "empty server block key, expected a zone such as .:53");
      }
      if (t.text.size() > 1 && t.text.back() == '{') {
        // CoreDNS's lexer takes '{' into the word too: it then refuses '.:53{' (not a domain
        // name, a leading dot) and serves 'example.org:53{' as a zone of that name on port 53.
        return ErrorAt(t, absl::StrCat("'", t.text,
                                       "': expected a space between the server block key and '{' (",
                                       "written together, CoreDNS reads them as one zone name)"));
      }
      after_comma = t.text.back() == ',';
      expect_another = after_comma;
      for (absl::string_view part : absl::StrSplit(t.text, ',', absl::SkipEmpty())) {
        Token key = t;
        key.text = std::string(part);
        block.keys.push_back(std::move(key));
      }
      ++pos_;
    }
    if (block.keys.empty() && empty != nullptr) {
      return ErrorAt(*empty,
                     "empty server block key (an environment variable that expands to nothing?) "
                     "and no other, expected a zone such as .:53");
    }
    if (block.keys.empty()) {
      return ErrorAt(pos_ < tokens_.size() ? tokens_[pos_] : tokens_.back(),
                     "expected a server block key such as '.:53' before '{'");
    }
    if (expect_another) {
      return ErrorAt(tokens_[pos_ - 1], "expected another server block key after ','");
    }
    if (pos_ < tokens_.size() && tokens_[pos_].Is("{")) {
      const Token open = tokens_[pos_++];
      absl::StatusOr<std::vector<Directive>> body = ParseBody(open, /*braced=*/true);
      if (!body.ok()) return body.status();
      block.directives = std::move(*body);
      return block;
    }
    // A file holding a single server block may omit its braces.
    if (!first) {
      return ErrorAt(tokens_[pos_ - 1], "expected '{' after the server block keys");
    }
    absl::StatusOr<std::vector<Directive>> body = ParseBody(block.keys.front(), /*braced=*/false);
    if (!body.ok()) return body.status();
    block.directives = std::move(*body);
    return block;
  }

  // Parses directive lines until the '}' matching `open` (consumed) or, unbraced, EOF.
  absl::StatusOr<std::vector<Directive>> ParseBody(const Token& open, bool braced) {
    std::vector<Directive> lines;
    while (true) {
      if (absl::Status s = ExpandImportsAtLineStart(); !s.ok()) return s;
      if (pos_ >= tokens_.size()) {
        if (!braced) return lines;
        return ErrorAtEnd(tokens_.back(), absl::StrCat("unexpected end of file, expected '}' "
                                                       "to close the block opened at ",
                                                       open.where.ToString()));
      }
      const Token& t = tokens_[pos_];
      if (t.Is("}")) {
        if (!braced) return ErrorAt(t, "unexpected '}' without a matching '{'");
        ++pos_;
        return lines;
      }
      if (t.Is("{")) return ErrorAt(t, "unexpected '{', expected a directive name");
      absl::StatusOr<Directive> line = ParseDirective();
      if (!line.ok()) return line.status();
      lines.push_back(std::move(*line));
    }
  }

  absl::StatusOr<Directive> ParseDirective() {
    Directive d;
    d.name = tokens_[pos_++];
    while (pos_ < tokens_.size() && SameLine(tokens_[pos_ - 1], tokens_[pos_])) {
      const Token& t = tokens_[pos_];
      if (t.Is("}")) break;  // "{ forward . 1.2.3.4 }" on one line closes the block
      if (t.Is("{")) {
        const Token open = tokens_[pos_++];
        d.has_block = true;
        absl::StatusOr<std::vector<Directive>> body = ParseBody(open, /*braced=*/true);
        if (!body.ok()) return body.status();
        d.block = std::move(*body);
        return d;
      }
      d.args.push_back(t);
      ++pos_;
    }
    return d;
  }

  std::vector<Token> tokens_;
  std::filesystem::path folder_;
  bool read_files_;
  std::size_t pos_ = 0;
  std::map<std::string, std::vector<Token>> snippets_;
  std::size_t expanded_ = 0;
  std::uint32_t next_instance_ = 1;
};

}  // namespace

absl::StatusOr<CorefileSyntax> ParseSyntax(absl::string_view text, const std::string& file,
                                           bool read_files) {
  absl::StatusOr<std::vector<Token>> tokens =
      Lex(text, std::make_shared<const std::string>(file), /*instance=*/1);
  if (!tokens.ok()) return tokens.status();
  if (tokens->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(file,
                                                   ":1:1: the Corefile is empty, "
                                                   "expected at least one server block"));
  }
  const std::filesystem::path folder = std::filesystem::path(file).parent_path();
  return Parser(std::move(*tokens), folder.empty() ? std::filesystem::path(".") : folder,
                read_files)
      .Parse();
}

}  // namespace ringdns::core::config
