// core/dnstap/tap_writer.h: the thread that turns the shards' tapped records into
// dnstap frames for the collectors of one configuration.
//
// Shards push a TapRecord per tapped message into their own TapQueue and move on. This
// thread drains every queue every few milliseconds while records come, encodes each
// record once per `dnstap` directive of its block, and hands the frames to that
// directive's Collector (fstrm's I/O thread writes them). With nothing to drain it
// sleeps until a queue's doorbell rings. A collector whose queue is full makes this
// thread wait and retry; meanwhile the shards' rings absorb, and past their size drop
// and count (ringdns_dnstap_dropped_total): a shard never waits.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "core/dnstap/collector.h"
#include "core/dnstap/encoder.h"
#include "core/dnstap/tap_queue.h"
#include "ring/wake.h"

namespace ringdns::core::dnstap {

// One `dnstap` directive of a block, bound to its collector (shared by every directive,
// block and configuration that names the same socket).
struct Tap {
  std::shared_ptr<Collector> collector;
  TapLabels labels;
  bool full = false;
};

class TapWriter {
 public:
  // `taps[b]`: block b's directives. `queues` are the shards', outliving this.
  TapWriter(std::vector<std::vector<Tap>> taps, std::vector<TapQueue*> queues);
  ~TapWriter();  // hands on what the shards tapped last (if the collectors take it), stops
  TapWriter(const TapWriter&) = delete;
  TapWriter& operator=(const TapWriter&) = delete;

 private:
  void Run();
  // Returns how many records it took; sets waiting_ when a collector was full.
  std::uint64_t DrainOnce();
  // Submits `record` to its block's taps from `next` on; false, with `next` where to
  // resume, when a collector's queue is full.
  bool Take(const TapRecord& record, std::size_t& next, std::int64_t offset_us);

  const std::vector<std::vector<Tap>> taps_;
  const std::vector<TapQueue*> queues_;
  std::vector<std::size_t> resume_;  // per queue: the head record's next tap
  bool waiting_ = false;
  std::atomic<bool> stopping_{false};
  ring::EventFd stop_;
  std::thread thread_;
};

}  // namespace ringdns::core::dnstap
