#include "core/cache/answer_log.h"

#include <algorithm>

namespace ringdns::core {

std::uint32_t AnswerLog::SegmentsFor(std::uint32_t records, std::size_t len) noexcept {
  if (records == 0) return 0;
  const std::uint64_t bytes = std::uint64_t{records} * RecordBytes(len);
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>((bytes + kSegmentBytes - 1) / kSegmentBytes + 1, kMaxSegments));
}

std::uint64_t AnswerLog::MemoryBound(std::uint32_t max_segments) noexcept {
  // The segments, then three tables of a 32-bit word per segment, each touched in pages.
  const std::uint64_t table_pages =
      (std::uint64_t{max_segments} * sizeof(std::uint32_t) + 4095) / 4096;
  return std::uint64_t{max_segments} * kSegmentBytes + 3 * table_pages * 4096;
}

AnswerLog::AnswerLog(std::uint32_t max_segments)
    : arena_(std::size_t{std::min(max_segments, kMaxSegments)} * kSegmentBytes),
      max_segments_(std::min(max_segments, kMaxSegments)),
      used_(max_segments_),
      queue_(max_segments_),
      free_(max_segments_) {}

std::uint32_t AnswerLog::Append(std::uint32_t owner,
                                std::span<const std::uint8_t> answer) noexcept {
  const std::uint32_t at = open_ * kSegmentBytes + used_[open_];
  const Header h{owner, static_cast<std::uint16_t>(answer.size()), 0};
  std::memcpy(arena_.data() + at, &h, sizeof h);
  std::memcpy(arena_.data() + at + kHeaderBytes, answer.data(), answer.size());
  used_[open_] = used_[open_] + RecordBytes(answer.size());
  return at;
}

void AnswerLog::QueueOpen() noexcept {
  if (open_ == kNone) return;
  if (used_[open_] == 0) {
    free_[free_count_++] = open_;
  } else {
    std::uint32_t tail = queue_head_ + queued_;
    if (tail >= max_segments_) tail -= max_segments_;
    queue_[tail] = open_;
    ++queued_;
  }
  open_ = kNone;
}

bool AnswerLog::OpenFree() noexcept {
  if (free_count_ == 0) return false;
  QueueOpen();
  open_ = free_[--free_count_];
  return true;
}

bool AnswerLog::OpenNew() noexcept {
  if (!CanGrow()) return false;
  QueueOpen();
  open_ = made_++;
  used_[open_] = 0;
  return true;
}

}  // namespace ringdns::core
