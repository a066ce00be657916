#include "core/pipeline/chaos_stage.h"

#include <algorithm>

#include "wire/name.h"
#include "wire/patch.h"

namespace ringdns::core {
namespace {

constexpr std::uint16_t kClassChaos = 3;
constexpr std::uint16_t kTypeTxt = 16;
// The config refuses authors past what one answer holds; this bounds the records built
// per query, on the stack.
constexpr std::size_t kMaxAuthors = 80;

// Wire names of the questions answered: "\7version\4bind\0" and so on.
constexpr std::string_view kVersionBind("\7version\4bind", 14);
constexpr std::string_view kVersionServer("\7version\6server", 16);
constexpr std::string_view kAuthorsBind("\7authors\4bind", 14);
constexpr std::string_view kHostnameBind("\10hostname\4bind", 15);
constexpr std::string_view kIdServer("\2id\6server", 11);

bool Is(std::span<const std::uint8_t> qname, std::string_view name) noexcept {
  return qname.size() == name.size() &&
         wire::NamesEqualIgnoreCase(
             qname, {reinterpret_cast<const std::uint8_t*>(name.data()), name.size()});
}

}  // namespace

ChaosStage::ChaosStage(std::string_view version, const std::vector<std::string>& authors,
                       std::string_view hostname) {
  auto add = [&](std::string_view text) {
    text = text.substr(0, 255);  // one character-string
    Piece piece{static_cast<std::uint32_t>(rdata_.size()),
                static_cast<std::uint16_t>(text.size() + 1)};
    rdata_.push_back(static_cast<std::uint8_t>(text.size()));
    rdata_.insert(rdata_.end(), text.begin(), text.end());
    return piece;
  };
  version_ = add(version);
  hostname_ = add(hostname);
  // Each author once (RFC 2181 section 5: no duplicate records in an RRset).
  for (std::size_t i = 0; i < authors.size() && authors_.size() < kMaxAuthors; ++i) {
    if (std::find(authors.begin(), authors.begin() + static_cast<std::ptrdiff_t>(i), authors[i]) ==
        authors.begin() + static_cast<std::ptrdiff_t>(i)) {
      authors_.push_back(add(authors[i]));
    }
  }
}

Verdict ChaosStage::OnQuery(QueryContext& ctx) const noexcept {
  if (ctx.query.qclass != kClassChaos || ctx.query.qtype != kTypeTxt) return Verdict::kNext;
  std::span<const Piece> pieces;
  if (Is(ctx.qname, kVersionBind) || Is(ctx.qname, kVersionServer)) {
    pieces = {&version_, 1};
  } else if (Is(ctx.qname, kHostnameBind) || Is(ctx.qname, kIdServer)) {
    pieces = {&hostname_, 1};
  } else if (Is(ctx.qname, kAuthorsBind)) {
    pieces = authors_;
  } else {
    return Verdict::kNext;
  }
  const auto record = [&](const Piece& piece) {
    return wire::LocalRecord{.type = kTypeTxt,
                             .ttl = 0,
                             .rdata = {rdata_.data() + piece.offset, piece.size},
                             .rclass = kClassChaos};
  };
  wire::Result<std::size_t> len = wire::Error::kBufferTooSmall;
  if (pieces.size() == 1) {
    const wire::LocalRecord one = record(pieces[0]);
    len = wire::BuildLocalAnswer(ctx.message, ctx.query, {&one, 1}, ctx.room);
  } else {
    std::array<wire::LocalRecord, kMaxAuthors> records;
    for (std::size_t i = 0; i < pieces.size(); ++i) records[i] = record(pieces[i]);
    len = wire::BuildLocalAnswer(ctx.message, ctx.query, {records.data(), pieces.size()}, ctx.room);
  }
  if (!len) return Verdict::kNext;  // cannot happen: the config bounds the authors
  ++ctx.counters.chaos_answers;
  ctx.answer_len = *len;
  return Verdict::kAnswered;
}

}  // namespace ringdns::core
