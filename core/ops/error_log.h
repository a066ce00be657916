// core/ops/error_log.h: a shard's lines on stderr for events an operator must see (a
// refused TLS handshake, an upstream given up on). A limited line is written at most once
// a second; those held back are counted into the next line written. Never on the path of
// a query that succeeds.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ringdns::core {

class ErrorLog {
 public:
  // Lines go to `fd` (stderr unless a test says otherwise), marked with the shard's id.
  explicit ErrorLog(std::uint32_t shard, int fd = 2) : shard_(shard), fd_(fd) {}

  // A line for an event that may come many times a second: written when none was in
  // the last second, else counted.
  template <typename... Parts>
  void Limited(std::int64_t now_ms, const Parts&... parts) {
    if (now_ms - last_limited_ms_ < 1000) {
      ++held_back_;
      return;
    }
    last_limited_ms_ = now_ms;
    Write(absl::StrCat(parts...));
  }
  // A line for an event rare by construction (once per upstream, say): always written.
  void Write(absl::string_view line);

  std::uint32_t held_back() const noexcept { return held_back_; }

 private:
  const std::uint32_t shard_;
  const int fd_;
  std::int64_t last_limited_ms_ = -1000;
  std::uint32_t held_back_ = 0;  // limited lines not written since the last line
};

}  // namespace ringdns::core
