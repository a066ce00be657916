// wire/cursor.h: a bounds-checked reader over a byte span with a sticky error.
//
// After the first failed read every later read is a no-op returning zero, so a parser
// can read several fields and check ok() once (Knot's wire_ctx). The cursor does not own
// the bytes; it must not outlive the span it was built over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytes.h"
#include "wire/error.h"

namespace ringdns::wire {

class Cursor {
 public:
  explicit Cursor(std::span<const std::uint8_t> bytes, std::size_t pos = 0) noexcept
      : bytes_(bytes), pos_(pos) {
    if (pos > bytes.size()) error_ = Error::kTooShort;
  }

  std::uint8_t ReadU8() noexcept {
    if (!Need(1)) return 0;
    return bytes_[pos_++];
  }
  std::uint16_t ReadU16() noexcept {
    if (!Need(2)) return 0;
    const std::uint16_t v = LoadU16(bytes_.data() + pos_);
    pos_ += 2;
    return v;
  }
  std::uint32_t ReadU32() noexcept {
    if (!Need(4)) return 0;
    const std::uint32_t v = LoadU32(bytes_.data() + pos_);
    pos_ += 4;
    return v;
  }
  void Skip(std::size_t n) noexcept {
    if (Need(n)) pos_ += n;
  }
  // Moves to an absolute position at or before the end; used after a name scan.
  void Seek(std::size_t pos) noexcept {
    if (error_ != Error::kOk) return;
    if (pos > bytes_.size()) {
      error_ = Error::kTooShort;
      return;
    }
    pos_ = pos;
  }
  void Fail(Error error) noexcept {
    if (error_ == Error::kOk) error_ = error;
  }

  bool ok() const noexcept { return error_ == Error::kOk; }
  Error error() const noexcept { return error_; }
  std::size_t pos() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return ok() ? bytes_.size() - pos_ : 0; }
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

 private:
  bool Need(std::size_t n) noexcept {
    // Compare against what is left rather than pos_ + n, which could overflow.
    if (error_ == Error::kOk && n <= bytes_.size() - pos_) return true;
    Fail(Error::kTooShort);
    return false;
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t pos_;
  Error error_ = Error::kOk;
};

}  // namespace ringdns::wire
