#include "core/memory/reserved.h"

#include <sys/mman.h>

namespace ringdns::core::reserved_detail {

void* Map(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  // MAP_NORESERVE: no swap is set aside for pages never written; the capacity is a
  // bound, not a promise of use.
  void* at = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (at == MAP_FAILED) throw std::bad_alloc();
  return at;
}

void Unmap(void* at, std::size_t bytes) noexcept {
  if (at != nullptr) ::munmap(at, bytes);
}

}  // namespace ringdns::core::reserved_detail
