// core/base/random.h: unpredictable numbers for TXIDs and upstream choice (RFC 5452).
//
// Draws from the kernel's CSPRNG (getrandom) in 4 KiB batches, so a TXID costs a load
// from a buffer and one syscall per 2048 of them. Shard-local: not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace ringdns::core {

class RandomPool {
 public:
  RandomPool() { Refill(); }

  std::uint16_t Next16() noexcept {
    if (pos_ + 2 > bytes_.size()) Refill();
    const std::uint16_t v = static_cast<std::uint16_t>(bytes_[pos_] | (bytes_[pos_ + 1] << 8));
    pos_ += 2;
    return v;
  }
  std::uint64_t Next64() noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 16) | Next16();
    return v;
  }
  // Uniform in [0, bound) for bound <= 65536, without modulo bias.
  std::uint32_t Below(std::uint32_t bound) noexcept {
    if (bound <= 1) return 0;
    const std::uint32_t limit = 65536 - (65536 % bound);
    while (true) {
      const std::uint32_t v = Next16();
      if (v < limit) return v % bound;
    }
  }

 private:
  void Refill() noexcept;

  std::array<std::uint8_t, 4096> bytes_{};
  std::size_t pos_ = 0;
};

}  // namespace ringdns::core
