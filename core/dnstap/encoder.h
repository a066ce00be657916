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

// A frame in one malloc(3) block: its size in the first 8 octets, so whoever frees it
// (fstrm, through Frame::Free) can account for it, then the payload.
class Frame {
 public:
  explicit Frame(std::size_t size);  // throws std::bad_alloc
  std::uint8_t* data() noexcept { return block_.get() + kHeader; }
  const std::uint8_t* data() const noexcept { return block_.get() + kHeader; }
  std::size_t size() const noexcept { return size_; }
  // Hands the block over as its payload pointer, for Free.
  std::uint8_t* Release() noexcept { return block_.release() + kHeader; }
  // What a released payload holds, and giving it back.
  static std::size_t SizeOf(const void* payload) noexcept;
  static void Free(void* payload) noexcept;

 private:
  static constexpr std::size_t kHeader = 8;
  struct FreeBlock {
    void operator()(std::uint8_t* block) const noexcept;
  };
  std::unique_ptr<std::uint8_t, FreeBlock> block_;
  std::size_t size_;
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
  // Where a Message is packed before its frame is cut to size: as large as the largest.
  // One encoder is used by one thread at a time (its configuration's writer).
  std::unique_ptr<std::uint8_t[]> scratch_;
};

// The same for a single record (tests).
Frame Encode(const TapRecord& record, const TapLabels& labels, bool full,
             std::int64_t realtime_offset_us);

// CLOCK_REALTIME minus CLOCK_MONOTONIC, now, in microseconds.
std::int64_t RealtimeOffsetUs() noexcept;

}  // namespace ringdns::core::dnstap
