#include "wire/rewrite_names.h"

#include <array>
#include <cstring>

#include "wire/bytes.h"

namespace ringdns::wire {
namespace {

constexpr std::uint16_t kMb = 7, kMd = 3, kMf = 4, kMg = 8, kMr = 9, kMinfo = 14, kRp = 17,
                        kAfsdb = 18, kRt = 21, kPx = 26, kNaptr = 35, kKx = 36, kDname = 39;

// Reads the possibly compressed name at `offset` of `msg` into `out`. Returns the
// octets it occupies at `offset`; the expanded length goes to `len`.
Result<std::size_t> ExpandName(std::span<const std::uint8_t> msg, std::size_t offset,
                               NameStorage& out, std::size_t& len) noexcept {
  len = 0;
  std::size_t at = offset;
  std::size_t wire_len = 0;
  bool jumped = false;
  for (;;) {
    if (at >= msg.size()) return Error::kTooShort;
    const std::uint8_t octet = msg[at];
    if ((octet & 0xC0) == 0xC0) {
      if (at + 1 >= msg.size()) return Error::kTooShort;
      const std::size_t target = (static_cast<std::size_t>(octet & 0x3F) << 8) | msg[at + 1];
      // Strictly backwards and past the header: every hop shrinks `at`, so no loop.
      if (target >= at || target < header::kSize) return Error::kBadPointer;
      if (!jumped) wire_len = at + 2 - offset;
      jumped = true;
      at = target;
      continue;
    }
    if ((octet & 0xC0) != 0) return Error::kBadLabelType;
    if (at + 1 + octet > msg.size()) return Error::kTooShort;
    if (len + 1 + octet > kMaxNameLen) return Error::kNameTooLong;
    std::memcpy(out.data() + len, msg.data() + at, 1 + std::size_t{octet});
    len += 1 + std::size_t{octet};
    if (octet == 0) {
      if (!jumped) wire_len = at + 1 - offset;
      return wire_len;
    }
    at += 1 + std::size_t{octet};
  }
}

// Writes names into a message, compressed against the labels written before them.
class NameWriter {
 public:
  explicit NameWriter(std::span<std::uint8_t> out) : out_(out) {}

  std::size_t size() const noexcept { return len_; }

  bool Put(const void* data, std::size_t n) noexcept {
    if (len_ + n > out_.size()) return false;
    std::memcpy(out_.data() + len_, data, n);
    len_ += n;
    return true;
  }
  bool PutU16(std::uint16_t v) noexcept {
    const std::uint8_t b[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    return Put(b, 2);
  }
  std::uint8_t* At(std::size_t offset) noexcept { return out_.data() + offset; }

  // Where the writer is, to go back to if what follows is given up.
  struct Mark {
    std::size_t len;
    std::size_t targets;
  };
  Mark Here() const noexcept { return {len_, count_}; }
  void Back(Mark m) noexcept {
    len_ = m.len;
    count_ = m.targets;
  }

  // Writes `name` (uncompressed, valid); with `compress`, its longest suffix already
  // written becomes a pointer; with `remember` too, its own labels become targets for
  // later names.
  bool PutName(std::span<const std::uint8_t> name, bool compress, bool remember) noexcept {
    std::size_t start = 0;  // the label where the match begins
    std::size_t target = kNone;
    if (compress) {
      for (start = 0; start + 1 < name.size(); start += 1 + std::size_t{name[start]}) {
        target = Find(name.subspan(start));
        if (target != kNone) break;
      }
    }
    const std::size_t literal = target != kNone ? start : name.size();
    const std::size_t first = len_;
    if (!Put(name.data(), literal)) return false;
    if (target != kNone && !PutU16(static_cast<std::uint16_t>(0xC000 | target))) return false;
    if (compress && remember) {
      // Every label written literally but the root may be pointed to.
      for (std::size_t at = 0; at < literal && name[at] != 0; at += 1 + std::size_t{name[at]}) {
        Remember(first + at, name.size() - at);
      }
    }
    return true;
  }

 private:
  static constexpr std::size_t kNone = ~std::size_t{0};
  static constexpr std::size_t kMaxTargets = 128;
  struct Target {
    std::uint16_t offset;  // a label written literally
    std::uint16_t length;  // of the name from there on, expanded
  };

  void Remember(std::size_t offset, std::size_t length) noexcept {
    if (offset >= 0x4000 || count_ == kMaxTargets) return;
    targets_[count_++] = {static_cast<std::uint16_t>(offset), static_cast<std::uint16_t>(length)};
  }

  std::size_t Find(std::span<const std::uint8_t> suffix) const noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
      if (targets_[i].length == suffix.size() && SameAt(targets_[i].offset, suffix))
        return targets_[i].offset;
    }
    return kNone;
  }

  // Whether the name written at `offset` (pointers followed) is `name`, octet for octet:
  // a pointer keeps the case of what it points to.
  bool SameAt(std::size_t offset, std::span<const std::uint8_t> name) const noexcept {
    std::size_t at = offset;
    for (std::size_t i = 0; i < name.size();) {
      std::uint8_t octet = out_[at];
      while ((octet & 0xC0) == 0xC0) {
        at = (static_cast<std::size_t>(octet & 0x3F) << 8) | out_[at + 1];
        octet = out_[at];
      }
      if (octet != name[i] || i + 1 + octet > name.size()) return false;
      if (std::memcmp(out_.data() + at + 1, name.data() + i + 1, octet) != 0) return false;
      if (octet == 0) return true;
      i += 1 + std::size_t{octet};
      at += 1 + std::size_t{octet};
    }
    return false;
  }

  std::span<std::uint8_t> out_;
  std::size_t len_ = 0;
  std::array<Target, kMaxTargets> targets_;
  std::size_t count_ = 0;
};

// The types whose RDATA names WalkResponse checks: any other type's RDATA may be garbage
// in an answer that passed the walk.
bool WalkChecksNames(std::uint16_t type) noexcept {
  return type == rrtype::kCname || type == rrtype::kNs || type == rrtype::kPtr ||
         type == rrtype::kMx || type == rrtype::kSrv || type == rrtype::kSoa;
}

class Rewriter {
 public:
  Rewriter(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, const NameEdits& edits)
      : in_(in), out_(out), edits_(edits) {}

  Result<std::size_t> Run() noexcept {
    if (in_.size() < header::kSize) return Error::kTooShort;
    if (!out_.Put(in_.data(), header::kSize)) return Error::kBufferTooSmall;
    std::size_t at = header::kSize;
    const std::uint16_t questions = LoadU16(in_.data() + header::kQdCount);
    for (std::uint16_t i = 0; i < questions; ++i) {
      if (Error e = CopyName(at, NameRole::kQuestion, true); e != Error::kOk) return e;
      if (at + 4 > in_.size()) return Error::kTooShort;
      const std::uint16_t type =
          i == 0 && edits_.question_type != 0 ? edits_.question_type : LoadU16(in_.data() + at);
      const std::uint16_t rclass = i == 0 && edits_.question_class != 0
                                       ? edits_.question_class
                                       : LoadU16(in_.data() + at + 2);
      if (!out_.PutU16(type) || !out_.PutU16(rclass)) return Error::kBufferTooSmall;
      at += 4;
    }
    std::size_t records = std::size_t{LoadU16(in_.data() + header::kAnCount)} +
                          LoadU16(in_.data() + header::kNsCount) +
                          LoadU16(in_.data() + header::kArCount);
    for (; records > 0; --records) {
      if (Error e = CopyRecord(at); e != Error::kOk) return e;
    }
    if (at != in_.size()) return Error::kTrailing;
    return out_.size();
  }

 private:
  // Copies the name at `at` (advanced past it; inside RDATA ending at `end`), mapped for
  // `role` unless that is kNone.
  static constexpr NameRole kUnmapped = static_cast<NameRole>(0xFF);
  Error CopyName(std::size_t& at, NameRole role, bool compress,
                 std::size_t end = kMaxMessageSize + 1) noexcept {
    const bool in_rdata = end <= in_.size();
    NameStorage name;
    std::size_t len = 0;
    const Result<std::size_t> used =
        ExpandName(in_.first(in_rdata ? end : in_.size()), at, name, len);
    if (!used)
      return in_rdata ? Error::kBadRdata
                      : used.error();  // a name that overruns or breaks its RDATA
    at += *used;
    NameStorage mapped;
    const std::size_t mapped_len =
        edits_.map_name != nullptr && role != kUnmapped
            ? edits_.map_name(edits_.context, role, {name.data(), len}, mapped)
            : 0;
    const std::span<const std::uint8_t> written =
        mapped_len != 0 ? std::span<const std::uint8_t>(mapped.data(), mapped_len)
                        : std::span<const std::uint8_t>(name.data(), len);
    // A pointer may land only where the answer walk saw a label (RFC 1035 allows more;
    // the walk, and so the client path, does not): owners, the question, and the names
    // of the types whose RDATA it reads.
    const bool remember = !in_rdata || WalkChecksNames(rdata_type_);
    return out_.PutName(written, compress, remember) ? Error::kOk : Error::kBufferTooSmall;
  }

  Error CopyRecord(std::size_t& at) noexcept {
    // The type decides whether the owner is mapped: OPT's is the root, not a name.
    std::size_t after_owner = at;
    if (Result<std::size_t> owner = ScanName(in_, at); owner) {
      after_owner += *owner;
    } else {
      return owner.error();
    }
    if (after_owner + rr::kFixedSize > in_.size()) return Error::kTooShort;
    const std::uint8_t* fixed = in_.data() + after_owner;
    const std::uint16_t type = LoadU16(fixed + rr::kType);
    if (Error e = CopyName(at, type == rrtype::kOpt ? kUnmapped : NameRole::kOwner, true);
        e != Error::kOk) {
      return e;
    }
    std::uint32_t ttl = LoadU32(fixed + rr::kTtl);
    if (type != rrtype::kOpt && edits_.map_ttl != nullptr)
      ttl = edits_.map_ttl(edits_.context, ttl);
    const std::uint16_t rdlength = LoadU16(fixed + rr::kRdLength);
    at += rr::kFixedSize;
    const std::size_t rdata_end = at + rdlength;
    if (rdata_end > in_.size()) return Error::kTooShort;
    const std::uint8_t ttl_octets[4] = {
        static_cast<std::uint8_t>(ttl >> 24), static_cast<std::uint8_t>(ttl >> 16),
        static_cast<std::uint8_t>(ttl >> 8), static_cast<std::uint8_t>(ttl)};
    if (!out_.Put(fixed, 4) || !out_.Put(ttl_octets, 4)) return Error::kBufferTooSmall;
    const std::size_t rdlength_at = out_.size();
    if (!out_.PutU16(0)) return Error::kBufferTooSmall;
    const std::size_t rdata_start = out_.size();
    const std::size_t rdata_at = at;
    const NameWriter::Mark mark = out_.Here();
    Error e = CopyRdata(type, at, rdata_end);
    if (e == Error::kOk && at != rdata_end) e = Error::kBadRdata;
    if (e == Error::kBadRdata && !WalkChecksNames(type)) {
      // RDATA the answer walk does not look inside and that is not what its type says:
      // passed on as it came, as it would be without a rewrite (such types are never
      // compressed, RFC 3597 section 4).
      out_.Back(mark);
      at = rdata_at;
      e = CopyOctets(at, rdata_end - at, rdata_end);
    }
    if (e != Error::kOk) return e;
    const std::size_t written = out_.size() - rdata_start;
    if (written > 0xFFFF) return Error::kBufferTooSmall;
    StoreU16(out_.At(rdlength_at), static_cast<std::uint16_t>(written));
    return Error::kOk;
  }

  // Copies `n` octets of RDATA as they are.
  Error CopyOctets(std::size_t& at, std::size_t n, std::size_t end) noexcept {
    if (at + n > end) return Error::kBadRdata;
    if (!out_.Put(in_.data() + at, n)) return Error::kBufferTooSmall;
    at += n;
    return Error::kOk;
  }

  // A <character-string>: a length octet and that many octets.
  Error CopyString(std::size_t& at, std::size_t end) noexcept {
    if (at >= end) return Error::kBadRdata;
    return CopyOctets(at, 1 + std::size_t{in_[at]}, end);
  }

  Error CopyRdata(std::uint16_t type, std::size_t& at, std::size_t end) noexcept {
    rdata_type_ = type;
    auto name = [&](NameRole role, bool compress) { return CopyName(at, role, compress, end); };
    // Steps run in order until one fails.
    Error e = Error::kOk;
    auto step = [&](auto&& f) {
      if (e == Error::kOk) e = f();
    };
    switch (type) {
      case rrtype::kCname:
      case rrtype::kNs:
      case rrtype::kPtr:
      case kMb:
      case kMd:
      case kMf:
      case kMg:
      case kMr: step([&] { return name(NameRole::kTarget, true); }); break;
      case kDname: step([&] { return name(NameRole::kTarget, false); }); break;
      case rrtype::kMx:
        step([&] { return CopyOctets(at, 2, end); });
        step([&] { return name(NameRole::kTarget, true); });
        break;
      case kAfsdb:
      case kRt:
      case kKx:
        step([&] { return CopyOctets(at, 2, end); });
        step([&] { return name(NameRole::kTarget, false); });
        break;
      case rrtype::kSrv:
        step([&] { return CopyOctets(at, 6, end); });
        step([&] { return name(NameRole::kTarget, false); });
        break;
      case rrtype::kSoa:
        step([&] { return name(NameRole::kTarget, true); });
        // The mailbox is an address, not a host: not mapped (CoreDNS rewrites MNAME only).
        // Names of the mailbox and PX types below are expanded, not mapped, likewise.
        step([&] { return CopyName(at, kUnmapped, true, end); });
        step([&] { return CopyOctets(at, 20, end); });
        break;
      case kMinfo:
      case kRp:
        step([&] { return CopyName(at, kUnmapped, type == kMinfo, end); });
        step([&] { return CopyName(at, kUnmapped, type == kMinfo, end); });
        break;
      case kPx:
        step([&] { return CopyOctets(at, 2, end); });
        step([&] { return CopyName(at, kUnmapped, false, end); });
        step([&] { return CopyName(at, kUnmapped, false, end); });
        break;
      case kNaptr:
        step([&] { return CopyOctets(at, 4, end); });
        step([&] { return CopyString(at, end); });
        step([&] { return CopyString(at, end); });
        step([&] { return CopyString(at, end); });
        step([&] { return name(NameRole::kTarget, false); });
        break;
      default: step([&] { return CopyOctets(at, end - at, end); }); break;
    }
    return e;
  }

  std::span<const std::uint8_t> in_;
  std::uint16_t rdata_type_ = 0;  // the type whose RDATA is being copied
  NameWriter out_;
  const NameEdits& edits_;
};

}  // namespace

Result<std::size_t> RewriteNames(std::span<const std::uint8_t> in, std::span<std::uint8_t> out,
                                 const NameEdits& edits) noexcept {
  return Rewriter(in, out, edits).Run();
}

}  // namespace ringdns::wire
