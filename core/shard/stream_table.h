// core/shard/stream_table.h: a shard's TCP connections (core/shard/shard_stream.h), the
// clients' first, then its own to upstreams. Each has its read buffer and write queue
// carved from two arenas reserved once and touched as used. The table also keeps the free
// client slots, and the queue of client connections waiting for a TCP query buffer, which
// get one each in turn. Shard-local; needs no socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/base/fixed_queue.h"
#include "core/base/relaxed_counter.h"
#include "core/base/reserved.h"
#include "core/shard/inflight.h"
#include "core/shard/shard_stream.h"

namespace ringdns::core {

class StreamTable {
 public:
  // Recycling a free slot, or queueing an upstream connection for a client's buffer,
  // cannot happen (core/base/invariant.h): counted in `violations` in release builds,
  // the table left as it was.
  explicit StreamTable(RelaxedCounter& violations) : violations_(violations) {}

  struct Sizes {
    std::uint32_t clients = 0;
    std::uint32_t upstreams = 0;
    std::uint32_t client_writes = 0;    // a client's queued answers (its in-flight limit)
    std::uint32_t upstream_writes = 0;  // an upstream connection's queued queries
    std::size_t client_buffer = 0;      // a client's read buffer, octets
    std::size_t upstream_buffer = 0;    // an upstream connection's
  };
  // Every connection free, the clients' slots free to take; the previous table's gone.
  void Build(const Sizes& sizes);

  Stream& operator[](std::uint32_t conn) noexcept { return streams_[conn]; }
  const Stream& operator[](std::uint32_t conn) const noexcept { return streams_[conn]; }
  std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(streams_.size()); }
  std::uint32_t clients() const noexcept { return clients_; }
  auto begin() noexcept { return streams_.begin(); }
  auto end() noexcept { return streams_.end(); }
  auto begin() const noexcept { return streams_.begin(); }
  auto end() const noexcept { return streams_.end(); }

  // A free client slot, taken; kNoSlot when every one is in use.
  std::uint32_t TakeClient() noexcept;
  bool client_available() const noexcept { return !free_clients_.empty(); }
  // The connection is gone: its slot is free again, its state reset and its generation
  // moved on (answers still on their way to it are dropped). A client's slot can be
  // taken again. Precondition: nothing is armed on it, its writes are given back.
  // `listed` stays: a slot still in the waiting queue must not be queued twice (its old
  // entry is skipped as not stalled, or serves the new connection).
  void Recycle(std::uint32_t conn) noexcept;

  // A client connection that found no free query buffer, or whose turn has not come,
  // waits at the end of the queue (at most once: the queue never fills).
  void WaitForBuffer(std::uint32_t conn) noexcept;
  bool anyone_waiting() const noexcept { return !waiting_.empty(); }
  // The connection at the front of the queue, taken off it. Precondition: anyone_waiting().
  std::uint32_t NextWaiting() noexcept;

 private:
  std::vector<Stream> streams_;
  std::uint32_t clients_ = 0;
  ReservedBytes read_arena_;   // every connection's read buffer, in order
  ReservedBytes write_arena_;  // every connection's write queue, in order
  std::vector<std::uint32_t> free_clients_;
  FixedQueue<std::uint32_t> waiting_;  // client connections waiting for a query buffer
  RelaxedCounter& violations_;
};

}  // namespace ringdns::core
