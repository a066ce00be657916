#include "core/pipeline/bufsize_stage.h"

#include <algorithm>

#include "wire/bytes.h"
#include "wire/record.h"

namespace ringdns::core {

Verdict BufsizeStage::OnQuery(QueryContext& ctx) const noexcept {
  const wire::OptView& opt = ctx.query.opt;
  if (!opt.present() || opt.udp_size <= size_) return Verdict::kNext;
  // An OPT's CLASS field is its payload size; its owner is the root, one octet.
  wire::StoreU16(ctx.message.data() + opt.offset + 1 + wire::rr::kClass, size_);
  if (!ctx.tcp) ctx.udp_size = std::min(ctx.udp_size, size_);
  ++ctx.counters.bufsize_lowered;
  return Verdict::kNext;
}

}  // namespace ringdns::core
