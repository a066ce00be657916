// core/shard/tap_recorder.h: what a shard hands the dnstap writer (core/dnstap/): each
// client query and answer, each query sent upstream (every attempt, answered or not) and
// each upstream answer, of a block with `dnstap`. A record is copied into the shard's
// TapQueue and the shard moves on; a full queue drops it and counts. Shard-local. It
// opens nothing: the shard passes the bytes, the times and its listener's address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/base/counters.h"
#include "core/dnstap/tap_queue.h"
#include "core/net.h"
#include "core/routes.h"
#include "core/shard/inflight.h"
#include "core/shard/shard_client.h"
#include "core/shard/stream_table.h"

namespace ringdns::core {

class TapRecorder {
 public:
  // `streams` gives a TCP client's address and whether it speaks TLS; `dropped` counts
  // the records a full queue refused.
  TapRecorder(const RouteTable& routes, const StreamTable& streams,
              RelaxedCounter& dropped) noexcept
      : routes_(routes), streams_(streams), dropped_(dropped) {}

  // Makes the queue when some block has `dnstap` (the shard's Init).
  void Init();
  // For the dnstap writer; null when no block taps.
  dnstap::TapQueue* queue() noexcept { return queue_.get(); }

  bool Taps(std::size_t block) const noexcept { return routes_.blocks[block].taps(); }
  // The block of the slot's forward (a refresh has no client block).
  bool TapsForward(const InflightSlot& slot) const noexcept { return Taps(slot.forward->block); }

  // A client's query as it arrived (at client.start_us), and the answer it gets, going
  // now; `local` is the listener's address, the responder.
  void ClientQuery(const Client& client, const SockAddr& local,
                   std::span<const std::uint8_t> query) noexcept {
    ClientRecord(dnstap::MessageType::kClientQuery, client, local, query, 0);
  }
  void ClientResponse(const Client& client, const SockAddr& local,
                      std::span<const std::uint8_t> answer, std::int64_t now_us) noexcept {
    ClientRecord(dnstap::MessageType::kClientResponse, client, local, answer, now_us);
  }
  // The slot's query as it goes to slot.upstream now.
  void ForwarderQuery(const InflightSlot& slot, std::span<const std::uint8_t> query,
                      std::int64_t now_us) noexcept;
  // `upstream`'s answer to the slot's query (sent at slot.sent_us), received now.
  void ForwarderResponse(const InflightSlot& slot, std::uint8_t upstream,
                         std::span<const std::uint8_t> answer, std::int64_t now_us) noexcept;

 private:
  // A client's address: its connection's peer for TCP (unknown once the connection is
  // gone), else `addr`.
  dnstap::TapAddress ClientAddress(std::uint32_t conn, std::uint16_t conn_generation,
                                   const sockaddr* addr, socklen_t addr_len) const noexcept;
  void ClientRecord(dnstap::MessageType type, const Client& client, const SockAddr& local,
                    std::span<const std::uint8_t> message, std::int64_t now_us) noexcept;
  dnstap::TapRecord ForwarderRecord(const InflightSlot& slot, std::uint8_t upstream) const noexcept;
  void Push(const dnstap::TapRecord& record, std::span<const std::uint8_t> message) noexcept;

  const RouteTable& routes_;
  const StreamTable& streams_;
  RelaxedCounter& dropped_;
  std::unique_ptr<dnstap::TapQueue> queue_;
};

}  // namespace ringdns::core
