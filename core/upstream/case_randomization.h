// core/upstream/case_randomization.h: which upstreams get DNS 0x20 names from one shard
// (wire/name_case.h), with a fall-back for upstreams that do not echo case, as Unbound's
// use-caps-for-id has.
//
// Every upstream starts out trusted to echo the question's case. An answer that passed
// every other check (address, port, ID, question) but folded the case is either from an
// upstream that does not echo case, or a forgery that guessed port and ID. A forger must
// not be able to switch 0x20 off, nor make a query easier to forge, so one fold proves
// nothing: the shard asks the same upstream again from a fresh port and ID with a fresh
// spelling. A second fold by the same upstream for the same query (a forger would have
// to guess port and ID twice running, within one round trip) sends that query to it over
// TCP, where no blind forger can answer; and the upstream falls back to plain names for
// kPlainForMs, unless it echoed a mixed-case spelling within kTrustEchoMs: then the folds
// are more likely forged than its own, and the refusal is counted. Folds by different
// upstreams of one query never add up (a forger racing a retry to another upstream
// blames neither). So no upstream is asked in a loop, and one that stops echoing falls
// back once its last echo is kTrustEchoMs old. Known gap (SECURITY.md): the echo record
// is per shard.
// Pure state, no clock of its own: the caller passes the time.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace ringdns::core {

// One query's folds, kept in its in-flight slot: by which upstream, how many.
struct CaseFolds {
  static constexpr std::uint32_t kNoUpstream = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t upstream = kNoUpstream;
  std::uint8_t count = 0;
};

class CaseRandomization {
 public:
  static constexpr std::uint8_t kFoldsToFallBack = 2;
  static constexpr std::int64_t kPlainForMs = 10 * 60 * 1000;
  static constexpr std::int64_t kTrustEchoMs = 60 * 1000;

  // What to do with a query whose answer folded the spelling: ask again over UDP,
  // spelled afresh, or (after two folds by the upstream) over TCP, where no blind forger
  // can answer, and say whether the upstream falls back now.
  enum class Fold {
    kAskAgain,
    kAskOverTcp,               // the upstream was plain already
    kAskOverTcpFellBack,       // the upstream falls back now (log it)
    kAskOverTcpStillTrusted    // the upstream echoed lately: it keeps 0x20
  };

  CaseRandomization() = default;
  // `upstreams`: how many global upstream ids the routes have. `enabled` false: plain
  // names to everyone.
  CaseRandomization(bool enabled, std::uint32_t upstreams)
      : enabled_(enabled), plain_until_ms_(upstreams, 0), echoed_at_ms_(upstreams, kNever) {}

  // Whether a query to `upstream` now goes out with its name's case randomised.
  bool Randomizes(std::uint32_t upstream, std::int64_t now_ms) const noexcept {
    return enabled_ && now_ms >= plain_until_ms_[upstream];
  }

  // `upstream` echoed a spelling with letters of both cases: it does echo case.
  void Echoed(std::uint32_t upstream, std::int64_t now_ms) noexcept { echoed_at_ms_[upstream] = now_ms; }

  // `upstream`'s answer to the query whose folds are `folds` folded the spelling.
  Fold Folded(std::uint32_t upstream, CaseFolds& folds, std::int64_t now_ms) noexcept {
    if (folds.upstream != upstream) folds = {upstream, 0};
    if (++folds.count < kFoldsToFallBack) return Fold::kAskAgain;
    if (!Randomizes(upstream, now_ms)) return Fold::kAskOverTcp;
    if (echoed_at_ms_[upstream] != kNever && now_ms - echoed_at_ms_[upstream] < kTrustEchoMs) {
      return Fold::kAskOverTcpStillTrusted;
    }
    plain_until_ms_[upstream] = now_ms + kPlainForMs;
    return Fold::kAskOverTcpFellBack;
  }

  bool enabled() const noexcept { return enabled_; }

 private:
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();
  bool enabled_ = false;
  std::vector<std::int64_t> plain_until_ms_;  // per upstream
  std::vector<std::int64_t> echoed_at_ms_;    // per upstream: its last mixed-case echo
};

}  // namespace ringdns::core
