#include "wire/edns.h"

#include <cstring>

namespace ringdns::wire {

Result<OptView> ParseOpt(std::span<const std::uint8_t> msg, const RecordView& record) noexcept {
  // RFC 6891 section 6.1.2: the owner MUST be the root.
  if (msg[record.owner_offset] != 0) return Error::kBadOpt;
  OptView opt;
  opt.offset = record.owner_offset;
  opt.udp_size = record.rclass;
  opt.ext_rcode = static_cast<std::uint8_t>(record.ttl >> 24);
  opt.version = static_cast<std::uint8_t>(record.ttl >> 16);
  opt.flags = static_cast<std::uint16_t>(record.ttl);
  opt.rdata_offset = record.rdata_offset;
  opt.rdlength = record.rdlength;
  std::size_t pos = record.rdata_offset;
  const std::size_t end = record.end();
  while (pos < end) {
    if (end - pos < edns::kOptionHeaderSize) return Error::kBadOpt;
    const std::uint16_t len = LoadU16(msg.data() + pos + 2);
    pos += edns::kOptionHeaderSize;
    if (end - pos < len) return Error::kBadOpt;
    pos += len;
  }
  return opt;
}

std::size_t DropOption(std::span<std::uint8_t> msg, OptView& opt, std::uint16_t code) noexcept {
  if (!opt.present() || opt.end() != msg.size()) return msg.size();
  std::size_t end = opt.end();
  std::size_t pos = opt.rdata_offset;
  while (end - pos >= edns::kOptionHeaderSize) {  // ParseOpt checked the options fill RDLENGTH
    const std::size_t option_size = edns::kOptionHeaderSize + LoadU16(msg.data() + pos + 2);
    if (LoadU16(msg.data() + pos) == code) {
      std::memmove(msg.data() + pos, msg.data() + pos + option_size, end - pos - option_size);
      end -= option_size;
    } else {
      pos += option_size;
    }
  }
  opt.rdlength = static_cast<std::uint16_t>(end - opt.rdata_offset);
  StoreU16(msg.data() + opt.rdata_offset - 2, opt.rdlength);  // RDLENGTH precedes RDATA
  return end;
}

std::size_t DropOpt(std::span<std::uint8_t> msg, OptView& opt) noexcept {
  if (!opt.present() || opt.end() != msg.size()) return msg.size();
  const std::size_t size = opt.offset;
  std::uint8_t* arcount = msg.data() + header::kArCount;
  StoreU16(arcount, static_cast<std::uint16_t>(LoadU16(arcount) - 1));
  opt = {};
  return size;
}

std::size_t WriteOpt(const OptAnswer& opt, std::uint8_t* out) noexcept {
  out[0] = 0;  // root owner
  std::uint8_t* fixed = out + 1;
  StoreU16(fixed + rr::kType, rrtype::kOpt);
  StoreU16(fixed + rr::kClass, opt.udp_size);
  const std::uint32_t ttl = (std::uint32_t{opt.ext_rcode} << 24) |
                            (opt.do_bit ? std::uint32_t{edns::kFlagDo} : 0u);  // version 0
  StoreU32(fixed + rr::kTtl, ttl);
  std::uint16_t rdlength = 0;
  if (opt.has_extended_error) {
    std::uint8_t* option = fixed + rr::kFixedSize;
    StoreU16(option, edns::kOptionExtendedError);
    const std::size_t text =
        opt.extended_error_text.size();  // EXTRA-TEXT is optional (RFC 8914 section 2)
    StoreU16(option + 2, static_cast<std::uint16_t>(2 + text));
    StoreU16(option + 4, opt.extended_error);
    if (text > 0) std::memcpy(option + 6, opt.extended_error_text.data(), text);
    rdlength = static_cast<std::uint16_t>(edns::kOptionHeaderSize + 2 + text);
  }
  StoreU16(fixed + rr::kRdLength, rdlength);
  return edns::kOptFixedSize + rdlength;
}

}  // namespace ringdns::wire
