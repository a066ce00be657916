#include "wire/rr_text.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>
#include <optional>

#include "wire/bytes.h"
#include "wire/name.h"
#include "wire/rr_names.h"

namespace ringdns::wire {
namespace {

constexpr std::uint32_t kDefaultTtl = 3600;  // miekg/dns's, for a record without one
constexpr std::size_t kMaxFields = 256;

// Trivially constructible (no std::string_view member, whose constructor clears it): the
// array of them on the stack is not cleared per record, which was half its cost.
struct Field {
  const char* data;  // a quoted field without its quotes, escapes as written
  std::size_t size;
  bool quoted;
  std::string_view text() const noexcept { return {data, size}; }
};

bool IsBlank(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Splits `text` into fields; nullopt-like false when a quote or parenthesis is left open,
// or there are more than kMaxFields.
bool Split(std::string_view text, std::array<Field, kMaxFields>& fields,
           std::size_t& count) noexcept {
  count = 0;
  int depth = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (IsBlank(c)) {
      ++i;
    } else if (c == '(') {
      ++depth;
      ++i;
    } else if (c == ')') {
      if (--depth < 0) return false;
      ++i;
    } else if (c == ';') {
      // A comment runs to the end of its line.
      while (i < text.size() && text[i] != '\n') ++i;
    } else {
      if (count == kMaxFields) return false;
      Field& field = fields[count++];
      const bool quoted = c == '"';
      const std::size_t start = quoted ? i + 1 : i;
      std::size_t end = start;
      while (end < text.size()) {
        const char d = text[end];
        if (d == '\\') {
          end += 2;  // the escaped character, whatever it is, stays in the field
          continue;
        }
        if (quoted ? d == '"' : (IsBlank(d) || d == '(' || d == ')' || d == ';' || d == '"')) break;
        ++end;
      }
      if (end > text.size()) return false;             // a backslash ended the text
      if (quoted && end == text.size()) return false;  // no closing quote
      field = {text.data() + start, end - start, quoted};
      i = quoted ? end + 1 : end;
    }
  }
  return depth == 0;
}

template <typename T>
bool Number(std::string_view text, T& value) noexcept {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

class RdataWriter {
 public:
  explicit RdataWriter(std::span<std::uint8_t> out) : out_(out) {}

  bool Bytes(std::span<const std::uint8_t> bytes) noexcept {
    if (out_.size() - len_ < bytes.size()) {
      overflowed_ = true;
      return false;
    }
    if (!bytes.empty()) std::memcpy(out_.data() + len_, bytes.data(), bytes.size());
    len_ += bytes.size();
    return true;
  }
  bool U8(std::uint8_t v) noexcept { return Bytes({&v, 1}); }
  bool U16(std::uint16_t v) noexcept {
    std::uint8_t b[2];
    StoreU16(b, v);
    return Bytes(b);
  }
  bool U32(std::uint32_t v) noexcept {
    std::uint8_t b[4];
    StoreU32(b, v);
    return Bytes(b);
  }
  std::size_t size() const noexcept { return len_; }
  // Whether something did not fit: the record is too big for the room, whatever else
  // went wrong after.
  bool overflowed() const noexcept { return overflowed_; }

 private:
  std::span<std::uint8_t> out_;
  std::size_t len_ = 0;
  bool overflowed_ = false;
};

// A name field: "@" is the root; anything else is absolute.
Error WriteName(const Field& field, RdataWriter& w) noexcept {
  NameStorage name;
  std::size_t len = 1;
  name[0] = 0;
  if (field.text() != "@") {
    const Result<std::size_t> parsed = NameFromText(field.text(), name);
    if (!parsed) return parsed.error();
    len = *parsed;
  }
  return w.Bytes({name.data(), len}) ? Error::kOk : Error::kBufferTooSmall;
}

bool Address(const Field& field, int family, RdataWriter& w) noexcept {
  std::array<char, 64> text{};
  if (field.text().size() >= text.size()) return false;
  field.text().copy(text.data(), field.text().size());
  std::array<std::uint8_t, 16> address{};
  if (::inet_pton(family, text.data(), address.data()) != 1) return false;
  return w.Bytes({address.data(), family == AF_INET ? 4u : 16u});
}

// A field's <character-string>s: its escapes (\X, \DDD) decoded, cut every 255 octets
// into another string, as miekg/dns splits a long TXT string.
bool CharacterStrings(const Field& field, RdataWriter& w) noexcept {
  std::array<std::uint8_t, 255> data;
  std::size_t len = 0;
  bool any = false;
  const std::string_view t = field.text();
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::uint8_t octet = static_cast<std::uint8_t>(t[i]);
    if (t[i] == '\\') {
      if (i + 1 >= t.size()) return false;
      if (t[i + 1] >= '0' && t[i + 1] <= '9') {
        unsigned value = 0;
        if (i + 3 >= t.size()) return false;  // \DDD: three digits
        if (!Number(t.substr(i + 1, 3), value) || value > 255) return false;
        octet = static_cast<std::uint8_t>(value);
        i += 3;
      } else {
        octet = static_cast<std::uint8_t>(t[i + 1]);
        i += 1;
      }
    }
    if (len == data.size()) {
      if (!w.U8(static_cast<std::uint8_t>(len)) || !w.Bytes({data.data(), len})) return false;
      len = 0;
      any = true;
    }
    data[len++] = octet;
  }
  if (any && len == 0) return true;  // ended on a cut: no empty string after it
  return w.U8(static_cast<std::uint8_t>(len)) && w.Bytes({data.data(), len});
}

// RFC 3597 section 5: \# LENGTH followed by LENGTH octets in hex, in one field or many.
bool Generic(std::span<const Field> fields, RdataWriter& w) noexcept {
  std::uint16_t length = 0;
  if (fields.size() < 2 || fields[0].text() != "\\#" || !Number(fields[1].text(), length))
    return false;
  std::size_t written = 0;
  int high = -1;
  for (const Field& field : fields.subspan(2)) {
    for (const char c : field.text()) {
      int nibble = -1;
      if (c >= '0' && c <= '9') nibble = c - '0';
      if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') nibble = c - 'A' + 10;
      if (nibble < 0) return false;
      if (high < 0) {
        high = nibble;
      } else {
        if (!w.U8(static_cast<std::uint8_t>(high << 4 | nibble))) return false;
        ++written;
        high = -1;
      }
    }
  }
  return high < 0 && written == length;
}

Error Rdata(std::uint16_t type, std::span<const Field> f, RdataWriter& w) noexcept {
  auto expect = [&](std::size_t n) { return f.size() == n; };
  auto names = [&](std::span<const Field> fields) {
    for (const Field& field : fields) {
      if (const Error e = WriteName(field, w); e != Error::kOk) return e;
    }
    return Error::kOk;
  };
  if (!f.empty() && f[0].text() == "\\#" && !f[0].quoted) {
    // Octets for a type whose RDATA holds names could hold compression pointers, or not
    // be names at all: those are read from text only. A and AAAA keep their lengths.
    switch (type) {
      case rrtype::kNs:
      case rrtype::kCname:
      case rrtype::kSoa:
      case rrtype::kPtr:
      case rrtype::kMx:
      case rrtype::kSrv:
      case 39:  // DNAME
        return Error::kBadRecordText;
      default: break;
    }
    if (!Generic(f, w)) return Error::kBadRecordText;
    if ((type == rrtype::kA && w.size() != 4) || (type == rrtype::kAaaa && w.size() != 16))
      return Error::kBadRecordText;
    return Error::kOk;
  }
  // Only TXT and SPF take quoted strings; miekg/dns refuses a quoted address or name.
  if (type != rrtype::kTxt && type != 99) {
    for (const Field& field : f) {
      if (field.quoted) return Error::kBadRecordText;
    }
  }
  std::uint16_t a = 0, b = 0, c = 0;
  switch (type) {
    case rrtype::kA:
      return expect(1) && Address(f[0], AF_INET, w) ? Error::kOk : Error::kBadRecordText;
    case rrtype::kAaaa:
      return expect(1) && Address(f[0], AF_INET6, w) ? Error::kOk : Error::kBadRecordText;
    case rrtype::kNs:
    case rrtype::kCname:
    case rrtype::kPtr:
    case 39:  // DNAME
      return expect(1) ? names(f) : Error::kBadRecordText;
    case rrtype::kMx:
      if (!expect(2) || !Number(f[0].text(), a) || !w.U16(a)) return Error::kBadRecordText;
      return names(f.subspan(1));
    case rrtype::kSrv:
      if (!expect(4) || !Number(f[0].text(), a) || !Number(f[1].text(), b) ||
          !Number(f[2].text(), c)) {
        return Error::kBadRecordText;
      }
      if (!w.U16(a) || !w.U16(b) || !w.U16(c)) return Error::kBufferTooSmall;
      return names(f.subspan(3));
    case rrtype::kTxt:
    case 99:  // SPF
      if (f.empty()) return Error::kBadRecordText;
      for (const Field& field : f) {
        if (!CharacterStrings(field, w)) return Error::kBadRecordText;
      }
      return Error::kOk;
    case rrtype::kSoa: {
      if (!expect(7)) return Error::kBadRecordText;
      if (const Error e = names(f.first(2)); e != Error::kOk) return e;
      for (const Field& field : f.subspan(2)) {
        std::uint32_t value = 0;
        if (!Number(field.text(), value)) return Error::kBadRecordText;
        if (!w.U32(value)) return Error::kBufferTooSmall;
      }
      return Error::kOk;
    }
    default: return Error::kBadRecordText;  // only the generic form for other types
  }
}

}  // namespace

Result<std::size_t> RecordFromText(std::string_view text, std::span<std::uint8_t> out) noexcept {
  std::array<Field, kMaxFields> fields;
  std::size_t count = 0;
  if (!Split(text, fields, count) || count < 2) return Error::kBadRecordText;
  const std::span<const Field> f(fields.data(), count);
  // The owner.
  if (f[0].quoted) return Error::kBadRecordText;
  NameStorage owner;
  std::size_t owner_len = 1;
  owner[0] = 0;
  if (f[0].text() != "@") {
    const Result<std::size_t> parsed = NameFromText(f[0].text(), owner);
    if (!parsed) return parsed.error();
    owner_len = *parsed;
  }
  // [TTL] [CLASS] in either order, then TYPE.
  std::size_t i = 1;
  std::uint32_t ttl = kDefaultTtl;
  std::uint16_t rclass = rrclass::kIn;
  bool have_ttl = false, have_class = false;
  std::optional<std::uint16_t> type;
  for (; i < f.size() && !type; ++i) {
    if (f[i].quoted) return Error::kBadRecordText;
    if (!have_ttl && Number(f[i].text(), ttl)) {
      have_ttl = true;
    } else if (const std::optional<std::uint16_t> k = ClassFromName(f[i].text());
               !have_class && k) {
      rclass = *k;
      have_class = true;
    } else if (const std::optional<std::uint16_t> t = TypeFromName(f[i].text()); t) {
      type = t;
    } else {
      return Error::kBadRecordText;
    }
  }
  // An OPT or TSIG among the records would corrupt the message around them.
  if (!type || *type == rrtype::kOpt || *type == rrtype::kTsig) return Error::kBadRecordText;
  constexpr std::size_t kFixed = rr::kFixedSize;
  if (out.size() < owner_len + kFixed) return Error::kBufferTooSmall;
  std::memcpy(out.data(), owner.data(), owner_len);
  std::uint8_t* fixed = out.data() + owner_len;
  RdataWriter rdata(out.subspan(owner_len + kFixed)
                        .first(std::min<std::size_t>(out.size() - owner_len - kFixed, 0xffff)));
  const Error e = Rdata(*type, f.subspan(i), rdata);
  if (rdata.overflowed()) return Error::kBufferTooSmall;
  if (e != Error::kOk) return e;
  StoreU16(fixed + rr::kType, *type);
  StoreU16(fixed + rr::kClass, rclass);
  StoreU32(fixed + rr::kTtl, ttl);
  StoreU16(fixed + rr::kRdLength, static_cast<std::uint16_t>(rdata.size()));
  return owner_len + kFixed + rdata.size();
}

}  // namespace ringdns::wire
