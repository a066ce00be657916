#include "core/shard/tap_recorder.h"

namespace ringdns::core {

void TapRecorder::Init() {
  for (const auto& block : routes_.blocks) {
    if (block.taps() && !queue_)
      queue_ = std::make_unique<dnstap::TapQueue>(dnstap::kShardTapQueueBytes);
  }
}

dnstap::TapAddress TapRecorder::ClientAddress(std::uint32_t conn, std::uint16_t conn_generation,
                                              const sockaddr* addr,
                                              socklen_t addr_len) const noexcept {
  if (conn == kNoConn) return dnstap::ToTapAddress(addr, addr_len);
  const Stream& s = streams_[conn];
  if (s.generation != conn_generation) return {};
  return dnstap::ToTapAddress(reinterpret_cast<const sockaddr*>(&s.peer), s.peer_len);
}

void TapRecorder::Push(const dnstap::TapRecord& record,
                       std::span<const std::uint8_t> message) noexcept {
  if (!queue_->Push(record, routes_.blocks[record.block].dnstap_full
                                ? message
                                : std::span<const std::uint8_t>{})) {
    ++dropped_;
  }
}

void TapRecorder::ClientRecord(dnstap::MessageType type, const Client& client,
                               const SockAddr& local, std::span<const std::uint8_t> message,
                               std::int64_t now_us) noexcept {
  dnstap::TapRecord r;
  r.type = type;
  r.protocol = !client.tcp()                         ? dnstap::Protocol::kUdp
               : streams_[client.conn].tls != kNoTls ? dnstap::Protocol::kDot
                                                     : dnstap::Protocol::kTcp;
  r.block = client.block;
  r.query_time_us = client.start_us;
  r.response_time_us = now_us;  // 0 for the query
  r.query_address =
      ClientAddress(client.conn, client.conn_generation, client.addr, client.addr_len);
  r.response_address = dnstap::ToTapAddress(local.get(), local.len);
  Push(r, message);
}

dnstap::TapRecord TapRecorder::ForwarderRecord(const InflightSlot& slot,
                                               std::uint8_t upstream) const noexcept {
  dnstap::TapRecord r;
  r.protocol = !slot.tcp_upstream             ? dnstap::Protocol::kUdp
               : slot.forward->tls != nullptr ? dnstap::Protocol::kDot
                                              : dnstap::Protocol::kTcp;
  r.block = static_cast<std::uint16_t>(slot.forward->block);  // a refresh has no client block
  // As CoreDNS's forward writes them: the client asked (query_address), the upstream
  // answers (response_address).
  r.query_address = ClientAddress(slot.conn, slot.conn_generation,
                                  reinterpret_cast<const sockaddr*>(&slot.client), slot.client_len);
  const SockAddr& to = slot.forward->upstreams[upstream];
  r.response_address = dnstap::ToTapAddress(to.get(), to.len);
  return r;
}

void TapRecorder::ForwarderQuery(const InflightSlot& slot, std::span<const std::uint8_t> query,
                                 std::int64_t now_us) noexcept {
  dnstap::TapRecord r = ForwarderRecord(slot, slot.upstream);
  r.type = dnstap::MessageType::kForwarderQuery;
  r.query_time_us = now_us;
  Push(r, query);
}

void TapRecorder::ForwarderResponse(const InflightSlot& slot, std::uint8_t upstream,
                                    std::span<const std::uint8_t> answer,
                                    std::int64_t now_us) noexcept {
  dnstap::TapRecord r = ForwarderRecord(slot, upstream);
  r.type = dnstap::MessageType::kForwarderResponse;
  r.query_time_us = slot.sent_us;
  r.response_time_us = now_us;
  Push(r, answer);
}

}  // namespace ringdns::core
