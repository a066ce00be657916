// core/dnstap/collector.h: one connection to a dnstap collector, owned by libfstrm's
// I/O thread: Frame Streams framing, the bidirectional handshake (READY, ACCEPT,
// START), buffering, and reopening the connection every second while the collector is
// away (frames submitted meanwhile are discarded by fstrm, never queued without bound).
// The socket under it is ringdns's (socket_rdwr.h): every operation is bounded in time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "core/dnstap/encoder.h"

struct fstrm_iothr;
struct fstrm_iothr_queue;

namespace ringdns::core::dnstap {

// Where a collector listens: a Unix socket path, or an IP address and TCP port.
struct CollectorAddress {
  std::string unix_path;  // set for unix://
  std::string tcp_ip;     // set for tcp://, numeric
  std::uint16_t tcp_port = 0;
  // "unix:///run/dnstap.sock" or "tcp://127.0.0.1:6000": one collector per key.
  std::string Key() const;
};

class Collector {
 public:
  // Starts fstrm's I/O thread, which connects (and reconnects) on its own: a collector
  // that is not there yet is not an error.
  static absl::StatusOr<std::unique_ptr<Collector>> Open(const CollectorAddress& address);
  ~Collector();  // flushes what fstrm holds to a connected collector, then closes
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Any thread. False when fstrm's queue is full: `frame` stays the caller's.
  bool Submit(Frame& frame);
  const std::string& key() const noexcept { return key_; }

 private:
  Collector() = default;
  fstrm_iothr* iothr_ = nullptr;
  fstrm_iothr_queue* queue_ = nullptr;
  std::string key_;
};

// The collectors in use, by address: a configuration that names the same socket as the
// one it replaces (a reload) shares its connection; the last user closes it.
class CollectorPool {
 public:
  absl::StatusOr<std::shared_ptr<Collector>> Get(const CollectorAddress& address);

 private:
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<Collector>> open_;
};

}  // namespace ringdns::core::dnstap
