#include "core/pipeline/acl_stage.h"

#include "wire/bytes.h"
#include "wire/patch.h"

namespace ringdns::core {
namespace {

Verdict Refuse(QueryContext& ctx, std::uint16_t rcode, std::uint16_t ede) noexcept {
  const wire::Result<std::size_t> len =
      wire::BuildErrorAnswer(ctx.message, ctx.query, {rcode, true, ede}, ctx.room);
  if (!len) return Verdict::kDrop;  // cannot happen: the room holds any answer this size
  ctx.answer_len = *len;
  return Verdict::kAnswered;
}

}  // namespace

Verdict AclStage::OnQuery(QueryContext& ctx) const noexcept {
  switch (Decide(sets_, ctx.qname, ctx.query.qtype, ctx.client)) {
    case config::AclAction::kAllow: return Verdict::kNext;
    case config::AclAction::kBlock:
      ++ctx.counters.acl_blocked;
      return Refuse(ctx, wire::rcode::kRefused, wire::ede::kProhibited);
    case config::AclAction::kFilter:
      ++ctx.counters.acl_filtered;
      return Refuse(ctx, wire::rcode::kNoError, wire::ede::kFiltered);
    case config::AclAction::kDrop: ++ctx.counters.acl_dropped; return Verdict::kDrop;
  }
  return Verdict::kNext;
}

}  // namespace ringdns::core
