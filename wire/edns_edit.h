// wire/edns_edit.h: one EDNS option of a query set, replaced, appended or removed in
// place (rewrite's edns0 rules, core/pipeline/rewrite_stage.h), as CoreDNS's rewrite
// edits them:
//  - kSet: the first option `code` gets `data`, or the option is added;
//  - kReplace: only an option that is there gets `data`;
//  - kAppend: the option is added only when none is there;
//  - kUnset: every option `code` is removed.
// A query without an OPT gets one (UDP size 1232) when an option is added. The OPT must
// be the query's last record (a query with a TSIG after it, or another additional
// record and no OPT, is left alone), as for wire::DropOption.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/result.h"

namespace ringdns::wire {

enum class OptionEdit : std::uint8_t { kSet, kReplace, kAppend, kUnset };

struct OptionEdited {
  bool changed = false;      // the query was edited
  bool created_opt = false;  // it had no OPT: the edit added one
  std::size_t len = 0;       // the query's length now
};

// Edits the query in room[0, len); `room.size()` octets may be used.
// Errors: the query's parse errors (ParseQuery), kBufferTooSmall (no room for the edit).
Result<OptionEdited> EditOption(std::span<std::uint8_t> room, std::size_t len, OptionEdit edit,
                                std::uint16_t code, std::span<const std::uint8_t> data) noexcept;

// Whether the edit would change the query, given whether an option `code` is there
// (CoreDNS's rule "did its rewrite": the rule's stop ends the rule list only then).
constexpr bool OptionEditApplies(OptionEdit edit, bool present) noexcept {
  switch (edit) {
    case OptionEdit::kSet: return true;
    case OptionEdit::kReplace:
    case OptionEdit::kUnset: return present;
    case OptionEdit::kAppend: return !present;
  }
  return false;
}

}  // namespace ringdns::wire
