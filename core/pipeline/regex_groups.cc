#include "core/pipeline/regex_groups.h"

namespace ringdns::core {

std::string WithoutUnnamedGroups(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 16);
  std::size_t i = 0;
  auto copy = [&](std::size_t n) {
    out.append(pattern.substr(i, n));
    i += n;
  };
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '\\' && pattern.substr(i, 2) == "\\Q") {
      // Literal text up to \E (or the end).
      const std::size_t end = pattern.find("\\E", i + 2);
      copy(end == std::string_view::npos ? pattern.size() - i : end + 2 - i);
    } else if (c == '\\') {
      copy(std::min<std::size_t>(2, pattern.size() - i));
    } else if (c == '[') {
      // A class: a ']' first (after an optional '^') is literal; [:name:] nests.
      std::size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '^') ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;
      while (j < pattern.size() && pattern[j] != ']') {
        if (pattern[j] == '\\') {
          j += 2;
        } else if (pattern.substr(j, 2) == "[:") {
          const std::size_t end = pattern.find(":]", j + 2);
          j = end == std::string_view::npos ? j + 1 : end + 2;
        } else {
          ++j;
        }
      }
      copy(std::min(j + 1, pattern.size()) - i);
    } else if (c == '(' && (i + 1 >= pattern.size() || pattern[i + 1] != '?')) {
      out += "(?:";
      ++i;
    } else {
      copy(1);
    }
  }
  return out;
}

}  // namespace ringdns::core
