// core/dnstap/tap_queue.h: what a shard tells the dnstap writer about each message it
// taps: a record of variable size (a fixed header, then the wire message with `full`)
// in a single-producer, single-consumer byte ring.
//
// The shard (producer) copies one record per event and never waits: when the ring has
// no room the record is dropped, and the caller counts it. The writer thread
// (consumer) encodes and sends on its own schedule. Records are laid end to end, each
// padded to 8 octets; one that does not fit before the end of the ring starts again at
// its beginning, behind a padding record, so every record is contiguous.
//
// A consumer that found nothing parks; the next record committed rings a doorbell (an
// eventfd), one write(2) per park, never per record while records keep coming.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "core/base/queue_doorbell.h"
#include "core/base/reserved.h"

namespace ringdns::core::dnstap {

// dnstap's Message.Type values ringdns writes, and its SocketProtocol values.
enum class MessageType : std::uint8_t {
  kClientQuery = 5,
  kClientResponse = 6,
  kForwarderQuery = 7,
  kForwarderResponse = 8,
};
enum class Protocol : std::uint8_t { kUdp = 1, kTcp = 2, kDot = 3 };

// An address and port as dnstap carries them; family 0 when unknown.
struct TapAddress {
  std::uint8_t family = 0;   // AF_INET or AF_INET6
  std::uint16_t port = 0;    // host order
  std::uint8_t ip[16] = {};  // 4 octets used for AF_INET
};

// A socket address as dnstap carries it; family 0 for anything but IPv4 and IPv6.
inline TapAddress ToTapAddress(const sockaddr* addr, socklen_t len) noexcept {
  TapAddress out;
  if (addr == nullptr) return out;
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    out.family = AF_INET;
    out.port = ntohs(in->sin_port);
    std::memcpy(out.ip, &in->sin_addr, 4);
  } else if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    out.family = AF_INET6;
    out.port = ntohs(in6->sin6_port);
    std::memcpy(out.ip, &in6->sin6_addr, 16);
  }
  return out;
}

struct TapRecord {
  std::uint32_t size = 0;  // of the whole record, padded to 8; set by the queue
  MessageType type = MessageType::kClientQuery;
  Protocol protocol = Protocol::kUdp;
  std::uint16_t block = 0;            // the server block whose dnstap directives take it
  std::int64_t query_time_us = 0;     // CLOCK_MONOTONIC
  std::int64_t response_time_us = 0;  // CLOCK_MONOTONIC; 0 for a query
  TapAddress query_address;           // the initiator (the client, as CoreDNS writes it)
  TapAddress response_address;        // the responder (ringdns's listener, or the upstream)
  std::uint32_t message_len = 0;      // octets following this header (0 without `full`)

  std::span<const std::uint8_t> message() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(this + 1), message_len};
  }
};
static_assert(sizeof(TapRecord) % 8 == 0);
static_assert(offsetof(TapRecord, size) == 0 && offsetof(TapRecord, type) < 8);

// A shard's ring when a block has `dnstap`: four records per forwarded query (about
// 100 octets each, plus the wire messages with `full`); the writer drains every 5 ms, so
// 1 MiB holds 50 ms at 20 000 forwarded queries a second with `full`. Touched as used.
inline constexpr std::size_t kShardTapQueueBytes = std::size_t{1} << 20;

class TapQueue {
 public:
  // `capacity` octets, a power of two, far larger than one record (65 535 + header).
  explicit TapQueue(std::size_t capacity) : storage_(capacity), mask_(capacity - 1) {}
  TapQueue(const TapQueue&) = delete;
  TapQueue& operator=(const TapQueue&) = delete;

  static constexpr std::uint32_t RecordSize(std::size_t message_len) noexcept {
    return static_cast<std::uint32_t>((sizeof(TapRecord) + message_len + 7) & ~std::size_t{7});
  }

  // Producer: copies `header` and `message` in and publishes them; false (nothing
  // written) when the ring has no room.
  bool Push(const TapRecord& header, std::span<const std::uint8_t> message) noexcept {
    const std::uint32_t size = RecordSize(message.size());
    const std::uint64_t offset = tail_ & mask_;
    const std::uint64_t before_end = mask_ + 1 - offset;
    const std::uint64_t skip = size <= before_end ? 0 : before_end;  // a padding record
    if (!Room(skip + size)) return false;
    if (skip != 0) {
      // As little as 8 octets may be left: a padding record is its size and type only.
      const auto pad_size = static_cast<std::uint32_t>(skip);
      std::memcpy(storage_.data() + offset, &pad_size, sizeof(pad_size));
      std::memcpy(storage_.data() + offset + offsetof(TapRecord, type), &kPad, sizeof(kPad));
    }
    std::uint8_t* at = storage_.data() + ((tail_ + skip) & mask_);
    TapRecord* record = ::new (static_cast<void*>(at)) TapRecord(header);
    record->size = size;
    record->message_len = static_cast<std::uint32_t>(message.size());
    if (!message.empty()) std::memcpy(at + sizeof(TapRecord), message.data(), message.size());
    tail_ += skip + size;
    doorbell_.Publish(tail_);
    return true;
  }

  // Consumer: the sleeping side (core/base/queue_doorbell.h).
  bool Park() noexcept { return doorbell_.Park(); }
  int doorbell() const noexcept { return doorbell_.fd(); }
  void Unring() const noexcept { doorbell_.Unring(); }

  // Consumer: calls visit(record) for each record committed so far, in order, while it
  // returns true; a record it refused stays for the next Drain. Returns how many it took.
  template <typename Visit>
  std::uint64_t Drain(Visit&& visit) {
    std::uint64_t head = doorbell_.head();
    const std::uint64_t tail = doorbell_.published();
    std::uint64_t taken = 0;
    while (head != tail) {
      const std::uint8_t* at = storage_.data() + (head & mask_);
      std::uint32_t size = 0;
      MessageType type{};
      std::memcpy(&size, at, sizeof(size));
      std::memcpy(&type, at + offsetof(TapRecord, type), sizeof(type));
      if (type != kPad) {
        if (!visit(*reinterpret_cast<const TapRecord*>(at))) break;
        ++taken;
      }
      head += size;
    }
    doorbell_.Consume(head);
    return taken;
  }

 private:
  static constexpr MessageType kPad = static_cast<MessageType>(0);

  bool Room(std::uint64_t bytes) noexcept {
    if (tail_ + bytes - head_seen_ <= mask_ + 1) return true;
    head_seen_ = doorbell_.consumed();
    return tail_ + bytes - head_seen_ <= mask_ + 1;
  }

  ReservedBytes storage_;
  const std::uint64_t mask_;
  QueueDoorbell doorbell_;  // the shared positions, each on its own cache line
  // Producer-only.
  std::uint64_t tail_ = 0;
  std::uint64_t head_seen_ = 0;
};

}  // namespace ringdns::core::dnstap
