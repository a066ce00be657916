// Fuzzes ParseQuery and everything the packet path does with a parsed query: the
// lookup key, and the error answers written in place. Properties: views stay inside the
// input; an answer built from a parsed query parses as a response and matches it.
#include <cstdint>
#include <cstring>
#include <vector>

#include "dns_mutator.h"
#include "fuzz_check.h"
#include "wire/message.h"
#include "wire/name.h"
#include "wire/patch.h"
#include "wire/response.h"

using namespace ringdns::wire;

#ifdef RINGDNS_LIBFUZZER
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                          unsigned seed) {
  return ringdns::fuzz::MutateDns(data, size, max_size, seed, 0);
}
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> input(data, data + size);
  const Result<QueryView> q = ParseQuery(input);
  std::vector<std::uint8_t> out(input.size() + 64);
  if (!q) {
    if (input.size() >= header::kSize) {
      const Result<std::size_t> len = BuildHeaderOnlyAnswer(input, rcode::kFormErr, out);
      FUZZ_CHECK(len && *len == header::kSize);
    }
    return 0;
  }
  FUZZ_CHECK(q->question_end <= input.size());
  FUZZ_CHECK(q->qname_len >= 1 && q->qname_len <= kMaxNameLen);
  if (q->opt.present()) FUZZ_CHECK(q->opt.end() <= input.size());

  NameStorage key;
  const std::size_t key_len = WriteLookupKey(q->qname(input), key);
  FUZZ_CHECK(key_len == q->qname_len);

  const Result<std::size_t> len =
      BuildErrorAnswer(input, *q, {rcode::kServFail, true, ede::kNetworkError}, out);
  FUZZ_CHECK(len);
  const std::span<const std::uint8_t> answer(out.data(), *len);
  const Result<ResponseInfo> info = WalkResponse(answer);
  FUZZ_CHECK(info);
  FUZZ_CHECK(info->rcode == rcode::kServFail);
  FUZZ_CHECK(MatchAnswer(answer, q->id, q->opcode(), q->question(input)) == Error::kOk);

  // The truncation ringdns relays when its own TCP retry fails: TC, NOERROR, no records.
  const Result<std::size_t> tc_len = BuildErrorAnswer(input, *q, {rcode::kNoError, false, ede::kOther, true}, out);
  FUZZ_CHECK(tc_len);
  const std::span<const std::uint8_t> truncated(out.data(), *tc_len);
  const Result<ResponseInfo> tc = WalkResponse(truncated);
  FUZZ_CHECK(tc && tc->truncated() && tc->rcode == rcode::kNoError);
  FUZZ_CHECK(tc->counts[0] == 0 && tc->counts[1] == 0 && tc->counts[2] == (q->opt.present() ? 1 : 0));
  FUZZ_CHECK(MatchAnswer(truncated, q->id, q->opcode(), q->question(input)) == Error::kOk);
  return 0;
}
