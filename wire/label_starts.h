// wire/label_starts.h: the set of offsets where a label of an already validated name
// begins, so that a compression pointer can be required to point at one.
//
// RFC 1035 section 4.1.4 lets a pointer replace "a prior occurance of the same name".
// Backward-only pointers stop loops, but a pointer could still aim into a TTL or RDATA
// blob, so the bytes it reads as a name would change when ringdns ages TTLs in place.
// Requiring pointers to land on a label start of an earlier name closes that door.
// Lives on the stack (8 KiB at most); only the words the message needs are cleared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wire/bytes.h"

namespace ringdns::wire {

class LabelStarts {
 public:
  explicit LabelStarts(std::size_t msg_size) noexcept
      : words_((msg_size < kMaxMessageSize ? msg_size : kMaxMessageSize) / 64 + 1) {
    std::memset(bits_, 0, words_ * sizeof(std::uint64_t));
  }
  LabelStarts(const LabelStarts&) = delete;
  LabelStarts& operator=(const LabelStarts&) = delete;

  // Precondition: offset < the msg_size given at construction.
  void Add(std::size_t offset) noexcept { bits_[offset >> 6] |= std::uint64_t{1} << (offset & 63); }
  bool Contains(std::size_t offset) const noexcept {
    return (offset >> 6) < words_ && (bits_[offset >> 6] >> (offset & 63)) & 1;
  }

 private:
  std::size_t words_;
  std::uint64_t bits_[kMaxMessageSize / 64 + 1];  // only the first words_ are initialised
};

}  // namespace ringdns::wire
