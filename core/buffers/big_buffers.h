// core/buffers/big_buffers.h: buffers for answers over TCP too large for a query buffer
// (up to 65535 octets, after the 2-octet length prefix a stream write puts before it).
// Few per shard: each is 64 KiB, reserved at Init and touched as used. Giving back more
// than were taken cannot happen (core/base/invariant.h; counted in `violations` in release
// builds). Thread affinity: the shard's thread.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/invariant.h"
#include "core/base/relaxed_counter.h"
#include "core/base/reserved.h"
#include "core/shard/shard_layout.h"

namespace ringdns::core {

class BigBuffers {
 public:
  static constexpr std::uint16_t kNone = 0xffff;

  explicit BigBuffers(RelaxedCounter& violations) : violations_(violations) {}

  void Init(std::uint16_t count) {
    taken_.assign(count, false);
    arena_ = ReservedBytes(std::size_t{count} * layout::kBigBufferSize);
    free_.reserve(count);
    for (std::uint32_t i = count; i-- > 0;) free_.push_back(static_cast<std::uint16_t>(i));
  }
  // A free buffer, or kNone when every one waits on a slow client.
  std::uint16_t Take() noexcept {
    if (free_.empty()) return kNone;
    const std::uint16_t id = free_.back();
    free_.pop_back();
    taken_[id] = true;
    return id;
  }
  bool available() const noexcept { return !free_.empty(); }
  void GiveBack(std::uint16_t id) noexcept {
    if (!RINGDNS_INVARIANT(id < taken_.size() && taken_[id])) {  // given back twice
      ++violations_;
      return;
    }
    taken_[id] = false;
    free_.push_back(id);  // never past its reserve
  }
  // The answer's first octet; layout::kBigPayloadOffset writable octets lie before it.
  std::uint8_t* Payload(std::uint16_t id) noexcept {
    return arena_.data() + std::size_t{id} * layout::kBigBufferSize + layout::kBigPayloadOffset;
  }

 private:
  RelaxedCounter& violations_;
  std::vector<bool> taken_;
  ReservedBytes arena_;
  std::vector<std::uint16_t> free_;
};

}  // namespace ringdns::core
