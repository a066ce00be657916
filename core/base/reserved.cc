#include "core/base/reserved.h"

#include <sys/mman.h>
#include <unistd.h>

namespace ringdns::core::reserved_detail {

namespace {
std::size_t PageSize() noexcept { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }
// The mapping: `bytes` rounded up to pages, then one inaccessible guard page, so that an
// overrun faults instead of running into the next arena (no allocator redzones here).
std::size_t Mapped(std::size_t bytes) noexcept {
  const std::size_t page = PageSize();
  return (bytes + page - 1) / page * page + page;
}
}  // namespace

void* Map(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  // MAP_NORESERVE: no swap is set aside for pages never written; the capacity is a
  // bound, not a promise of use.
  const std::size_t mapped = Mapped(bytes);
  void* at = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (at == MAP_FAILED) throw std::bad_alloc();
  ::mprotect(static_cast<std::uint8_t*>(at) + mapped - PageSize(), PageSize(), PROT_NONE);
  return at;
}

void Unmap(void* at, std::size_t bytes) noexcept {
  if (at != nullptr) ::munmap(at, Mapped(bytes));
}

}  // namespace ringdns::core::reserved_detail
