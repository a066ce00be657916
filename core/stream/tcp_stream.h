// core/stream/tcp_stream.h: the two halves of a DNS-over-TCP stream (RFC 1035 section 4.2.2,
// RFC 7766), over storage the shard fixed at start-up.
//
// FrameReader collects received bytes and hands out each complete length-prefixed
// message in place; a message split across receives waits for the rest, and several
// in one receive come out one by one. SendQueue keeps what is to be written to the
// stream in order: one write is in flight at a time, because two writes in flight on
// one socket could interleave their bytes. Neither allocates. Shard-local.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "core/base/fixed_queue.h"
#include "wire/bytes.h"

namespace ringdns::core {

class FrameReader {
 public:
  FrameReader() = default;
  explicit FrameReader(std::span<std::uint8_t> storage) : storage_(storage) {}

  void Reset() noexcept { begin_ = end_ = 0; }

  // Where the next receive writes; never empty unless a message larger than the storage
  // is pending (Next reports kTooLarge first).
  std::span<std::uint8_t> Tail() noexcept {
    if (begin_ > 0 && (end_ == storage_.size() || begin_ == end_)) Compact();
    return storage_.subspan(end_);
  }
  void Commit(std::size_t received) noexcept { end_ += received; }

  enum class Status : std::uint8_t {
    kMessage,   // `message` is the next complete message
    kNeedMore,  // nothing complete yet
    kZeroLength,
    kTooLarge,  // the prefix announces more than the storage can ever hold
  };
  Status Next(std::span<std::uint8_t>& message) noexcept {
    const std::size_t have = end_ - begin_;
    if (have < 2) return Status::kNeedMore;
    const std::size_t len = wire::LoadU16(storage_.data() + begin_);
    if (len == 0) return Status::kZeroLength;
    if (len + 2 > storage_.size()) return Status::kTooLarge;
    if (have < len + 2) return Status::kNeedMore;
    message = storage_.subspan(begin_ + 2, len);
    return Status::kMessage;
  }
  // Drops the message Next returned.
  void Consume(const std::span<std::uint8_t>& message) noexcept { begin_ += message.size() + 2; }

  // Bytes of a message not yet complete are waiting.
  bool partial() const noexcept { return end_ > begin_; }
  // Received and not yet consumed.
  std::span<const std::uint8_t> Unread() const noexcept {
    return storage_.subspan(begin_, end_ - begin_);
  }

 private:
  void Compact() noexcept {
    std::memmove(storage_.data(), storage_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }

  std::span<std::uint8_t> storage_;
  std::size_t begin_ = 0;  // first byte not yet consumed
  std::size_t end_ = 0;    // one past the last byte received
};

// One write of the queue: `len` bytes at `data`, `sent` of them written so far, and
// whose buffer to give back when done (the shard's meaning of `owner` and `buffer`).
struct PendingWrite {
  const std::uint8_t* data = nullptr;
  std::uint32_t len = 0;
  std::uint32_t sent = 0;
  std::uint8_t owner = 0;
  std::uint16_t buffer = 0;
};

// The writes waiting on one stream, in order.
using SendQueue = FixedQueue<PendingWrite>;

}  // namespace ringdns::core
