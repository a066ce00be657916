// core/cache/answer_log.h: where a cache keeps its answers, each in as many octets as it
// has.
//
// Answers are records (an 8-octet header, then the answer, padded to 8) appended to 4 KiB
// segments, so a 90-octet answer takes 104 octets where a fixed slot would take 1 232.
// Segments are made as the log fills, up to a count fixed at start, and their pages are
// touched as they are written: the log's memory follows the answers it holds and its
// bound holds by construction. Full segments queue oldest first. The owner frees room by
// cleaning the oldest: it decides, record by record, which stay (CLOCK's second chance),
// and may stop between records and go on later, so that it evicts one entry at a time.
// Once all are decided, those still wanted are packed at the front and the segment is
// appended to again, as the newest.
// Shard-local; nothing is allocated after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "core/base/reserved.h"

namespace ringdns::core {

class AnswerLog {
 public:
  // A page: eviction takes a segment's worth of entries at a time, so segments are small.
  static constexpr std::uint32_t kSegmentBytes = 4096;
  static constexpr std::uint32_t kHeaderBytes = 8;

  // The octets a record of an answer of `len` octets takes in a segment.
  static constexpr std::uint32_t RecordBytes(std::size_t len) noexcept {
    return static_cast<std::uint32_t>((kHeaderBytes + len + 7) & ~std::size_t{7});
  }
  // A record's position is an octet offset in 32 bits: the log stays under 4 GiB.
  static constexpr std::uint32_t kMaxSegments = (1u << 20) - 1;

  // Segments for `records` records of `len` octets each, counted in octets (a segment's
  // tail that a record does not fit is not counted), plus the open one; at most
  // kMaxSegments.
  static std::uint32_t SegmentsFor(std::uint32_t records, std::size_t len) noexcept;
  static std::uint64_t MemoryBound(std::uint32_t max_segments) noexcept;

  AnswerLog() = default;
  explicit AnswerLog(std::uint32_t max_segments);  // precondition: <= kMaxSegments

  // Whether the open segment has room for an answer of `len` octets.
  bool Fits(std::size_t len) const noexcept {
    return open_ != kNone && used_[open_] + RecordBytes(len) <= kSegmentBytes;
  }
  // Appends a record owned by `owner`; precondition: Fits(answer.size()). Returns where
  // the record is, for Answer and for recognising it when it is cleaned.
  std::uint32_t Append(std::uint32_t owner, std::span<const std::uint8_t> answer) noexcept;
  std::span<const std::uint8_t> Answer(std::uint32_t at) const noexcept {
    const Header h = HeaderAt(at);
    return {arena_.data() + at + kHeaderBytes, h.len};
  }

  // Queues the open segment (if it holds anything) and opens one taken from the free
  // segments; false when there is none.
  bool OpenFree() noexcept;
  // As OpenFree, with a segment never used before; false when every one is made.
  bool OpenNew() noexcept;
  bool CanGrow() const noexcept { return made_ < max_segments_; }

  // Visits the oldest queued segment's records: visit(owner, at, record_bytes). Read
  // only; nothing when no segment is queued.
  template <typename Visit>
  void ForEachInOldest(Visit&& visit) const noexcept {
    if (queued_ == 0) return;
    const std::uint32_t segment = queue_[queue_head_];
    for (std::uint32_t off = 0; off < used_[segment];) {
      const std::uint32_t at = segment * kSegmentBytes + off;
      const Header h = HeaderAt(at);
      visit(h.owner, at, RecordBytes(h.len));
      off += RecordBytes(h.len);
    }
  }

  // Cleans the oldest segment, record by record in order, from where the last call
  // stopped: decide(owner, at, record_bytes) is told of each (its owner keeps or frees
  // it), and the call stops early once done() holds. Once every record is decided, the
  // segment is packed (the records for which alive(owner, at) holds are kept,
  // moved(owner, new_at) told of each) and opened as the newest, the open one queued
  // first. When nothing is queued the open segment is queued to be cleaned. Returns
  // false when the log is empty.
  template <typename Decide, typename Done, typename Alive, typename Moved>
  bool CleanOldest(Decide&& decide, Done&& done, Alive&& alive, Moved&& moved) noexcept {
    if (queued_ == 0) QueueOpen();
    if (queued_ == 0) return false;
    const std::uint32_t segment = queue_[queue_head_];
    const std::uint32_t base = segment * kSegmentBytes;
    while (cursor_ < used_[segment]) {
      if (done()) return true;
      const Header h = HeaderAt(base + cursor_);
      decide(h.owner, base + cursor_, RecordBytes(h.len));
      cursor_ += RecordBytes(h.len);
    }
    // Every record decided: the segment leaves the head of the queue and is packed.
    queue_head_ = queue_head_ + 1 == max_segments_ ? 0 : queue_head_ + 1;
    --queued_;
    cursor_ = 0;
    QueueOpen();
    std::uint32_t write = 0;
    for (std::uint32_t read = 0; read < used_[segment];) {
      const Header h = HeaderAt(base + read);
      const std::uint32_t bytes = RecordBytes(h.len);
      if (alive(h.owner, base + read)) {
        if (write != read)
          std::memmove(arena_.data() + base + write, arena_.data() + base + read, bytes);
        moved(h.owner, base + write);
        write += bytes;
      }
      read += bytes;
    }
    used_[segment] = write;
    open_ = segment;
    return true;
  }

  // Octets of the oldest queued segment already decided by a clean that stopped early.
  std::uint32_t oldest_decided() const noexcept { return cursor_; }
  std::uint32_t segments_made() const noexcept { return made_; }
  std::uint32_t segments_queued() const noexcept { return queued_; }
  std::uint32_t max_segments() const noexcept { return max_segments_; }

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  struct Header {
    std::uint32_t owner;
    std::uint16_t len;
    std::uint16_t unused;
  };
  static_assert(sizeof(Header) == kHeaderBytes);
  Header HeaderAt(std::uint32_t at) const noexcept {
    Header h;
    std::memcpy(&h, arena_.data() + at, sizeof h);
    return h;
  }
  // The open segment goes to the back of the queue, or back to the free ones if empty.
  void QueueOpen() noexcept;

  ReservedBytes arena_;
  std::uint32_t max_segments_ = 0;
  std::uint32_t made_ = 0;
  std::uint32_t open_ = kNone;
  // Octets written in each segment made.
  BlankTable<std::uint32_t, 0> used_;
  // Full segments, oldest first: a ring of `max_segments_`.
  BlankTable<std::uint32_t, 0> queue_;
  std::uint32_t queue_head_ = 0;
  std::uint32_t queued_ = 0;
  // Octets of the oldest queued segment a clean has decided, when it stopped early.
  std::uint32_t cursor_ = 0;
  // Segments made and holding nothing: a stack.
  BlankTable<std::uint32_t, 0> free_;
  std::uint32_t free_count_ = 0;
};

}  // namespace ringdns::core
