#include "core/pipeline/loadbalance_stage.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "wire/bytes.h"
#include "wire/record.h"
#include "wire/response.h"

namespace ringdns::core {
namespace {

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint16_t kTypeAxfr = 252;
constexpr std::uint16_t kTypeIxfr = 251;
// Addresses past this many in one answer keep their places (a bound for the stack array).
constexpr std::size_t kMaxAddresses = 64;

struct Address {
  std::uint16_t owner_offset;  // the owner name as written (a pointer or labels)
  std::uint16_t owner_len;
  std::uint16_t rdata_offset;
  std::uint16_t type;
  std::uint16_t rclass;
  wire::Section section;
};

bool SameRrset(std::span<const std::uint8_t> msg, const Address& a, const Address& b) noexcept {
  return a.section == b.section && a.type == b.type && a.rclass == b.rclass &&
         a.owner_len == b.owner_len &&
         std::memcmp(msg.data() + a.owner_offset, msg.data() + b.owner_offset, a.owner_len) == 0;
}

}  // namespace

void LoadbalanceStage::OnAnswer(AnswerContext& ctx) const noexcept {
  const std::span<std::uint8_t> msg = ctx.message;
  struct Found {
    std::array<Address, kMaxAddresses> at;
    std::size_t count = 0;
    bool signed_whole = false;  // TSIG or SIG(0): a MAC over these very octets
  } found;
  // One validating walk finds the addresses; nothing is edited in a message that is not
  // sound throughout.
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(
      msg,
      [](void* context, const wire::RecordView& r) {
        auto& f = *static_cast<Found*>(context);
        f.signed_whole = f.signed_whole || r.signs_message();
        const std::uint16_t size = r.type == kTypeA ? 4 : r.type == kTypeAaaa ? 16 : 0;
        if (size == 0 || r.rdlength != size || f.count == f.at.size()) return;
        const auto owner_len = static_cast<std::uint16_t>(r.ttl_offset - 4 - r.owner_offset);
        f.at[f.count++] = {r.owner_offset, owner_len, r.rdata_offset, r.type, r.rclass, r.section};
      },
      &found);
  if (!info || info->rcode != wire::rcode::kNoError || !info->has_question) return;
  if (info->question.qtype == kTypeAxfr || info->question.qtype == kTypeIxfr) return;
  if (found.signed_whole) return;  // shuffling would break the signature
  const std::size_t count = found.count;
  // Each RRset: gather its members, then shuffle their addresses.
  std::array<bool, kMaxAddresses> done{};
  std::array<std::uint16_t, kMaxAddresses> members;
  for (std::size_t i = 0; i < count; ++i) {
    if (done[i]) continue;
    std::size_t n = 0;
    for (std::size_t j = i; j < count; ++j) {
      if (!done[j] && SameRrset(msg, found.at[i], found.at[j])) {
        done[j] = true;
        members[n++] = static_cast<std::uint16_t>(j);
      }
    }
    const std::size_t size = found.at[i].type == kTypeA ? 4 : 16;
    for (std::size_t k = n; k > 1; --k) {
      const std::size_t pick = ctx.random.Below(static_cast<std::uint32_t>(k));
      if (pick == k - 1) continue;
      std::uint8_t* a = msg.data() + found.at[members[k - 1]].rdata_offset;
      std::uint8_t* b = msg.data() + found.at[members[pick]].rdata_offset;
      std::array<std::uint8_t, 16> tmp;
      std::memcpy(tmp.data(), a, size);
      std::memcpy(a, b, size);
      std::memcpy(b, tmp.data(), size);
    }
  }
}

}  // namespace ringdns::core
