#include "core/shard/stream_table.h"

#include <span>

#include "core/base/invariant.h"

namespace ringdns::core {

void StreamTable::Build(const Sizes& sizes) {
  clients_ = sizes.clients;
  const std::size_t total = std::size_t{sizes.clients} + sizes.upstreams;
  streams_.clear();
  streams_.resize(total);
  read_arena_ = ReservedBytes(std::size_t{sizes.clients} * sizes.client_buffer +
                              std::size_t{sizes.upstreams} * sizes.upstream_buffer);
  write_arena_ =
      ReservedBytes(sizeof(PendingWrite) * (std::size_t{sizes.clients} * sizes.client_writes +
                                            std::size_t{sizes.upstreams} * sizes.upstream_writes));
  auto* writes = reinterpret_cast<PendingWrite*>(write_arena_.data());
  std::uint8_t* reads = read_arena_.data();
  for (std::size_t i = 0; i < total; ++i) {
    Stream& s = streams_[i];
    s.upstream = i >= sizes.clients;
    const std::size_t buffer = s.upstream ? sizes.upstream_buffer : sizes.client_buffer;
    s.in = FrameReader({reads, buffer});
    reads += buffer;
    const std::uint32_t queue = s.upstream ? sizes.upstream_writes : sizes.client_writes;
    s.out = SendQueue(std::span<PendingWrite>(writes, queue));
    writes += queue;
  }
  free_clients_.clear();
  free_clients_.reserve(sizes.clients);
  for (std::uint32_t i = sizes.clients; i-- > 0;) free_clients_.push_back(i);
  waiting_ = FixedQueue<std::uint32_t>(sizes.clients);
}

std::uint32_t StreamTable::TakeClient() noexcept {
  if (free_clients_.empty()) return kNoSlot;
  const std::uint32_t conn = free_clients_.back();
  free_clients_.pop_back();
  return conn;
}

void StreamTable::Recycle(std::uint32_t conn) noexcept {
  Stream& s = streams_[conn];
  if (!RINGDNS_INVARIANT(s.in_use() && !s.recv_armed && !s.send_armed && !s.connect_armed &&
                         s.out.empty())) {
    ++violations_;  // freed twice, or freed under the kernel's feet: leave it be
    return;
  }
  s.fd = -1;
  s.state = StreamState::kFree;
  s.stalled = s.draining = s.handing_over = false;
  s.quiet_since_ms = 0;
  s.inflight = 0;
  s.in.Reset();
  ++s.generation;
  if (!s.upstream) free_clients_.push_back(conn);  // never past its reservation
}

void StreamTable::WaitForBuffer(std::uint32_t conn) noexcept {
  Stream& s = streams_[conn];
  if (!RINGDNS_INVARIANT(!s.upstream)) {  // the queue holds client connections only
    ++violations_;
    return;
  }
  if (s.listed) return;
  s.listed = true;
  waiting_.Push(conn);
}

std::uint32_t StreamTable::NextWaiting() noexcept {
  const std::uint32_t conn = waiting_.Front();
  waiting_.Pop();
  streams_[conn].listed = false;
  return conn;
}

}  // namespace ringdns::core
