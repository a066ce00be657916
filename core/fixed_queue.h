// core/fixed_queue.h: a first-in, first-out queue over storage fixed at construction.
//
// Push, Front and Pop are O(1) and never allocate; the capacity is the most the queue
// can ever hold, so the owner sizes it by what can be waiting at once. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace ringdns::core {

template <typename T>
class FixedQueue {
 public:
  explicit FixedQueue(std::uint32_t capacity = 0) : ring_(capacity) {}

  bool empty() const noexcept { return size_ == 0; }
  bool full() const noexcept { return size_ == ring_.size(); }
  std::uint32_t size() const noexcept { return size_; }
  // Precondition: !full().
  void Push(const T& item) noexcept {
    ring_[(head_ + size_) % ring_.size()] = item;
    ++size_;
  }
  // Precondition: !empty().
  T& Front() noexcept { return ring_[head_]; }
  void Pop() noexcept {
    head_ = (head_ + 1) % static_cast<std::uint32_t>(ring_.size());
    --size_;
  }

 private:
  std::vector<T> ring_;
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
};

}  // namespace ringdns::core
