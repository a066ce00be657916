// Fuzzes ParseQuery and everything the packet path does with a parsed query: the
// lookup key, the error answers written in place, and the query as it goes upstream
// (the client's COOKIE out, ringdns's in). Properties: views stay inside the input; an
// answer built from a parsed query parses as a response and matches it; the query sent
// upstream parses, with the same question and exactly ringdns's COOKIE.
#include <sys/uio.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/upstream/outgoing_query.h"
#include "dns_mutator.h"
#include "fuzz_check.h"
#include "wire/cookie.h"
#include "wire/message.h"
#include "wire/name.h"
#include "wire/patch.h"
#include "wire/response.h"

using namespace ringdns::wire;

#ifdef RINGDNS_LIBFUZZER
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned seed) {
  return ringdns::fuzz::MutateDns(data, size, max_size, seed, 0);
}
#endif

namespace {

// The client's COOKIE comes out as FillSlot takes it out; ringdns's goes in as
// SendToUpstream lays the query out: what is sent parses, asks the same question, and
// carries ringdns's COOKIE alone (unless a record follows the OPT, when it goes as is).
void CheckOutgoing(const std::vector<std::uint8_t>& input, const QueryView& q) {
  std::vector<std::uint8_t> query = input;
  OptView opt = q.opt;
  query.resize(DropOption(query, opt, edns::kOptionCookie));
  const bool others = LoadU16(query.data() + header::kArCount) != (opt.present() ? 1 : 0);
  const std::uint16_t opt_rdata = others          ? ringdns::core::kOptNotLast
                                  : opt.present() ? opt.rdata_offset
                                                  : ringdns::core::kNoOpt;
  const std::uint8_t ours[] = {0,  10, 0,  24, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                               11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};
  std::uint8_t scratch[ringdns::core::kOutgoingScratchSize];
  // Spelled apart or not (DNS 0x20), by the input's first octet: both layouts are fuzzed.
  const std::vector<std::uint8_t> name(input.begin() + header::kSize,
                                       input.begin() + header::kSize + q.qname_len);
  const std::span<const std::uint8_t> spelled =
      (input[0] & 1) != 0 ? std::span<const std::uint8_t>(name) : std::span<const std::uint8_t>();
  const ringdns::core::OutgoingQuery pieces =
      ringdns::core::LayOutQuery(query, q.qname_len, opt_rdata, spelled, ours, scratch);
  std::vector<std::uint8_t> sent;
  for (std::size_t i = 0; i < pieces.count; ++i) {
    const auto* part = static_cast<const std::uint8_t*>(pieces.parts[i].iov_base);
    sent.insert(sent.end(), part, part + pieces.parts[i].iov_len);
  }
  const Result<QueryView> upstream = ParseQuery(sent);
  FUZZ_CHECK(upstream);
  FUZZ_CHECK(upstream->qname_len == q.qname_len && upstream->qtype == q.qtype &&
             upstream->qclass == q.qclass);
  FUZZ_CHECK(std::memcmp(sent.data() + header::kSize, input.data() + header::kSize, q.qname_len) ==
             0);
  const FoundCookie cookie = FindCookie(sent, upstream->opt);
  if (opt_rdata == ringdns::core::kOptNotLast) {
    FUZZ_CHECK(sent == query);  // a TSIG stays last, its ARCOUNT as signed
    return;
  }
  FUZZ_CHECK(LoadU16(sent.data() + header::kArCount) == 1);
  FUZZ_CHECK(cookie.status == FoundCookie::Status::kOk);
  FUZZ_CHECK(std::memcmp(cookie.client.data(), ours + 4, 8) == 0 && cookie.server.size() == 16);
  FUZZ_CHECK(sent.size() == query.size() + sizeof ours +
                                (opt_rdata == ringdns::core::kNoOpt ? edns::kOptFixedSize : 0));
}

}  // namespace

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
  const Result<std::size_t> tc_len =
      BuildErrorAnswer(input, *q, {rcode::kNoError, false, ede::kOther, true}, out);
  FUZZ_CHECK(tc_len);
  const std::span<const std::uint8_t> truncated(out.data(), *tc_len);
  const Result<ResponseInfo> tc = WalkResponse(truncated);
  FUZZ_CHECK(tc && tc->truncated() && tc->rcode == rcode::kNoError);
  FUZZ_CHECK(tc->counts[0] == 0 && tc->counts[1] == 0 &&
             tc->counts[2] == (q->opt.present() ? 1 : 0));
  FUZZ_CHECK(MatchAnswer(truncated, q->id, q->opcode(), q->question(input)) == Error::kOk);
  CheckOutgoing(input, *q);
  return 0;
}
