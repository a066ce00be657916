// core/upstream/port_rotation.h: when each of a shard's upstream UDP sockets gives up its
// port for a fresh one (RFC 5452). A port that never changes gives an attacker who learns
// it (by making ringdns query a server the attacker runs) all the time in the world to
// race answers against it.
//
// Every `lifetime / sockets` one socket retires, taking turns in socket order (so every
// socket serves about `lifetime` between two ports); turns missed while the owner slept
// are taken together on its next Tick. A retiring socket takes no new
// query; once every query that could wait on it is past its deadline (`retire_for`), the
// owner replaces it by a socket on a fresh port, and it serves again. At most half of a
// family's sockets retire at once, so a random serving socket is always near.
// Pure bookkeeping with no clock and no socket: the owner does the I/O. A Tick costs a
// comparison unless a retiring socket is due.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ringdns::core {

class PortRotation {
 public:
  // What the owner did with a retiring socket whose wait is over.
  enum class Step : std::uint8_t {
    kReplaced,   // a fresh socket is in place: it serves again
    kReplacing,  // under way (its receive is being cancelled): Replaced() follows
    kKeep,       // no fresh socket could be had: the old one serves on
    kLater,      // not now (no submission room): ask again next Tick
  };

  PortRotation() = default;
  // `family_of`: per socket, its address family's index (0 or 1). `lifetime_ms` <= 0:
  // no rotation.
  PortRotation(std::vector<std::uint8_t> family_of, std::int64_t lifetime_ms,
               std::int64_t retire_for_ms);

  // Whether `socket` takes new queries.
  bool Serving(std::uint32_t socket) const noexcept { return retiring_since_[socket] == 0; }

  // Every loop turn: calls replace(socket) -> Step for each retiring socket whose wait is
  // over, and retires the next socket when its turn has come.
  template <typename Replace>
  void Tick(std::int64_t now_ms, Replace&& replace);

  // A replacement reported as kReplacing is in place.
  void Replaced(std::uint32_t socket) noexcept;

  std::uint32_t retiring() const noexcept { return retiring_in_[0] + retiring_in_[1]; }

 private:
  void Serve(std::uint32_t socket) noexcept;
  // Retires the next serving socket, in turn, whose family has room; false when none has.
  bool RetireNext(std::int64_t now_ms) noexcept;

  std::vector<std::uint8_t> family_of_;
  std::vector<std::int64_t> retiring_since_;  // per socket; 0: serving
  std::vector<bool> replacing_;               // per socket: kReplacing reported
  std::vector<std::uint32_t> retiring_;       // each retiring socket once, in no order
  std::uint32_t sockets_in_[2] = {0, 0};
  std::uint32_t retiring_in_[2] = {0, 0};
  std::uint32_t cursor_ = 0;
  std::int64_t period_ms_ = 0;
  std::int64_t retire_for_ms_ = 0;
  std::int64_t next_ms_ = 0;
  static constexpr std::int64_t kNever = INT64_MAX;
  std::int64_t next_due_ms_ = kNever;  // no retiring socket is due before this
};

template <typename Replace>
void PortRotation::Tick(std::int64_t now, Replace&& replace) {
  if (period_ms_ <= 0) return;
  if (now >= next_due_ms_) {
    // Something may be due: one pass over the retiring sockets, which also learns when
    // the next one will be (most turns skip this).
    next_due_ms_ = kNever;
    for (std::size_t k = 0; k < retiring_.size();) {
      const std::uint32_t socket = retiring_[k];
      const std::int64_t due = retiring_since_[socket] + retire_for_ms_;
      Step step = Step::kLater;
      if (!Serving(socket) && !replacing_[socket] && now >= due) step = replace(socket);
      if (step == Step::kReplaced || step == Step::kKeep) Serve(socket);
      if (step == Step::kReplacing) replacing_[socket] = true;
      if (k >= retiring_.size() || retiring_[k] != socket) continue;  // Replaced() unlisted it
      if (Serving(socket)) {
        retiring_[k] = retiring_.back();
        retiring_.pop_back();
        continue;
      }
      if (!replacing_[socket]) next_due_ms_ = std::min(next_due_ms_, now >= due ? now + 1 : due);
      ++k;
    }
  }
  if (next_ms_ == 0) next_ms_ = now + period_ms_;
  if (now < next_ms_) return;
  // One retirement per period that has passed: a loop that slept while idle catches up
  // at once (at most half of each family retires all the same).
  const std::int64_t turns = 1 + (now - next_ms_) / period_ms_;
  next_ms_ += turns * period_ms_;
  for (std::int64_t t = 0; t < turns; ++t) {
    if (!RetireNext(now)) break;
  }
}

}  // namespace ringdns::core
