// core/dnstap/tap_writer.h: the thread that turns the shards' tapped records into
// dnstap frames for the collectors of one configuration.
//
// Shards push a TapRecord per tapped message into their own TapQueue and move on. This
// thread drains every queue every few milliseconds while records come, encodes each
// record once per `dnstap` directive of its block, and hands the frames to that
// directive's Collector (fstrm's I/O thread writes them). With nothing to drain it
// sleeps until a queue's doorbell rings. A collector whose fstrm queue is full (away,
// or slower than ringdns taps) drops that frame and counts it
// (ringdns_dnstap_collector_dropped_total), so one stuck collector never holds the
// others; a writer that falls behind the shards leaves their rings full, and they drop
// and count (ringdns_dnstap_dropped_total). A shard never waits.
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
  FrameEncoder encoder;
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
  // Returns how many records it took.
  std::uint64_t DrainOnce();
  // Hands `record` to each of its block's directives' collectors.
  void Take(const TapRecord& record, std::int64_t offset_us);

  const std::vector<std::vector<Tap>> taps_;
  const std::vector<TapQueue*> queues_;
  std::atomic<bool> stopping_{false};
  ring::EventFd stop_;
  std::thread thread_;
};

}  // namespace ringdns::core::dnstap
