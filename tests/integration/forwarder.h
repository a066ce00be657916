// tests/integration/forwarder.h: runs ringdns's Daemon in-process on a loopback port
// from a Corefile template, for tests that talk to it over real sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/config/loader.h"
#include "core/daemon.h"
#include "core/shard/shard_options.h"

namespace ringdns::testing {

// The floor of the adaptive attempt timeout in the tests' options: no retry is drawn by a
// fast upstream that was merely descheduled (forwarder.cc).
inline constexpr std::int64_t kTestMinAttemptTimeoutMs = 2000;

// For the tests of adaptive timeouts, retries and hedging: the product's floor back.
inline void AdaptiveAttemptTimeouts(core::ShardOptions& options) {
  options.min_attempt_timeout_ms = core::ShardOptions{}.min_attempt_timeout_ms;
}

class Forwarder {
 public:
  // `corefile` may use {PORT} for the listening port; listeners bind 127.0.0.1.
  // `log_fd`: where `log` and `errors` lines go.
  // `rotation_ms`: how often a shard retires an upstream socket for one on a new port.
  explicit Forwarder(const std::string& corefile, int shards = 1, std::uint32_t slots = 1024,
                     int log_fd = 1, std::int64_t rotation_ms = 2000);
  // The same with the tests' default shard options changed by `tune` (pool sizes).
  Forwarder(const std::string& corefile, int shards,
            const std::function<void(core::ShardOptions&)>& tune);
  // The same with the daemon's options changed by `tune`.
  Forwarder(const std::string& corefile, int shards,
            const std::function<void(core::DaemonOptions&)>& tune);
  ~Forwarder();

  std::uint16_t port() const { return port_; }
  const core::config::Config& config() const { return config_; }
  core::Daemon& daemon() { return *daemon_; }
  // Parses `corefile` ({PORT} as above) and swaps it in; the parse error or the
  // daemon's reload error otherwise.
  absl::Status Reload(const std::string& corefile);
  // Stops and joins the shards; totals() is exact afterwards.
  core::ShardCounters Stop();

 private:
  void Start(const std::string& corefile, const core::DaemonOptions& options);

  std::uint16_t port_;
  core::config::Config config_;
  std::unique_ptr<core::Daemon> daemon_;
};

}  // namespace ringdns::testing
