#include "integration/forwarder.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "absl/strings/str_replace.h"
#include "testing/udp.h"

namespace ringdns::testing {

namespace {

core::DaemonOptions TestOptions(int shards, std::uint32_t slots, int log_fd,
                                std::int64_t rotation_ms) {
  core::DaemonOptions options;
  options.shards = shards;
  options.shard.slots = slots;
  options.shard.query_buffers = 256;
  options.shard.answer_buffers = 256;
  options.shard.upstream_sockets = 4;
  options.shard.upstream_socket_lifetime_ms = rotation_ms * options.shard.upstream_sockets;
  // A FakeUpstream answers loopback queries in microseconds, so the adaptive attempt
  // timeout sits at its floor; at the product's 50 ms, a FakeUpstream thread descheduled
  // that long (TSan, a loaded machine) draws a retry, and a test counting queries, retries
  // or failures sees one more. The tests of adaptive timeouts, retries and hedging opt
  // back in (AdaptiveAttemptTimeouts); the others wait read_timeout (2 s by default).
  options.shard.min_attempt_timeout_ms = kTestMinAttemptTimeoutMs;
  options.log_fd = log_fd;
  // The sizes above, whatever memory limit the machine running the tests has.
  options.cgroup_root = "/nonexistent";
  // The suite runs once per backend (tests/CMakeLists.txt sets this for the epoll run).
  if (const char* backend = std::getenv("RINGDNS_TEST_IO_BACKEND"); backend != nullptr) {
    if (!ring::ParseBackend(backend, options.shard.io_backend)) {
      throw std::invalid_argument(std::string("RINGDNS_TEST_IO_BACKEND: not a backend: ") +
                                  backend);
    }
  }
  return options;
}

}  // namespace

Forwarder::Forwarder(const std::string& corefile, int shards, std::uint32_t slots, int log_fd,
                     std::int64_t rotation_ms)
    : port_(FreeUdpPort()) {
  Start(corefile, TestOptions(shards, slots, log_fd, rotation_ms));
}

Forwarder::Forwarder(const std::string& corefile, int shards,
                     const std::function<void(core::ShardOptions&)>& tune)
    : port_(FreeUdpPort()) {
  core::DaemonOptions options = TestOptions(shards, 1024, 1, 2000);
  tune(options.shard);
  Start(corefile, options);
}

Forwarder::Forwarder(const std::string& corefile, int shards,
                     const std::function<void(core::DaemonOptions&)>& tune)
    : port_(FreeUdpPort()) {
  core::DaemonOptions options = TestOptions(shards, 1024, 1, 2000);
  tune(options);
  Start(corefile, options);
}

void Forwarder::Start(const std::string& corefile, const core::DaemonOptions& options) {
  const std::string text = absl::StrReplaceAll(corefile, {{"{PORT}", std::to_string(port_)}});
  absl::StatusOr<core::config::Config> config = core::config::ParseCorefile(text, "test/Corefile");
  // Thrown, not aborted: the test fails and the upstreams it started are stopped.
  if (!config.ok()) throw std::runtime_error(std::string(config.status().message()));
  config_ = *config;
  absl::StatusOr<std::unique_ptr<core::Daemon>> daemon = core::Daemon::Start(*config, options);
  if (!daemon.ok()) throw std::runtime_error(std::string(daemon.status().message()));
  daemon_ = std::move(*daemon);
}

Forwarder::~Forwarder() { Stop(); }

absl::Status Forwarder::Reload(const std::string& corefile) {
  const std::string text = absl::StrReplaceAll(corefile, {{"{PORT}", std::to_string(port_)}});
  absl::StatusOr<core::config::Config> config = core::config::ParseCorefile(text, "test/Corefile");
  if (!config.ok()) {
    daemon_->CountFailedReload();
    return config.status();
  }
  absl::Status status = daemon_->Reload(*config);
  if (status.ok()) config_ = *config;
  return status;
}

core::ShardCounters Forwarder::Stop() {
  daemon_->RequestStop();
  daemon_->Wait();
  return daemon_->totals();
}

}  // namespace ringdns::testing
