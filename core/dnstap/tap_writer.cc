#include "core/dnstap/tap_writer.h"

#include <poll.h>
#include <pthread.h>

#include <utility>

namespace ringdns::core::dnstap {
namespace {

constexpr int kDrainEveryMs = 5;             // while records come
constexpr int kIdleSleepMs = 3'600'000;      // parked: a doorbell wakes it sooner
constexpr std::size_t kFrameOverhead = 256;  // a frame's octets beyond its wire message, at most

}  // namespace

TapWriter::TapWriter(std::vector<std::vector<Tap>> taps, std::vector<TapQueue*> queues)
    : taps_(std::move(taps)), queues_(std::move(queues)) {
  thread_ = std::thread([this] { Run(); });
}

TapWriter::~TapWriter() {
  stopping_.store(true, std::memory_order_relaxed);
  stop_.Signal();
  thread_.join();
  DrainOnce();  // what the shards tapped before they stopped
}

void TapWriter::Run() {
  ::pthread_setname_np(::pthread_self(), "dnstap-writer");  // for top -H and /proc
  // Without eventfds (none to spare) the thread looks every tick instead of sleeping.
  bool can_sleep = stop_.valid();
  std::vector<pollfd> polls{{stop_.fd(), POLLIN, 0}};
  for (TapQueue* queue : queues_) {
    polls.push_back({queue->doorbell(), POLLIN, 0});
    can_sleep = can_sleep && queue->doorbell() >= 0;
  }
  bool drained_some = true;
  while (!stopping_.load(std::memory_order_relaxed)) {
    int wait_ms = kDrainEveryMs;
    if (!drained_some && can_sleep) {
      bool parked = true;
      for (TapQueue* queue : queues_) parked = queue->Park() && parked;
      wait_ms = parked ? kIdleSleepMs : 0;
    }
    (void)::poll(polls.data(), polls.size(), wait_ms);
    for (std::size_t i = 1; i < polls.size(); ++i) {
      if (polls[i].revents != 0) queues_[i - 1]->Unring();
    }
    drained_some = DrainOnce() > 0;
  }
}

std::uint64_t TapWriter::DrainOnce() {
  const std::int64_t offset_us = RealtimeOffsetUs();
  std::uint64_t taken = 0;
  for (TapQueue* queue : queues_) {
    taken += queue->Drain([&](const TapRecord& record) {
      Take(record, offset_us);
      return true;
    });
  }
  return taken;
}

void TapWriter::Take(const TapRecord& record, std::int64_t offset_us) {
  if (record.block >= taps_.size()) return;
  for (const Tap& tap : taps_[record.block]) {
    // No encoding for a collector that would not take the frame (away, or far behind).
    if (tap.collector->Accepts(kFrameOverhead + record.message_len)) {
      tap.collector->Submit(tap.encoder.Encode(record, offset_us));
    }
  }
}

}  // namespace ringdns::core::dnstap
