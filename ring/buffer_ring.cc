#include "ring/buffer_ring.h"

#include <sys/mman.h>

#include <cerrno>

namespace ringdns::ring {

ProvidedBufferRing::~ProvidedBufferRing() {
  if (owner_ != nullptr) owner_->UnregisterBufferRing(group_id_);
  if (base_ != nullptr) ::munmap(ring_, mapped_);
}

int ProvidedBufferRing::Init(Ring& ring, std::uint16_t group_id, std::uint32_t count,
                             std::uint32_t buffer_size, std::uint32_t initial) {
  if (count == 0 || count > 32768 || (count & (count - 1)) != 0) return -EINVAL;
  // The ring entries first (page aligned, as registration requires), then the buffers.
  const std::size_t ring_bytes = sizeof(io_uring_buf) * count;
  mapped_ = ring_bytes + std::size_t{count} * buffer_size;
  void* mem = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return -errno;
  ring_ = static_cast<io_uring_buf_ring*>(mem);
  base_ = static_cast<std::uint8_t*>(mem) + ring_bytes;
  if (const int rc = ring.RegisterBufferRing(ring_, count, group_id); rc != 0) {
    ::munmap(mem, mapped_);
    base_ = nullptr;
    ring_ = nullptr;
    return rc;
  }
  owner_ = &ring;
  group_id_ = group_id;
  count_ = count;
  buffer_size_ = buffer_size;
  mask_ = io_uring_buf_ring_mask(count);
  io_uring_buf_ring_init(ring_);
  ProvideUpTo(initial == 0 ? count : initial);
  Commit();
  return 0;
}

}  // namespace ringdns::ring
