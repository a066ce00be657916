// core/upstream/cookie_jar.h: a shard's DNS cookies (RFC 7873) with its upstreams.
//
// Each upstream gets its own random client cookie from this shard, sent in every UDP
// query to it, with the server cookie it last returned. Once an upstream has returned a
// server cookie, an answer from it must carry our client cookie: a blind forger, who
// also has to guess port, ID and the 0x20 spelling, now has 64 more bits to guess. An
// answer with another client cookie, or a malformed one, is always a forgery.
//
// An upstream whose answers come kMissesToForget times within kMissWindowMs without our
// cookie (replaced by a server without cookies, a cache in front of it that keeps
// another client's cookie or returns none, a pool that mixes servers with and without)
// is given up: no cookie is sent to it or expected from it again (until a reload). Each such answer
// already matched port, ID and 0x20 spelling, and its query is asked again over TCP (the shard's
// part), so clients are answered meanwhile. Shard-local: no locks, no atomics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/base/random.h"
#include "wire/cookie.h"

namespace ringdns::core {

class CookieJar {
 public:
  static constexpr std::uint8_t kMissesToForget = 4;
  static constexpr std::int64_t kMissWindowMs = 60000;

  enum class Verdict : std::uint8_t {
    kAccept,       // our client cookie came back, or the upstream has never shown cookies
    kWrongCookie,  // another client cookie, or a malformed option
    kMissing,      // no cookie from an upstream that has shown them
    kGaveUp,       // either, the kMissesToForget-th in the window: cookies are given up
  };

  CookieJar(std::uint32_t upstreams, RandomPool& random);

  // The COOKIE option the next UDP query to `upstream` carries; empty once given up.
  std::span<const std::uint8_t> Option(std::uint32_t upstream) const noexcept {
    const Entry& e = entries_[upstream];
    if (e.gave_up) return {};
    return {e.option, e.option_len};
  }
  bool GaveUp(std::uint32_t upstream) const noexcept { return entries_[upstream].gave_up; }
  // No more cookies to `upstream` (one that answers a COOKIE with FORMERR).
  void GiveUp(std::uint32_t upstream) noexcept { entries_[upstream].gave_up = true; }

  // Judges the cookie of an answer from `upstream` to a query that carried Option(), and
  // learns the server cookie it returns.
  Verdict Judge(std::uint32_t upstream, const wire::FoundCookie& found,
                std::int64_t now_ms) noexcept;

  // Whether `upstream` has returned a server cookie.
  bool Knows(std::uint32_t upstream) const noexcept { return entries_[upstream].server_len != 0; }

 private:
  struct Entry {
    std::uint8_t client[wire::cookie::kClientSize];
    std::uint8_t server_len = 0;  // 0: no server cookie known
    std::uint8_t misses = 0;      // answers without our cookie since miss_window_ms
    std::int64_t miss_window_ms = 0;
    bool gave_up = false;
    std::uint8_t option_len = 0;
    std::uint8_t option[wire::cookie::kMaxOptionSize];  // as it goes on the wire
  };
  static void Encode(Entry& e, std::span<const std::uint8_t> server) noexcept;

  std::unique_ptr<Entry[]> entries_;
};

}  // namespace ringdns::core
