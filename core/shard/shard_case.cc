// DNS 0x20 on a shard (wire/name_case.h, core/upstream/case_randomization.h): each UDP
// attempt's name goes out spelled with the slot's secret key, from a scratch copy, so
// the client's own spelling stays in its buffer for its answer; an answer must echo the
// spelling. A folded echo is dropped and the query asked again at once, from a fresh
// port and ID, with a fresh spelling, and over TCP after that upstream's second fold
// for it (core/upstream/case_randomization.h decides whether the upstream falls back):
// a client never waits out a timeout for it.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/net.h"
#include "core/shard/shard_reactor.h"
#include "wire/message.h"
#include "wire/name_case.h"

namespace ringdns::core {

std::uint64_t ShardReactor::DrawCaseKey(const InflightSlot& slot) noexcept {
  const std::span<const std::uint8_t> qname = QnameOf(slot);
  std::uint64_t key = random_.Next64() | 1;
  // Half the draws for a one-letter name, one in 2^n for n letters: a few at most.
  while (!wire::SpellsAnUpperLetter(qname, key)) key = random_.Next64() | 1;
  return key;
}

std::span<const std::uint8_t> ShardReactor::SpellForUpstream(InflightSlot& slot, std::int64_t now) {
  const std::uint32_t upstream_id = slot.forward->first_upstream + slot.upstream;
  if (slot.case_key == 0 || !cases_.Randomizes(upstream_id, now)) return {};
  if (slot.case_plain_upstream == upstream_id) return {};
  std::uint8_t* name = query_buffers_.Scratch(slot.query_buffer);
  wire::SpellWithKey(
      {query_buffers_.Payload(slot.query_buffer) + wire::header::kSize, slot.qname_len},
      slot.case_key, {name, slot.qname_len});
  slot.case_spelled = true;
  return {name, slot.qname_len};
}

bool ShardReactor::AcceptSpelling(std::uint32_t index, std::uint8_t upstream, std::uint16_t txid,
                                  std::span<std::uint8_t> answer, bool cut) {
  InflightSlot& slot = inflight_[index];
  const bool current = slot.pending && upstream == slot.upstream && txid == slot.txid;
  const bool spelled = current ? slot.case_spelled : slot.prev_case_spelled;
  const std::uint32_t upstream_id = slot.forward->first_upstream + upstream;
  // MatchAnswer has checked the question: its name is at offset 12, as long as ours.
  const std::span<std::uint8_t> echoed = answer.subspan(wire::header::kSize, slot.qname_len);
  if (!spelled || wire::SpelledWithKey(echoed, slot.case_key)) {
    if (spelled && wire::HasBothCases(echoed)) cases_.Echoed(upstream_id, NowMs());
    // The client gets its own spelling back, whatever case the upstream used (the
    // answer's names compressed onto the question's take it too).
    const std::span<const std::uint8_t> asked = QnameOf(slot);
    std::copy(asked.begin(), asked.end(), echoed.begin());
    return true;
  }
  ++counters_.dropped_case_mismatch;
  // A late answer to the hedge proves little: the current attempt goes on.
  if (!current || slot.tcp_upstream) return false;
  // Truncated, genuine or not: over TCP at once, as any truncated answer (a forged one
  // costs one TCP exchange).
  if (cut || (wire::LoadU16(answer.data() + wire::header::kFlags) & wire::flag::kTc) != 0) {
    RetryOverTcp(index);
    return false;
  }
  const std::int64_t now = NowMs();
  const CaseRandomization::Fold fold = cases_.Folded(upstream_id, slot.case_folds, now);
  if (fold == CaseRandomization::Fold::kAskOverTcpFellBack) {
    // At most once per upstream per kPlainForMs, so never rate-limited away.
    error_log_.Write(
        absl::StrCat("upstream ", slot.forward->upstreams[upstream].ToString(),
                     " does not echo the question's case (DNS 0x20); it gets plain names for ",
                     CaseRandomization::kPlainForMs / 60000, " minutes"));
  }
  if (fold == CaseRandomization::Fold::kAskOverTcpStillTrusted) ++counters_.case_fallback_refused;
  if (fold != CaseRandomization::Fold::kAskAgain) {
    // Two folds by this upstream: the query is asked again over TCP, where no blind
    // forger can answer, rather than plain over UDP, where a forger who landed both
    // would need only port and ID once more.
    ++counters_.case_tcp_retries;
    slot.case_over_tcp = true;
    AskOverTcp(index);
    return false;
  }
  // Asked again from a fresh socket and ID with a fresh spelling, with a fresh attempt
  // timeout: the upstream did answer, this is no failure of its. The hedge, spelled with
  // the old key, is given up.
  slot.case_key = DrawCaseKey(slot);
  AskAgainOverUdp(index);
  return false;
}

void ShardReactor::AskPlainAfterFolds(std::uint32_t index) {
  InflightSlot& slot = inflight_[index];
  ++counters_.case_tcp_failures;
  slot.case_over_tcp = false;
  slot.case_plain_upstream = slot.forward->first_upstream + slot.upstream;
  BackToUdpAfterCheck(index);
}

}  // namespace ringdns::core
