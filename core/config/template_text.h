// core/config/template_text.h: the Go text/template subset CoreDNS's `template` plugin
// is written in, compiled at load time and rendered per query without allocating.
//
// Text passes through; an action {{ ... }} (with Go's {{- and -}} trimming white space
// beside it, and {{/* comments */}}) is one of:
//
//   .Name .Zone .Class .Type .Regex .Remote   the query's (see TemplateData)
//   .Group.NAME          a named group of the regex that matched ("<no value>" when it has none)
//   index .Group "KEY"   a named or numbered group ("" when none, as Go's index gives)
//   index .Match N       the whole match (0) or group N; a render error past the last group
//   .Meta "NAME"         "": ringdns has no metadata plugin, and CoreDNS without one gives ""
//
// Anything else Go templates allow (pipelines, if/range, variables, functions, .Message,
// .Question) is refused at load with what is supported.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace ringdns::core {

// The most capturing groups a template's regex may have: their matches are kept on the
// stack of the shard that renders them.
inline constexpr int kMaxTemplateGroups = 32;

// What a template may name about one query, as CoreDNS's templateData holds it.
struct TemplateData {
  std::string_view name = {};    // the question's name in lower case, with its final dot
  std::string_view zone = {};    // the template's zone the name is in
  std::string_view qclass = {};  // "IN" (the template's class when the query asks ANY)
  std::string_view qtype = {};   // "A" (the template's type when the query asks ANY)
  std::string_view regex = {};   // the pattern that matched
  std::string_view remote = {};  // the client's address, without its port
  // match[0] is the whole match, match[i] group i ("" when it took no part).
  std::span<const std::string_view> match = {};
  // The regex's named groups: name and index into `match`.
  std::span<const std::pair<std::string, int>> group_names = {};
};

class TemplateText {
 public:
  // Errors: an action outside the subset, an unclosed {{, with what is wrong.
  static absl::StatusOr<TemplateText> Compile(std::string_view text);

  // Writes the text for `data` into `out`; nullopt when it does not fit or an index is
  // past the last group (Go's template fails there too).
  std::optional<std::size_t> Render(const TemplateData& data, std::span<char> out) const noexcept;

  // Whether the text has no action that depends on the query: it can be checked at load.
  bool constant() const noexcept;
  bool uses_remote() const noexcept;
  // Whether it names a group by number (index .Match N for N > 0, index .Group "N").
  bool uses_numbered_groups() const noexcept;

 private:
  enum class Kind : std::uint8_t {
    kText,
    kName,
    kZone,
    kClass,
    kType,
    kRegex,
    kRemote,
    kMatch,
    kGroupField,
    kGroupIndex
  };
  struct Piece {
    Kind kind = Kind::kText;
    std::string text;       // kText: the text; kGroupField / kGroupIndex: the key
    std::size_t index = 0;  // kMatch: N
  };
  std::vector<Piece> pieces_;
};

}  // namespace ringdns::core
