// core/upstream/case_randomization.h: which upstreams get DNS 0x20 names
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
// back once its last echo is kTrustEchoMs old.
// One table per configuration, shared by its shards (an echo one shard sees counts on
// all, so a forger cannot pick a shard where an upstream has been quiet) and carried
// across reloads. Entries are per upstream of a forward: a server named in two forwards
// has two. Relaxed atomics; no clock of its own: the caller passes the time.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>

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
    kAskOverTcp,             // the upstream was plain already
    kAskOverTcpFellBack,     // the upstream falls back now (log it)
    kAskOverTcpStillTrusted  // the upstream echoed lately: it keeps 0x20
  };

  // `upstreams`: how many global upstream ids the routes have. `enabled` false: plain
  // names to everyone.
  CaseRandomization(bool enabled, std::uint32_t upstreams)
      : enabled_(enabled), entries_(std::make_unique<Entry[]>(upstreams)) {}

  // Whether a query to `upstream` now goes out with its name's case randomised.
  bool Randomizes(std::uint32_t upstream, std::int64_t now_ms) const noexcept {
    return enabled_ && now_ms >= entries_[upstream].plain_until_ms.load(std::memory_order_relaxed);
  }

  // `upstream` echoed a spelling with letters of both cases: it does echo case. Written
  // at most once a second, so shards answering from it do not fight over the line.
  void Echoed(std::uint32_t upstream, std::int64_t now_ms) noexcept {
    std::atomic<std::int64_t>& at = entries_[upstream].echoed_at_ms;
    if (now_ms - at.load(std::memory_order_relaxed) >= kEchoResolutionMs)
      at.store(now_ms, std::memory_order_relaxed);
  }

  // `upstream`'s answer to the query whose folds are `folds` folded the spelling.
  Fold Folded(std::uint32_t upstream, CaseFolds& folds, std::int64_t now_ms) noexcept {
    if (folds.upstream != upstream) folds = {upstream, 0};
    if (++folds.count < kFoldsToFallBack) return Fold::kAskAgain;
    Entry& e = entries_[upstream];
    if (!Randomizes(upstream, now_ms)) return Fold::kAskOverTcp;
    if (now_ms - e.echoed_at_ms.load(std::memory_order_relaxed) < kTrustEchoMs)
      return Fold::kAskOverTcpStillTrusted;
    // Two shards may decide at once: only the one that ends 0x20 says so.
    const std::int64_t was =
        e.plain_until_ms.exchange(now_ms + kPlainForMs, std::memory_order_relaxed);
    return now_ms >= was ? Fold::kAskOverTcpFellBack : Fold::kAskOverTcp;
  }

  // A reload carries what the old table knew of an upstream that stays.
  void CarryFrom(const CaseRandomization& old, std::uint32_t old_upstream,
                 std::uint32_t upstream) noexcept {
    const Entry& from = old.entries_[old_upstream];
    entries_[upstream].plain_until_ms.store(from.plain_until_ms.load(std::memory_order_relaxed),
                                            std::memory_order_relaxed);
    entries_[upstream].echoed_at_ms.store(from.echoed_at_ms.load(std::memory_order_relaxed),
                                          std::memory_order_relaxed);
  }

  bool enabled() const noexcept { return enabled_; }

 private:
  // Far enough in the past that no echo counts, and no subtraction from it overflows.
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min() / 2;
  static constexpr std::int64_t kEchoResolutionMs = 1000;
  struct Entry {
    std::atomic<std::int64_t> plain_until_ms{0};
    std::atomic<std::int64_t> echoed_at_ms{kNever};
  };
  bool enabled_ = false;
  std::unique_ptr<Entry[]> entries_;  // per upstream
};

}  // namespace ringdns::core
