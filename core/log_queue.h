// core/log_queue.h: what a shard tells the logger thread about each answer it sent, for
// `log` and `errors`: a fixed-size record in a single-producer, single-consumer ring.
//
// The shard (producer) copies one record per answer and never waits: when the ring is
// full the record is dropped and counted. The logger thread (consumer) drains it on its
// own schedule and does all the formatting, filtering and writing.
//
// A consumer that found nothing to drain parks and sleeps; the next record committed
// rings a doorbell (an eventfd) to wake it. That is one write(2) by the producer per
// park, never per record while records keep coming.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "core/base/queue_doorbell.h"
#include "core/base/reserved.h"

namespace ringdns::core {

// Failures ringdns itself answered for (the `errors` plugin's lines).
enum class LogError : std::uint8_t {
  kNone = 0,
  kUpstreamsFailed,     // every attempt timed out or failed before the deadline
  kNoHealthyUpstreams,  // failfast_all_unhealthy_upstreams with every upstream down
  kNoForward,           // the block has no forward for the name
  kMaxConcurrent,       // above the forward's max_concurrent
  kSlotsFull,           // the shard's in-flight table was full
};

struct LogRecord {
  std::int64_t duration_us = 0;
  sockaddr_in6 remote{};  // the client, either family
  std::uint16_t block = 0;
  std::uint16_t id = 0;  // the client's
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::uint16_t size = 0;     // of the query
  std::uint16_t bufsize = 0;  // the client's UDP size (65535 over TCP)
  std::uint16_t flags = 0;    // of the answer: QR, opcode, AA, TC, RD, RA, AD, CD, RCODE
  std::uint16_t answers = 0;  // ANCOUNT of the answer
  std::uint16_t rsize = 0;    // of the answer
  bool tcp = false;
  bool do_bit = false;
  LogError error = LogError::kNone;
  std::uint8_t qname_len = 0;
  std::uint8_t qname[255];  // wire form, as the client spelled it
};

class LogQueue {
 public:
  explicit LogQueue(std::uint32_t capacity_pow2)
      : storage_(std::size_t{capacity_pow2} * sizeof(LogRecord)), mask_(capacity_pow2 - 1) {}

  // Producer: a record to fill and Commit, or nullptr when the ring is full.
  LogRecord* Reserve() noexcept {
    if (tail_ - head_seen_ > mask_) {
      head_seen_ = doorbell_.consumed();
      if (tail_ - head_seen_ > mask_) return nullptr;
    }
    return &records()[tail_ & mask_];
  }
  void Commit() noexcept { doorbell_.Publish(++tail_); }

  // Consumer: the sleeping side (core/base/queue_doorbell.h).
  bool Park() noexcept { return doorbell_.Park(); }
  int doorbell() const noexcept { return doorbell_.fd(); }
  void Unring() const noexcept { doorbell_.Unring(); }

  // Consumer: calls visit(record) for everything committed so far; returns how many.
  template <typename Visit>
  std::uint64_t Drain(Visit&& visit) {
    const std::uint64_t head = doorbell_.head();
    const std::uint64_t tail = doorbell_.published();
    for (std::uint64_t i = head; i != tail; ++i) visit(records()[i & mask_]);
    doorbell_.Consume(tail);
    return tail - head;
  }

 private:
  // An aggregate, so the zeroed pages hold records without constructing them (C++20's
  // implicit object creation): a page is touched when the first record lands on it.
  static_assert(std::is_aggregate_v<LogRecord>);
  LogRecord* records() noexcept { return reinterpret_cast<LogRecord*>(storage_.data()); }

  ReservedBytes storage_;
  const std::uint64_t mask_;
  QueueDoorbell doorbell_;  // the shared positions, each on its own cache line
  // Producer-only.
  std::uint64_t tail_ = 0;
  std::uint64_t head_seen_ = 0;
};

}  // namespace ringdns::core
