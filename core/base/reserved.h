// core/base/reserved.h: memory reserved in full at start and touched only as it is used.
//
// Every pool in a shard has a capacity fixed at start, so its bound holds by
// construction. Paying for it before the first query is not required by that: these
// map their capacity as anonymous memory, which the kernel backs with a page only when
// the page is first written. An idle shard then holds what it has used, and a busy one
// grows to its configured size and never past it, without allocating after start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace ringdns::core {

namespace reserved_detail {
// Maps `bytes` of zeroed, unbacked memory; throws std::bad_alloc when it cannot.
void* Map(std::size_t bytes);
void Unmap(void* at, std::size_t bytes) noexcept;
}  // namespace reserved_detail

// An arena of `size` octets, all zero until written. For buffers carved by offset.
class ReservedBytes {
 public:
  ReservedBytes() = default;
  explicit ReservedBytes(std::size_t size)
      : data_(static_cast<std::uint8_t*>(reserved_detail::Map(size))), size_(size) {}
  ReservedBytes(ReservedBytes&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  ReservedBytes& operator=(ReservedBytes&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~ReservedBytes() { reserved_detail::Unmap(data_, size_); }

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Room for `capacity` Ts whose elements are constructed one at a time, as the owner
// needs them (Grow); the constructed prefix is [0, size()). Elements never move, so
// references stay valid as it grows.
template <typename T>
class ReservedArray {
 public:
  ReservedArray() = default;
  explicit ReservedArray(std::size_t capacity)
      : bytes_(capacity * sizeof(T)), capacity_(capacity) {}
  ReservedArray(ReservedArray&& other) noexcept
      : bytes_(std::move(other.bytes_)),
        capacity_(std::exchange(other.capacity_, 0)),
        size_(std::exchange(other.size_, 0)) {}
  ReservedArray& operator=(ReservedArray&& other) noexcept {
    if (this == &other) return *this;
    Clear();
    bytes_ = std::move(other.bytes_);
    capacity_ = std::exchange(other.capacity_, 0);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }
  ~ReservedArray() { Clear(); }

  // Constructs the next element; precondition: size() < capacity().
  T& Grow() noexcept(noexcept(T())) {
    T* slot = ::new (static_cast<void*>(data() + size_)) T();
    ++size_;
    return *slot;
  }

  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool full() const noexcept { return size_ == capacity_; }

 private:
  T* data() noexcept { return reinterpret_cast<T*>(bytes_.data()); }
  const T* data() const noexcept { return reinterpret_cast<const T*>(bytes_.data()); }
  void Clear() noexcept {
    while (size_ > 0) data()[--size_].~T();
  }

  ReservedBytes bytes_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

// `size` integers that read as `kBlank` until set. Each is stored XOR kBlank, so the
// kernel's zero pages stand for a table of blanks, and a table whose writes cluster
// (indices handed out lowest first) or that holds few entries costs little.
template <typename T, T kBlank>
class BlankTable {
  static_assert(std::is_integral_v<T>);

 public:
  class Ref {
   public:
    operator T() const noexcept { return static_cast<T>(*at_ ^ kBlank); }
    Ref& operator=(T value) noexcept {
      *at_ = static_cast<T>(value ^ kBlank);
      return *this;
    }
    Ref(const Ref&) = default;
    Ref& operator=(const Ref& other) noexcept { return *this = static_cast<T>(other); }

   private:
    friend class BlankTable;
    explicit Ref(T* at) : at_(at) {}
    T* at_;
  };

  BlankTable() = default;
  explicit BlankTable(std::size_t size) : bytes_(size * sizeof(T)), size_(size) {}

  Ref operator[](std::size_t i) noexcept { return Ref(data() + i); }
  T operator[](std::size_t i) const noexcept { return static_cast<T>(data()[i] ^ kBlank); }
  std::size_t size() const noexcept { return size_; }

 private:
  T* data() noexcept { return reinterpret_cast<T*>(bytes_.data()); }
  const T* data() const noexcept { return reinterpret_cast<const T*>(bytes_.data()); }

  ReservedBytes bytes_;
  std::size_t size_ = 0;
};

}  // namespace ringdns::core
