// core/base/fixed_queue.h: a first-in, first-out queue over storage fixed at construction.
//
// Push, Front and Pop are O(1) and never allocate; the capacity is the most the queue
// can ever hold, so the owner sizes it by what can be waiting at once. The storage is
// the queue's own, or the owner's (many queues carved from one arena that is touched
// only as they fill). Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace ringdns::core {

template <typename T>
class FixedQueue {
 public:
  explicit FixedQueue(std::uint32_t capacity = 0)
      : own_(capacity), ring_(own_.data()), capacity_(capacity) {}
  // Over `storage`, which outlives the queue. Its unwritten slots are never read.
  explicit FixedQueue(std::span<T> storage)
      : ring_(storage.data()), capacity_(static_cast<std::uint32_t>(storage.size())) {
    static_assert(std::is_trivially_copyable_v<T>);
  }
  FixedQueue(const FixedQueue&) = delete;
  FixedQueue& operator=(const FixedQueue&) = delete;
  // A vector's move keeps its storage; the moved-from queue is left empty, with none.
  FixedQueue(FixedQueue&& other) noexcept
      : own_(std::move(other.own_)),
        ring_(std::exchange(other.ring_, nullptr)),
        capacity_(std::exchange(other.capacity_, 0)),
        head_(std::exchange(other.head_, 0)),
        size_(std::exchange(other.size_, 0)) {}
  FixedQueue& operator=(FixedQueue&& other) noexcept {
    if (this != &other) {
      own_ = std::move(other.own_);
      ring_ = std::exchange(other.ring_, nullptr);
      capacity_ = std::exchange(other.capacity_, 0);
      head_ = std::exchange(other.head_, 0);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  bool empty() const noexcept { return size_ == 0; }
  bool full() const noexcept { return size_ == capacity_; }
  std::uint32_t size() const noexcept { return size_; }
  // Precondition: !full().
  void Push(const T& item) noexcept {
    ring_[(head_ + size_) % capacity_] = item;
    ++size_;
  }
  // Precondition: !empty().
  T& Front() noexcept { return ring_[head_]; }
  // Calls visit(item, is_front) for every queued item, oldest first.
  template <typename Visit>
  void ForEach(Visit&& visit) noexcept {
    for (std::uint32_t i = 0; i < size_; ++i) visit(ring_[(head_ + i) % capacity_], i == 0);
  }
  void Pop() noexcept {
    head_ = (head_ + 1) % capacity_;
    --size_;
  }

 private:
  std::vector<T> own_;
  T* ring_ = nullptr;
  std::uint32_t capacity_ = 0;
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
};

}  // namespace ringdns::core
