#include "core/upstream/port_rotation.h"

#include <algorithm>
#include <utility>

namespace ringdns::core {

PortRotation::PortRotation(std::vector<std::uint8_t> family_of, std::int64_t lifetime_ms,
                           std::int64_t retire_for_ms)
    : family_of_(std::move(family_of)),
      retiring_since_(family_of_.size(), 0),
      replacing_(family_of_.size(), false),
      retire_for_ms_(retire_for_ms) {
  for (const std::uint8_t f : family_of_) ++sockets_in_[f];
  retiring_.reserve(family_of_.size());
  if (lifetime_ms > 0 && !family_of_.empty()) {
    period_ms_ =
        std::max<std::int64_t>(1, lifetime_ms / static_cast<std::int64_t>(family_of_.size()));
  }
}

void PortRotation::Replaced(std::uint32_t socket) noexcept {
  if (Serving(socket)) return;
  Serve(socket);
  // At most half the pool retires: a short walk, once per rotation.
  for (std::uint32_t& s : retiring_) {
    if (s != socket) continue;
    s = retiring_.back();
    retiring_.pop_back();
    return;
  }
}

void PortRotation::Serve(std::uint32_t socket) noexcept {
  if (Serving(socket)) return;
  retiring_since_[socket] = 0;
  replacing_[socket] = false;
  --retiring_in_[family_of_[socket]];
}

bool PortRotation::RetireNext(std::int64_t now) noexcept {
  const auto n = static_cast<std::uint32_t>(family_of_.size());
  for (std::uint32_t tries = 0; tries < n; ++tries) {
    const std::uint32_t socket = cursor_;
    cursor_ = (cursor_ + 1) % n;
    const std::uint8_t f = family_of_[socket];
    if (!Serving(socket) || (retiring_in_[f] + 1) * 2 > sockets_in_[f]) continue;
    retiring_since_[socket] = now;
    ++retiring_in_[f];
    retiring_.push_back(socket);  // never past the sockets' count: reserved
    next_due_ms_ = std::min(next_due_ms_, now + retire_for_ms_);
    return true;
  }
  return false;
}

}  // namespace ringdns::core
