#include "wire/record.h"

namespace ringdns::wire {

Result<RecordView> ReadRecord(std::span<const std::uint8_t> msg, std::size_t offset,
                              Section section, LabelStarts& starts) noexcept {
  const Result<std::size_t> owner_len = ScanName(msg, offset, &starts);
  if (!owner_len) return owner_len.error();
  const std::size_t fixed = offset + *owner_len;
  if (msg.size() - fixed < rr::kFixedSize) return Error::kTooShort;
  const std::uint8_t* p = msg.data() + fixed;
  RecordView view{};
  view.owner_offset = static_cast<std::uint16_t>(offset);
  view.type = LoadU16(p + rr::kType);
  view.rclass = LoadU16(p + rr::kClass);
  view.ttl_offset = static_cast<std::uint16_t>(fixed + rr::kTtl);
  view.ttl = LoadU32(p + rr::kTtl);
  view.rdlength = LoadU16(p + rr::kRdLength);
  const std::size_t rdata = fixed + rr::kFixedSize;
  if (msg.size() - rdata < view.rdlength) return Error::kTooShort;
  view.rdata_offset = static_cast<std::uint16_t>(rdata);
  view.section = section;
  return view;
}

}  // namespace ringdns::wire
