// wire/result.h: Result<T>, a value or a wire::Error.
//
// A strict subset of std::expected's API (has_value, value, error, operator*, ->), so it
// can be swapped for std::expected once clang supports it (clang 14 does not; see
// STYLE.md). Trivially copyable when T is; no exceptions, no allocation.
#pragma once

#include <type_traits>
#include <utility>

#include "wire/error.h"

namespace ringdns::wire {

template <typename T>
class [[nodiscard]] Result {
 public:
  static_assert(std::is_trivially_destructible_v<T>, "Result holds plain views only");

  constexpr Result(T value) noexcept : value_(std::move(value)), error_(Error::kOk) {}  // NOLINT
  constexpr Result(Error error) noexcept : value_(), error_(error) {}                   // NOLINT

  constexpr bool has_value() const noexcept { return error_ == Error::kOk; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr Error error() const noexcept { return error_; }

  // Precondition: has_value(). Reading the value of an error yields a zeroed T.
  constexpr const T& value() const noexcept { return value_; }
  constexpr const T& operator*() const noexcept { return value_; }
  constexpr const T* operator->() const noexcept { return &value_; }
  constexpr T& operator*() noexcept { return value_; }
  constexpr T* operator->() noexcept { return &value_; }

 private:
  T value_;
  Error error_;
};

}  // namespace ringdns::wire
