// core/dnstap/collector.h: one connection to a dnstap collector, owned by libfstrm's
// I/O thread: Frame Streams framing, the bidirectional handshake (READY, ACCEPT,
// START), buffering, and reopening the connection every second while the collector is
// away (frames submitted meanwhile are discarded by fstrm, never queued without bound).
// The socket under it is ringdns's (socket_rdwr.h): every operation is bounded in time.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/dnstap/encoder.h"
#include "core/dnstap/socket_rdwr.h"

struct fstrm_iothr;
struct fstrm_iothr_queue;

namespace ringdns::core::dnstap {

// Where a collector listens: a Unix socket path, or an IP address and TCP port.
struct CollectorAddress {
  std::string unix_path;  // set for unix://
  std::string tcp_host;   // set for tcp://: an IP address, or a name resolved at each connect
  std::uint16_t tcp_port = 0;
  // "unix:///run/dnstap.sock" or "tcp://127.0.0.1:6000": one collector per key.
  std::string Key() const;
};

class Collector {
 public:
  // Starts fstrm's I/O thread, which connects (and reconnects) on its own: a collector
  // that is not there yet is not an error.
  static absl::StatusOr<std::unique_ptr<Collector>> Open(const CollectorAddress& address);
  // Hands on what fstrm holds to a connected collector for at most the I/O timeout,
  // then lets the rest go and closes.
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Any thread, before encoding a frame of about `bytes`: whether it would be taken.
  // False, and the frame counted as dropped, while the collector is not connected (fstrm
  // would discard it) or kMaxQueuedBytes already wait for it.
  bool Accepts(std::size_t bytes) noexcept;
  // Any thread. Hands `frame` to fstrm; when fstrm's queue is full the frame is dropped
  // and counted, and false is returned.
  bool Submit(Frame frame);
  const std::string& key() const noexcept { return key_; }
  std::uint64_t dropped() const noexcept { return dropped_->load(std::memory_order_relaxed); }

  // What frames may wait in fstrm's queue for one collector, in all.
  static constexpr std::int64_t kMaxQueuedBytes = 8 << 20;

 private:
  friend class CollectorPool;
  Collector() = default;
  static void FreeFrame(void* payload, void* state) noexcept;
  fstrm_iothr* iothr_ = nullptr;
  fstrm_iothr_queue* queue_ = nullptr;
  std::string key_;
  std::shared_ptr<CollectorLink> state_ = std::make_shared<CollectorLink>();
  // The pool's count for this address, which outlives the collector (a counter never
  // goes back when a reload closes and reopens it).
  std::shared_ptr<std::atomic<std::uint64_t>> dropped_ =
      std::make_shared<std::atomic<std::uint64_t>>(0);
};

// The collectors in use, by address: a configuration that names the same socket as the
// one it replaces (a reload) shares its connection; the last user closes it.
class CollectorPool {
 public:
  absl::StatusOr<std::shared_ptr<Collector>> Get(const CollectorAddress& address);
  // Frames dropped per collector address ever opened, for /metrics.
  std::vector<std::pair<std::string, std::uint64_t>> Dropped() const;

 private:
  struct Entry {
    std::weak_ptr<Collector> open;
    std::shared_ptr<std::atomic<std::uint64_t>> dropped =
        std::make_shared<std::atomic<std::uint64_t>>(0);
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace ringdns::core::dnstap
