// Fuzzes the answer path: WalkResponse, MatchAnswer, in-place TTL aging (and the info
// the aging walk reports) and UDP truncation. Properties, checked against the walk as reference: aging keeps the
// message valid with the same shape and lowers the minimum TTL by exactly the elapsed
// time (floored at zero); truncation yields a valid message within the limit, with TC.
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_check.h"
#include "wire/message.h"
#include "wire/response.h"

using namespace ringdns::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first two octets choose the aging time and the truncation limit.
  if (size < 2) return 0;
  const std::uint32_t elapsed = std::uint32_t{data[0]} * 16;
  const std::size_t limit = 512 + std::size_t{data[1]} * 8;
  std::vector<std::uint8_t> msg(data + 2, data + size);

  const Result<ResponseInfo> info = WalkResponse(msg);
  if (info && info->has_question) {
    const Result<QueryView> q = ParseQuestion(msg);
    FUZZ_CHECK(q);
    FUZZ_CHECK(MatchAnswer(msg, q->id, q->opcode(), q->question(msg)) ==
               ((q->flags & flag::kQr) ? Error::kOk : Error::kNotResponse));
  }
  const Result<ResponseInfo> aged = WalkAndAgeTtls(msg, elapsed);
  if (!info) return 0;
  FUZZ_CHECK(aged);

  // What the aging walk reports is what a fresh walk of the aged message finds.
  const Result<ResponseInfo> after = WalkResponse(msg);
  FUZZ_CHECK(after);
  FUZZ_CHECK(aged->min_ttl == after->min_ttl);
  FUZZ_CHECK(aged->negative_ttl() == after->negative_ttl());
  FUZZ_CHECK(after->counts == info->counts);
  FUZZ_CHECK(after->rcode == info->rcode);
  if (info->min_ttl != kNoTtl) {
    const std::uint32_t expected = info->min_ttl > elapsed ? info->min_ttl - elapsed : 0;
    FUZZ_CHECK(after->min_ttl == expected);
  }

  const std::size_t len = TruncateForUdp(msg, *after, limit);
  FUZZ_CHECK(len <= msg.size());
  if (len == msg.size()) return 0;
  FUZZ_CHECK(len <= limit);
  const std::span<const std::uint8_t> truncated(msg.data(), len);
  const Result<ResponseInfo> small = WalkResponse(truncated);
  FUZZ_CHECK(small);
  FUZZ_CHECK(small->truncated());
  FUZZ_CHECK(small->counts[0] == 0 && small->counts[1] == 0);
  return 0;
}
