// core/pipeline/regex_groups.h: a template's regex with its unnamed groups made
// non-capturing, for templates that name their groups only. RE2 finds the groups of a
// one-pass regex in place when there are at most four; a fifth (CoreDNS's README example
// starts with an unnamed `(^|[.])`) sends it to a search that allocates per query.
#pragma once

#include <string>
#include <string_view>

namespace ringdns::core {

// `pattern` (RE2 syntax) with every unnamed capturing group "(" written "(?:". Escapes,
// \Q...\E quoting and character classes (with [:alpha:] inside) are left as they are.
std::string WithoutUnnamedGroups(std::string_view pattern);

}  // namespace ringdns::core
