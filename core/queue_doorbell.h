// core/queue_doorbell.h: how the consumer thread of a single-producer, single-consumer
// queue (the log and dnstap queues) sleeps and is woken. It parks before it sleeps; the
// producer's next publish then rings an eventfd: one write(2) per park, never one per
// record while records keep coming.
//
// Both sides use seq_cst (the producer: its publish, then RingIfParked; the consumer:
// Park, then its look at what is published), so either the consumer sees the record
// before it sleeps, or the producer sees it parked and rings.
#pragma once

#include <atomic>

#include "ring/wake.h"

namespace ringdns::core {

class QueueDoorbell {
 public:
  // Producer, right after publishing a record with a seq_cst store.
  void RingIfParked() noexcept {
    if (parked_.load(std::memory_order_seq_cst) && parked_.exchange(false, std::memory_order_relaxed)) bell_.Signal();
  }
  // Consumer, before it sleeps; it must then look (seq_cst) whether a record came.
  void Park() noexcept { parked_.store(true, std::memory_order_seq_cst); }
  // Consumer: readable once rung (poll it); -1 when no eventfd could be had, and the
  // consumer must then look on a tick. Unring makes it quiet again.
  int fd() const noexcept { return bell_.fd(); }
  void Unring() const noexcept { bell_.Drain(); }

 private:
  ring::EventFd bell_;
  alignas(64) std::atomic<bool> parked_{false};
};

}  // namespace ringdns::core
