#include "core/shard/tls_slots.h"

#include <utility>

#include "core/base/invariant.h"
#include "core/shard/shard_layout.h"

namespace ringdns::core {
using layout::kTlsCipherBuffer;

void TlsSlots::ReserveOnFirstUse() {
  if (!slots_.empty()) return;
  const std::uint32_t slots = clients_ + upstream_streams_;
  slots_.resize(slots);
  arena_ = ReservedBytes(std::size_t{slots} * 2 * kTlsCipherBuffer);
  free_.reserve(clients_);
  for (std::uint32_t i = slots; i-- > 0;) {
    slots_[i].cipher_in = arena_.data() + std::size_t{i} * 2 * kTlsCipherBuffer;
    slots_[i].cipher_out = slots_[i].cipher_in + kTlsCipherBuffer;
    if (i < clients_) free_.push_back(i);
  }
}

std::uint32_t TlsSlots::TakeForClient(bool handshake) {
  if (handshake && handshaking_ >= max_handshakes_) return kNoTls;
  ReserveOnFirstUse();
  if (free_.empty()) return kNoTls;
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

std::uint32_t TlsSlots::ForUpstream(std::uint32_t index) {
  if (index >= upstream_streams_) return kNoTls;
  ReserveOnFirstUse();
  return clients_ + index;
}

TlsConnection& TlsSlots::BeginHandshake(std::uint32_t slot) {
  TlsConnection& t = slots_[slot];
  t.out_len = t.out_sent = 0;
  ++handshaking_;
  return t;
}

TlsConnection& TlsSlots::Adopt(std::uint32_t slot, TlsSession session) {
  TlsConnection& t = slots_[slot];
  t.session = std::move(session);
  t.out_len = t.out_sent = 0;
  return t;
}

void TlsSlots::HandshakeDone() noexcept {
  if (RINGDNS_INVARIANT(handshaking_ > 0)) {
    --handshaking_;
  } else {
    ++*violations_;
  }
}

void TlsSlots::Release(std::uint32_t slot, bool mid_handshake) noexcept {
  if (mid_handshake) HandshakeDone();
  slots_[slot].session.Reset();
  if (slot < clients_) free_.push_back(slot);  // never past its reservation
}

std::uint32_t TlsSlots::free_for_clients() const noexcept {
  return slots_.empty() ? clients_ : static_cast<std::uint32_t>(free_.size());
}

}  // namespace ringdns::core
