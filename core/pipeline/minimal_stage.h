// core/pipeline/minimal_stage.h: CoreDNS's `minimal`: a positive answer (NOERROR with
// records in the answer section) loses its authority section and its additional records,
// so it is as small as it can be. Negative answers (NXDOMAIN, NODATA), referrals and
// errors pass untouched, as in CoreDNS. Differences from CoreDNS: the answer's OPT is kept
// as it was, with its options (a COOKIE, an Extended DNS Error), where CoreDNS rebuilds
// one from the query's; a message signed whole (TSIG, SIG(0)) is left alone, since
// cutting it would void the signature; and the answer is made minimal for each client
// after the cache, which holds it whole (CoreDNS caches the minimal one; clients see the
// same either way). Like CoreDNS, a DNSSEC answer loses the NSEC or NSEC3 records of its
// authority section with the rest, which a validator needs for a wildcard's proof.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/pipeline/answer_context.h"

namespace ringdns::core {

class MinimalStage {
 public:
  void OnAnswer(AnswerContext& ctx) const noexcept {
    ctx.message = ctx.message.first(Shrink(ctx.message));
  }

  // Makes `answer` minimal in place; returns its new length (its old one when it is not
  // a positive answer, already minimal, signed, or not sound). The shard also calls it
  // before cutting an answer for a UDP client, as CoreDNS's writers run in that order.
  static std::size_t Shrink(std::span<std::uint8_t> answer) noexcept;
};

}  // namespace ringdns::core
