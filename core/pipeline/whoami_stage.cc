#include "core/pipeline/whoami_stage.h"

#include <netinet/in.h>

#include <array>
#include <cstring>

#include "wire/bytes.h"
#include "wire/patch.h"

namespace ringdns::core {
namespace {

constexpr std::uint8_t kUdpLabel[] = {4, '_', 'u', 'd', 'p'};
constexpr std::uint8_t kTcpLabel[] = {4, '_', 't', 'c', 'p'};

}  // namespace

Verdict WhoamiStage::OnQuery(QueryContext& ctx) const noexcept {
  if (ctx.client == nullptr) return Verdict::kNext;  // cannot happen: every query has a sender
  std::array<std::uint8_t, 16> address{};
  std::size_t address_len = 0;
  std::uint16_t port_be = 0;  // network order, as SRV carries it
  if (ctx.client->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(ctx.client);
    std::memcpy(address.data(), &in->sin_addr, 4);
    address_len = 4;
    port_be = in->sin_port;
  } else if (ctx.client->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(ctx.client);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      std::memcpy(address.data(), in6->sin6_addr.s6_addr + 12, 4);
      address_len = 4;
    } else {
      std::memcpy(address.data(), in6->sin6_addr.s6_addr, 16);
      address_len = 16;
    }
    port_be = in6->sin6_port;
  } else {
    return Verdict::kNext;
  }
  // SRV RDATA: priority 0, weight 0, the port, target the root.
  std::array<std::uint8_t, 7> srv{};
  std::memcpy(srv.data() + 4, &port_be, 2);
  const std::span<const std::uint8_t> label =
      ctx.tcp ? std::span<const std::uint8_t>(kTcpLabel) : kUdpLabel;
  const wire::LocalRecord extra[] = {
      {.type = address_len == 4 ? wire::rrtype::kA : wire::rrtype::kAaaa,
       .ttl = 0,
       .rdata = {address.data(), address_len},
       .rclass = ctx.query.qclass},
      {.type = wire::rrtype::kSrv,
       .ttl = 0,
       .rdata = srv,
       .rclass = ctx.query.qclass,
       .owner_labels = label},
  };
  // `_udp.` before a name of 251 octets or more would pass 255: the SRV is left out then.
  const std::size_t records = ctx.query.qname_len + sizeof(kUdpLabel) <= wire::kMaxNameLen ? 2 : 1;
  const wire::Result<std::size_t> len =
      wire::BuildLocalAnswer(ctx.message, ctx.query, {}, ctx.room, std::span(extra).first(records));
  if (!len) return Verdict::kNext;  // cannot happen: a question and two records fit any room
  wire::SetAuthoritative(ctx.room);
  ++ctx.counters.whoami_answers;
  ctx.answer_len = *len;
  return Verdict::kAnswered;
}

}  // namespace ringdns::core
