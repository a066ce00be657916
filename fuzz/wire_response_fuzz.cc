// Fuzzes the answer path: WalkResponse, MatchAnswer, the DNS 0x20 spelling check, in-place TTL
// capping (and the info the capping walk reports), dropping the COOKIE option, and UDP truncation.
// Properties, with the walk as reference: capping keeps the message valid with the same shape and
// makes the minimum TTL min(old, cap); dropping an option keeps it valid and leaves no
// such option; truncation yields a valid message within the limit, with TC.
#include <cstdint>
#include <cstring>
#include <vector>

#include "dns_mutator.h"
#include "fuzz_check.h"
#include "wire/cookie.h"
#include "wire/message.h"
#include "wire/name.h"
#include "wire/name_case.h"
#include "wire/response.h"

using namespace ringdns::wire;

#ifdef RINGDNS_LIBFUZZER
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned seed) {
  return ringdns::fuzz::MutateDns(data, size, max_size, seed, 2);
}
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first two octets choose the TTL cap and the truncation limit.
  if (size < 2) return 0;
  const std::uint32_t cap = std::uint32_t{data[0]} * 16;
  const std::size_t limit = 512 + std::size_t{data[1]} * 8;
  std::vector<std::uint8_t> msg(data + 2, data + size);

  const Result<ResponseInfo> info = WalkResponse(msg);
  if (info && info->has_question) {
    const Result<QueryView> q = ParseQuestion(msg);
    FUZZ_CHECK(q);
    FUZZ_CHECK(MatchAnswer(msg, q->id, q->opcode(), q->question(msg)) ==
               ((q->flags & flag::kQr) ? Error::kOk : Error::kNotResponse));
    // DNS 0x20: the name spelled with a key passes that key's check, is the same name
    // ignoring case, and flipping any one letter fails it.
    const std::span<const std::uint8_t> qname = q->qname(msg);
    const std::uint64_t key = std::uint64_t{data[0]} << 8 | data[1];
    NameStorage spelled;
    SpellWithKey(qname, key, spelled);
    const std::span<std::uint8_t> echo(spelled.data(), qname.size());
    FUZZ_CHECK(SpelledWithKey(echo, key));
    FUZZ_CHECK(NamesEqualIgnoreCase(echo, qname));
    for (std::uint8_t& c : echo) {
      if (((c | 0x20) < 'a') || ((c | 0x20) > 'z')) continue;
      c ^= 0x20;
      FUZZ_CHECK(!SpelledWithKey(echo, key));
      break;
    }
  }
  const Result<ResponseInfo> capped = WalkAndCapTtls(msg, cap);
  if (!info) return 0;
  FUZZ_CHECK(capped);

  // What the capping walk reports is what a fresh walk of the capped message finds.
  Result<ResponseInfo> after = WalkResponse(msg);
  FUZZ_CHECK(after);
  FUZZ_CHECK(capped->min_ttl == after->min_ttl);
  FUZZ_CHECK(capped->negative_ttl() == after->negative_ttl());
  FUZZ_CHECK(after->counts == info->counts);
  FUZZ_CHECK(after->rcode == info->rcode);
  if (info->min_ttl != kNoTtl) {
    FUZZ_CHECK(after->min_ttl == (info->min_ttl < cap ? info->min_ttl : cap));
  }

  // Without its cookie the message is still valid, keeps its shape, and the `info` the
  // edit maintained matches a fresh walk.
  const FoundCookie cookie = FindCookie(msg, after->opt());
  if (cookie.status == FoundCookie::Status::kOk) {
    FUZZ_CHECK(cookie.client.size() == cookie::kClientSize);
    FUZZ_CHECK(cookie.server.empty() || (cookie.server.size() >= cookie::kMinServerSize &&
                                         cookie.server.size() <= cookie::kMaxServerSize));
  }
  msg.resize(DropEdnsOption(msg, *after, edns::kOptionCookie));
  FUZZ_CHECK(FindCookie(msg, after->opt()).status == FoundCookie::Status::kNone);
  const Result<ResponseInfo> stripped = WalkResponse(msg);
  FUZZ_CHECK(stripped);
  FUZZ_CHECK(stripped->counts == info->counts);
  FUZZ_CHECK(stripped->opt().rdlength == after->opt().rdlength);
  ForEachOption(msg, stripped->opt(), [](std::uint16_t code, std::span<const std::uint8_t>) {
    FUZZ_CHECK(code != edns::kOptionCookie);
  });
  after = stripped;

  // Without the OPT (an answer to a client that sent none): still valid, one record less.
  std::vector<std::uint8_t> bare = msg;
  OptView opt = after->opt();
  bare.resize(DropOpt(bare, opt));
  if (bare.size() < msg.size()) {
    const Result<ResponseInfo> without = WalkResponse(bare);
    FUZZ_CHECK(without && !without->opt().present());
    FUZZ_CHECK(without->counts[2] + 1 == after->counts[2] &&
               without->counts[0] == after->counts[0]);
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
