#include "core/pipeline/any_stage.h"

#include <array>

#include "wire/bytes.h"
#include "wire/patch.h"

namespace ringdns::core {
namespace {

constexpr std::uint16_t kTypeAny = 255;
constexpr std::uint16_t kTypeHinfo = 13;
constexpr std::uint32_t kTtl = 8482;

// HINFO RDATA: two character-strings, CPU then OS (RFC 1035 section 3.3.2).
constexpr auto kRdata = [] {
  constexpr char kCpu[] = "ANY obsoleted";
  constexpr char kOs[] = "See RFC 8482";
  std::array<std::uint8_t, 2 + sizeof(kCpu) - 1 + sizeof(kOs) - 1> out{};
  std::size_t at = 0;
  out[at++] = sizeof(kCpu) - 1;
  for (std::size_t i = 0; i + 1 < sizeof(kCpu); ++i) out[at++] = static_cast<std::uint8_t>(kCpu[i]);
  out[at++] = sizeof(kOs) - 1;
  for (std::size_t i = 0; i + 1 < sizeof(kOs); ++i) out[at++] = static_cast<std::uint8_t>(kOs[i]);
  return out;
}();

}  // namespace

Verdict AnyStage::OnQuery(QueryContext& ctx) const noexcept {
  if (ctx.query.qtype != kTypeAny) return Verdict::kNext;
  const wire::LocalRecord hinfo{.type = kTypeHinfo, .ttl = kTtl, .rdata = kRdata};
  const wire::Result<std::size_t> len =
      wire::BuildLocalAnswer(ctx.message, ctx.query, {&hinfo, 1}, ctx.room);
  if (!len) return Verdict::kNext;  // cannot happen: a name is at most 255 octets
  ++ctx.counters.any_minimal;
  ctx.answer_len = *len;
  return Verdict::kAnswered;
}

}  // namespace ringdns::core
