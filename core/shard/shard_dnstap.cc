// Shard: what it hands the dnstap writer (core/dnstap/): each client query and answer,
// each query sent upstream (every attempt, answered or not) and each upstream answer,
// of a block with `dnstap`. A record is copied into the
// shard's TapQueue and the shard moves on; a full queue drops it and counts.
#include "core/shard/shard.h"

namespace ringdns::core {

dnstap::TapAddress Shard::TapClientAddress(std::uint32_t conn, std::uint16_t conn_generation,
                                           const sockaddr* addr,
                                           socklen_t addr_len) const noexcept {
  if (conn == kNoConn) return dnstap::ToTapAddress(addr, addr_len);
  const Stream& s = streams_[conn];
  if (s.generation != conn_generation) return {};
  return dnstap::ToTapAddress(reinterpret_cast<const sockaddr*>(&s.peer), s.peer_len);
}

void Shard::Tap(const dnstap::TapRecord& record, std::span<const std::uint8_t> message) noexcept {
  if (!tap_queue_->Push(record, routes_.blocks[record.block].dnstap_full
                                    ? message
                                    : std::span<const std::uint8_t>{})) {
    ++counters_.dnstap_dropped;
  }
}

void Shard::TapClient(dnstap::MessageType type, const Client& client,
                      std::span<const std::uint8_t> message) noexcept {
  dnstap::TapRecord r;
  r.type = type;
  r.protocol = !client.tcp()                         ? dnstap::Protocol::kUdp
               : streams_[client.conn].tls != kNoTls ? dnstap::Protocol::kDot
                                                     : dnstap::Protocol::kTcp;
  r.block = client.block;
  r.query_time_us = client.start_us;
  if (type == dnstap::MessageType::kClientResponse) r.response_time_us = NowUs();
  r.query_address =
      TapClientAddress(client.conn, client.conn_generation, client.addr, client.addr_len);
  const SockAddr& local = routes_.listeners[listeners_[client.listener].spec].address;
  r.response_address = dnstap::ToTapAddress(local.get(), local.len);
  Tap(r, message);
}

dnstap::TapRecord Shard::ForwarderRecord(const InflightSlot& slot,
                                         std::uint8_t upstream) const noexcept {
  dnstap::TapRecord r;
  r.protocol = !slot.tcp_upstream             ? dnstap::Protocol::kUdp
               : slot.forward->tls != nullptr ? dnstap::Protocol::kDot
                                              : dnstap::Protocol::kTcp;
  r.block = static_cast<std::uint16_t>(slot.forward->block);  // a refresh has no client block
  // As CoreDNS's forward writes them: the client asked (query_address), the upstream
  // answers (response_address).
  r.query_address =
      TapClientAddress(slot.conn, slot.conn_generation,
                       reinterpret_cast<const sockaddr*>(&slot.client), slot.client_len);
  const SockAddr& to = slot.forward->upstreams[upstream];
  r.response_address = dnstap::ToTapAddress(to.get(), to.len);
  return r;
}

void Shard::TapForwarderQuery(const InflightSlot& slot) noexcept {
  dnstap::TapRecord r = ForwarderRecord(slot, slot.upstream);
  r.type = dnstap::MessageType::kForwarderQuery;
  r.query_time_us = NowUs();
  Tap(r, {query_buffers_.Payload(slot.query_buffer), slot.query_len});
}

void Shard::TapForwarderResponse(const InflightSlot& slot, std::uint8_t upstream,
                                 std::span<const std::uint8_t> answer) noexcept {
  dnstap::TapRecord r = ForwarderRecord(slot, upstream);
  r.type = dnstap::MessageType::kForwarderResponse;
  r.query_time_us = slot.sent_us;
  r.response_time_us = NowUs();
  Tap(r, answer);
}

}  // namespace ringdns::core
