#include "wire/edns_edit.h"

#include <cstring>

#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/message.h"

namespace ringdns::wire {
namespace {

// Moves room[at, len) by `delta` octets (the tail after an edited span).
bool Shift(std::span<std::uint8_t> room, std::size_t len, std::size_t at,
           std::ptrdiff_t delta) noexcept {
  const std::size_t new_len = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(len) + delta);
  if (new_len > room.size() || new_len > kMaxMessageSize) return false;
  std::memmove(room.data() + static_cast<std::ptrdiff_t>(at) + delta, room.data() + at, len - at);
  return true;
}

void WriteOption(std::uint8_t* at, std::uint16_t code,
                 std::span<const std::uint8_t> data) noexcept {
  StoreU16(at, code);
  StoreU16(at + 2, static_cast<std::uint16_t>(data.size()));
  if (!data.empty()) std::memcpy(at + edns::kOptionHeaderSize, data.data(), data.size());
}

}  // namespace

Result<OptionEdited> EditOption(std::span<std::uint8_t> room, std::size_t len, OptionEdit edit,
                                std::uint16_t code, std::span<const std::uint8_t> data) noexcept {
  if (len > room.size()) return Error::kBufferTooSmall;
  const Result<QueryView> q = ParseQuery(room.first(len));
  if (!q) return q.error();
  OptionEdited out;
  out.len = len;
  if (data.size() > 0xffff - edns::kOptionHeaderSize) return Error::kBufferTooSmall;
  const std::size_t option_size = edns::kOptionHeaderSize + data.size();
  OptView opt = q->opt;
  if (!opt.present()) {
    // Only a query with nothing in its additional section gets an OPT: it is then last.
    if (edit == OptionEdit::kReplace || edit == OptionEdit::kUnset) return out;
    if (LoadU16(room.data() + header::kArCount) != 0 || q->size != len) return out;
    const std::size_t new_len = len + edns::kOptFixedSize + option_size;
    if (new_len > room.size() || new_len > kMaxMessageSize) return Error::kBufferTooSmall;
    std::uint8_t* at = room.data() + len;
    at[0] = 0;  // root owner
    StoreU16(at + 1 + rr::kType, rrtype::kOpt);
    StoreU16(at + 1 + rr::kClass, edns::kAdvertisedUdpSize);
    StoreU32(at + 1 + rr::kTtl, 0);
    StoreU16(at + 1 + rr::kRdLength, static_cast<std::uint16_t>(option_size));
    WriteOption(at + edns::kOptFixedSize, code, data);
    StoreU16(room.data() + header::kArCount, 1);
    return OptionEdited{true, true, new_len};
  }
  if (opt.end() != len) return out;  // not the last record: a TSIG must stay last
  // The first option `code`, if any.
  std::size_t found = 0;
  bool present = false;
  for (std::size_t pos = opt.rdata_offset;
       !present && opt.end() - pos >= edns::kOptionHeaderSize;) {
    if (LoadU16(room.data() + pos) == code) {
      found = pos;
      present = true;
    } else {
      pos += edns::kOptionHeaderSize +
             LoadU16(room.data() + pos + 2);  // ParseOpt checked they fill RDATA
    }
  }
  if (!OptionEditApplies(edit, present)) return out;
  if (edit == OptionEdit::kUnset) {
    out.len = DropOption(room.first(len), opt, code);
    out.changed = true;
    return out;
  }
  std::size_t at = opt.end();  // appended
  std::ptrdiff_t delta = static_cast<std::ptrdiff_t>(option_size);
  if (present) {  // replaced in place: the options after it move
    at = found;
    const std::size_t old_size = edns::kOptionHeaderSize + LoadU16(room.data() + found + 2);
    delta = static_cast<std::ptrdiff_t>(option_size) - static_cast<std::ptrdiff_t>(old_size);
    const std::size_t tail = found + old_size;
    if (std::size_t{opt.rdlength} + option_size - old_size > 0xffff) return Error::kBufferTooSmall;
    if (!Shift(room, len, tail, delta)) return Error::kBufferTooSmall;
  } else {
    if (std::size_t{opt.rdlength} + option_size > 0xffff) return Error::kBufferTooSmall;
    if (len + option_size > room.size() || len + option_size > kMaxMessageSize)
      return Error::kBufferTooSmall;
  }
  WriteOption(room.data() + at, code, data);
  StoreU16(room.data() + opt.rdata_offset - 2,
           static_cast<std::uint16_t>(static_cast<std::ptrdiff_t>(opt.rdlength) +
                                      delta));  // RDLENGTH precedes RDATA
  out.len = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(len) + delta);
  out.changed = true;
  return out;
}

}  // namespace ringdns::wire
