#include "core/upstream/outgoing_query.h"

#include <cstring>

namespace ringdns::core {
namespace {

iovec Piece(const std::uint8_t* data, std::size_t len) noexcept {
  return {const_cast<std::uint8_t*>(data), len};
}

}  // namespace

std::size_t OutgoingQuery::size() const noexcept {
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += parts[i].iov_len;
  return total;
}

OutgoingQuery LayOutQuery(std::span<std::uint8_t> query, std::size_t qname_len,
                          std::uint16_t opt_rdata, std::span<const std::uint8_t> spelled,
                          std::span<const std::uint8_t> cookie,
                          std::span<std::uint8_t, kOutgoingScratchSize> scratch) noexcept {
  OutgoingQuery out;
  if (opt_rdata == kOptNotLast) cookie = {};
  if (spelled.empty() && cookie.empty()) {
    out.parts[out.count++] = Piece(query.data(), query.size());
    return out;
  }
  const std::uint8_t* header = query.data();
  std::uint8_t* tail = scratch.data() + wire::header::kSize;
  if (!cookie.empty() && opt_rdata == kNoOpt) {
    std::memcpy(scratch.data(), query.data(), wire::header::kSize);
    wire::StoreU16(
        scratch.data() + wire::header::kArCount,
        static_cast<std::uint16_t>(wire::LoadU16(query.data() + wire::header::kArCount) + 1));
    header = scratch.data();
  }
  const std::size_t name_end = wire::header::kSize + qname_len;
  out.parts[out.count++] = Piece(header, wire::header::kSize);
  out.parts[out.count++] = spelled.empty() ? Piece(query.data() + wire::header::kSize, qname_len)
                                           : Piece(spelled.data(), spelled.size());
  if (cookie.empty()) {
    out.parts[out.count++] = Piece(query.data() + name_end, query.size() - name_end);
    return out;
  }
  if (opt_rdata == kNoOpt) {
    out.parts[out.count++] = Piece(query.data() + name_end, query.size() - name_end);
    wire::OptAnswer opt;
    // The client's 512 octets, and what this OPT and the COOKIE add to the answer: the
    // upstream shapes its answer as it would have for the client.
    opt.udp_size = wire::kClassicUdpSize + wire::edns::kOptFixedSize + wire::cookie::kMaxOptionSize;
    const std::size_t fixed = wire::WriteOpt(opt, tail);
    wire::StoreU16(tail + fixed - 2, static_cast<std::uint16_t>(cookie.size()));  // RDLENGTH
    std::memcpy(tail + fixed, cookie.data(), cookie.size());
    out.parts[out.count++] = Piece(tail, fixed + cookie.size());
    return out;
  }
  // The OPT is last: its RDLENGTH grows by the COOKIE, which goes first among its options.
  const std::size_t rdlength_at = opt_rdata - 2;
  out.parts[out.count++] = Piece(query.data() + name_end, rdlength_at - name_end);
  wire::StoreU16(tail, static_cast<std::uint16_t>(query.size() - opt_rdata + cookie.size()));
  std::memcpy(tail + 2, cookie.data(), cookie.size());
  out.parts[out.count++] = Piece(tail, 2 + cookie.size());
  out.parts[out.count++] = Piece(query.data() + opt_rdata, query.size() - opt_rdata);
  return out;
}

}  // namespace ringdns::core
