// core/upstream/rtt_estimator.h: one upstream's round-trip estimate as one shard sees it,
// and the attempt timeout it gives (RFC 6298: SRTT and RTTVAR with gains 1/8 and 1/4,
// RTO = SRTT + 4 RTTVAR, doubled for each retransmission). Pure arithmetic, no clock.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ringdns::core {

class RttEstimator {
 public:
  // A measured round trip; negative ones (a clock step) are ignored.
  void Record(std::int64_t rtt_us) noexcept {
    if (rtt_us < 0) return;
    if (!measured_) {  // RFC 6298 2.2
      srtt_us_ = rtt_us;
      rttvar_us_ = rtt_us / 2;
      measured_ = true;
      return;
    }
    const std::int64_t error = srtt_us_ > rtt_us ? srtt_us_ - rtt_us : rtt_us - srtt_us_;
    rttvar_us_ += (error - rttvar_us_) / 4;  // RFC 6298 2.3, RTTVAR first
    srtt_us_ += (rtt_us - srtt_us_) / 8;
  }

  // How long an attempt waits for its answer after `earlier_attempts` earlier ones:
  // SRTT + 4 RTTVAR rounded up to a millisecond (read_timeout before any sample), at
  // least `floor_ms` (or read_timeout when that is shorter), doubled per earlier attempt
  // (RFC 6298 5.5), never past read_timeout.
  std::int64_t AttemptTimeoutMs(std::int64_t read_timeout_ms, std::int64_t floor_ms,
                                std::uint32_t earlier_attempts) const noexcept {
    std::int64_t timeout = measured_ ? (srtt_us_ + 4 * rttvar_us_ + 999) / 1000 : read_timeout_ms;
    timeout = std::clamp(timeout, std::min(floor_ms, read_timeout_ms), read_timeout_ms);
    timeout <<= std::min<std::uint32_t>(earlier_attempts, 6);
    return std::min(timeout, read_timeout_ms);
  }

  bool measured() const noexcept { return measured_; }
  std::int64_t srtt_us() const noexcept { return srtt_us_; }
  std::int64_t rttvar_us() const noexcept { return rttvar_us_; }

 private:
  std::int64_t srtt_us_ = 0;
  std::int64_t rttvar_us_ = 0;
  bool measured_ = false;
};

}  // namespace ringdns::core
