#include "wire/name.h"

#include <cstring>

namespace ringdns::wire {
namespace {

constexpr std::uint8_t kLabelTypeMask = 0xC0;
constexpr std::uint8_t kPointerType = 0xC0;

}  // namespace

Result<std::size_t> ScanUncompressedName(std::span<const std::uint8_t> msg, std::size_t offset,
                                         LabelStarts* starts) noexcept {
  std::size_t pos = offset;
  std::size_t expanded = 0;
  while (true) {
    if (pos >= msg.size()) return Error::kTooShort;
    const std::uint8_t len = msg[pos];
    if ((len & kLabelTypeMask) == kPointerType) return Error::kPointerInQuestion;
    if ((len & kLabelTypeMask) != 0) return Error::kBadLabelType;
    expanded += std::size_t{len} + 1;
    if (expanded > kMaxNameLen) return Error::kNameTooLong;
    if (starts != nullptr) starts->Add(pos);
    if (len == 0) return pos + 1 - offset;
    // The label and at least the next length octet must be there.
    if (msg.size() - pos - 1 <= len) return Error::kTooShort;
    pos += std::size_t{len} + 1;
  }
}

Result<ScannedName> ScanNameExpanded(std::span<const std::uint8_t> msg, std::size_t offset,
                                     LabelStarts* starts) noexcept {
  std::size_t pos = offset;
  std::size_t expanded = 0;
  std::size_t wire_len = 0;  // set when the walk first leaves the original position
  // Termination: every pointer points strictly before itself, and every stretch of
  // labels between pointers adds at least two octets to `expanded`, which is capped.
  while (true) {
    if (pos >= msg.size()) return Error::kTooShort;
    const std::uint8_t len = msg[pos];
    const std::uint8_t type = len & kLabelTypeMask;
    if (type == kPointerType) {
      if (msg.size() - pos < 2) return Error::kTooShort;
      const std::size_t target = (std::size_t{len & 0x3Fu} << 8) | msg[pos + 1];
      // Pointers must point backwards; this rules out loops. None may point into the
      // header, which holds no name.
      if (target >= pos || target < header::kSize) return Error::kBadPointer;
      // And they must land on a label of an earlier name, never inside other data.
      if (starts != nullptr && !starts->Contains(target)) return Error::kBadPointer;
      if (wire_len == 0) wire_len = pos + 2 - offset;
      pos = target;
      continue;
    }
    if (type != 0) return Error::kBadLabelType;
    expanded += std::size_t{len} + 1;
    if (expanded > kMaxNameLen) return Error::kNameTooLong;
    // Labels before the first pointer are this name's own; later ones are already known.
    if (starts != nullptr && wire_len == 0) starts->Add(pos);
    if (len == 0) {
      if (wire_len == 0) wire_len = pos + 1 - offset;
      return ScannedName{wire_len, expanded};
    }
    if (msg.size() - pos - 1 <= len) return Error::kTooShort;
    pos += std::size_t{len} + 1;
  }
}

Result<std::size_t> ScanName(std::span<const std::uint8_t> msg, std::size_t offset,
                             LabelStarts* starts) noexcept {
  const Result<ScannedName> scanned = ScanNameExpanded(msg, offset, starts);
  if (!scanned) return scanned.error();
  return scanned->wire_len;
}

bool NamesEqualIgnoreCase(std::span<const std::uint8_t> a,
                          std::span<const std::uint8_t> b) noexcept {
  if (a.size() != b.size()) return false;
  // Length octets are below 'A' (at most 63), so folding them is harmless.
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

std::size_t WriteLookupKey(std::span<const std::uint8_t> qname, NameStorage& out) noexcept {
  const std::size_t n = qname.size() < out.size() ? qname.size() : out.size();
  for (std::size_t i = 0; i < n; ++i) out[i] = ToLowerAscii(qname[i]);
  return n;
}

std::size_t SplitLabels(std::span<const std::uint8_t> qname, LabelOffsets& out) noexcept {
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < qname.size() && qname[pos] != 0 && count < out.size()) {
    out[count++] = static_cast<std::uint8_t>(pos);
    pos += std::size_t{qname[pos]} + 1;
  }
  return count;
}

Result<std::size_t> NameFromText(std::string_view text, NameStorage& out) noexcept {
  if (text.empty()) return Error::kBadText;
  if (text == ".") {
    out[0] = 0;
    return std::size_t{1};
  }
  std::size_t out_len = 0;
  std::size_t label_start = 0;  // position of the current label's length octet
  std::size_t label_len = 0;
  auto put = [&](std::uint8_t c) -> Error {
    if (label_len == kMaxLabelLen) return Error::kLabelTooLong;
    // Keep room for this octet and the final root label.
    if (out_len + 1 >= kMaxNameLen) return Error::kNameTooLong;
    out[out_len++] = c;
    ++label_len;
    return Error::kOk;
  };
  auto open_label = [&]() -> Error {
    if (out_len + 1 >= kMaxNameLen) return Error::kNameTooLong;
    label_start = out_len++;
    label_len = 0;
    return Error::kOk;
  };
  if (Error e = open_label(); e != Error::kOk) return e;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (label_len == 0) return Error::kBadText;  // empty label: "a..b" or ".a"
      out[label_start] = static_cast<std::uint8_t>(label_len);
      if (i + 1 == text.size()) break;  // trailing dot: fully qualified
      if (Error e = open_label(); e != Error::kOk) return e;
      continue;
    }
    std::uint8_t octet = static_cast<std::uint8_t>(c);
    if (c == '\\') {
      if (i + 1 >= text.size()) return Error::kBadText;
      const auto is_digit = [](char d) { return d >= '0' && d <= '9'; };
      if (is_digit(text[i + 1])) {
        // \DDD: exactly three decimal digits, at most 255 (RFC 1035 section 5.1).
        if (i + 3 >= text.size() || !is_digit(text[i + 2]) || !is_digit(text[i + 3])) {
          return Error::kBadText;
        }
        const int value =
            (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        if (value > 255) return Error::kBadText;
        octet = static_cast<std::uint8_t>(value);
        i += 3;
      } else {
        octet = static_cast<std::uint8_t>(text[i + 1]);
        i += 1;
      }
    }
    if (Error e = put(octet); e != Error::kOk) return e;
  }
  if (label_len == 0) return Error::kBadText;
  out[label_start] = static_cast<std::uint8_t>(label_len);
  out[out_len++] = 0;
  return out_len;
}

Result<std::size_t> NameToText(std::span<const std::uint8_t> name, std::span<char> out) noexcept {
  std::size_t n = 0;
  auto emit = [&](char c) {
    if (n < out.size()) out[n] = c;
    ++n;
  };
  std::size_t pos = 0;
  if (name.empty() || name[0] == 0) {
    emit('.');
  }
  while (pos < name.size() && name[pos] != 0) {
    const std::size_t len = name[pos];
    for (std::size_t i = pos + 1; i <= pos + len && i < name.size(); ++i) {
      const std::uint8_t c = name[i];
      if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '$' ||
          c == '@') {
        emit('\\');
        emit(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        emit('\\');
        emit(static_cast<char>('0' + c / 100));
        emit(static_cast<char>('0' + (c / 10) % 10));
        emit(static_cast<char>('0' + c % 10));
      } else {
        emit(static_cast<char>(c));
      }
    }
    emit('.');
    pos += len + 1;
  }
  if (n > out.size()) return Error::kBufferTooSmall;
  return n;
}

}  // namespace ringdns::wire
