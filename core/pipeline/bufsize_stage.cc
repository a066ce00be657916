#include "core/pipeline/bufsize_stage.h"

#include <algorithm>

#include "wire/bytes.h"
#include "wire/record.h"

namespace ringdns::core {

bool BufsizeStage::Lower(std::span<std::uint8_t> message, const wire::OptView& opt,
                         std::uint16_t size) noexcept {
  if (!opt.present() || opt.udp_size <= size) return false;
  if (wire::LoadU16(message.data() + wire::header::kArCount) != 1)
    return false;  // a TSIG signs these octets
  // An OPT's CLASS field is its payload size; its owner is the root, one octet.
  wire::StoreU16(message.data() + opt.offset + 1 + wire::rr::kClass, size);
  return true;
}

Verdict BufsizeStage::OnQuery(QueryContext& ctx) const noexcept {
  const wire::OptView& opt = ctx.query.opt;
  if (!opt.present() || opt.udp_size <= size_) return Verdict::kNext;
  Lower(ctx.message, opt, size_);
  if (!ctx.tcp) ctx.udp_size = std::min(ctx.udp_size, size_);
  ++ctx.counters.bufsize_lowered;
  return Verdict::kNext;
}

}  // namespace ringdns::core
