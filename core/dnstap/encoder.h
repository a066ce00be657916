// core/dnstap/encoder.h: a tapped record as a dnstap protobuf (the payload of one
// Frame Streams data frame), encoded with protobuf-c from the schema in dnstap.proto.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/dnstap/tap_queue.h"

namespace ringdns::core::dnstap {

// What one `dnstap` directive adds to every message: CoreDNS's identity (the host name
// by default), version ("ringdns-VERSION" by default) and extra (empty: left out).
struct TapLabels {
  std::string identity;
  std::string version;
  std::string extra;
};

struct FreeDeleter {
  void operator()(void* p) const noexcept;
};

// A frame allocated with malloc(3): fstrm frees what it was handed once written.
struct Frame {
  std::unique_ptr<std::uint8_t, FreeDeleter> data;
  std::size_t size = 0;
};

// One `dnstap` directive's frames. With `full`, the wire message goes in as
// query_message (queries) or response_message (responses); without, it is left out, as
// CoreDNS does.
class FrameEncoder {
 public:
  FrameEncoder(const TapLabels& labels, bool full);
  // `realtime_offset_us` turns the record's CLOCK_MONOTONIC times into the Unix times
  // dnstap carries.
  Frame Encode(const TapRecord& record, std::int64_t realtime_offset_us) const;

 private:
  // The Dnstap message's own fields (identity, version, extra, type), packed once by
  // protobuf-c. A frame is these followed by the `message` field: protobuf fields may
  // come in any order, and protobuf-c then walks only the Message, once per frame.
  std::string labels_;
  bool full_;
};

// The same for a single record (tests).
Frame Encode(const TapRecord& record, const TapLabels& labels, bool full, std::int64_t realtime_offset_us);

// CLOCK_REALTIME minus CLOCK_MONOTONIC, now, in microseconds.
std::int64_t RealtimeOffsetUs() noexcept;

}  // namespace ringdns::core::dnstap
