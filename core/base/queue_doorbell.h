// core/base/queue_doorbell.h: the positions of a single-producer, single-consumer queue (the
// log and dnstap queues), and how its consumer thread sleeps and is woken. The
// consumer parks before it sleeps; the producer's next publish then rings an eventfd:
// one write(2) per park, never one per record while records keep coming.
//
// Both sides use seq_cst (the producer: its publish, then its look at the park flag;
// the consumer: its park, then its look at what is published), so either the consumer
// sees the record before it sleeps, or the producer sees it parked and rings.
#pragma once

#include <atomic>
#include <cstdint>

#include "ring/wake.h"

namespace ringdns::core {

class QueueDoorbell {
 public:
  // Producer: makes everything before `tail` visible, and rings a parked consumer.
  void Publish(std::uint64_t tail) noexcept {
    published_.store(tail, std::memory_order_seq_cst);
    if (parked_.load(std::memory_order_seq_cst) &&
        parked_.exchange(false, std::memory_order_relaxed))
      bell_.Signal();
  }
  // Producer: how far the consumer has taken (what it may write over before that).
  std::uint64_t consumed() const noexcept { return head_.load(std::memory_order_acquire); }

  // Consumer: where it stands, and how far records are published.
  std::uint64_t head() const noexcept { return head_.load(std::memory_order_relaxed); }
  std::uint64_t published() const noexcept { return published_.load(std::memory_order_acquire); }
  // Consumer: everything before `head` is taken; the producer may write over it.
  void Consume(std::uint64_t head) noexcept { head_.store(head, std::memory_order_release); }
  // Consumer, before it sleeps: asks for a ring at the next publish. False when a record
  // already waits (do not sleep then).
  bool Park() noexcept {
    parked_.store(true, std::memory_order_seq_cst);
    return published_.load(std::memory_order_seq_cst) == head_.load(std::memory_order_relaxed);
  }
  // Consumer: readable once rung (poll it); -1 when no eventfd could be had, and the
  // consumer must then look on a tick. Unring makes it quiet again.
  int fd() const noexcept { return bell_.fd(); }
  void Unring() const noexcept { bell_.Drain(); }

 private:
  ring::EventFd bell_;
  alignas(64) std::atomic<std::uint64_t> published_{0};
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<bool> parked_{false};
};

}  // namespace ringdns::core
