#include "testing/alloc_counter.h"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace ringdns::testing {
namespace {
thread_local std::uint64_t tls_allocations = 0;
std::atomic<std::uint64_t> process_allocations{0};
}  // namespace

std::uint64_t ThreadAllocationCount() noexcept { return tls_allocations; }
std::uint64_t ProcessAllocationCount() noexcept {
  return process_allocations.load(std::memory_order_relaxed);
}

namespace internal {
void* CountedAlloc(std::size_t size, std::size_t alignment) noexcept {
  ++tls_allocations;
  process_allocations.fetch_add(1, std::memory_order_relaxed);
  if (size == 0) size = 1;
  if (alignment <= alignof(std::max_align_t)) return std::malloc(size);
  void* p = nullptr;
  return ::posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}
}  // namespace internal
}  // namespace ringdns::testing

using ringdns::testing::internal::CountedAlloc;

namespace {
void* AllocOrThrow(std::size_t size, std::size_t alignment) {
  void* p = CountedAlloc(size, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
constexpr std::size_t kDefault = alignof(std::max_align_t);
}  // namespace

void* operator new(std::size_t size) { return AllocOrThrow(size, kDefault); }
void* operator new[](std::size_t size) { return AllocOrThrow(size, kDefault); }
void* operator new(std::size_t size, std::align_val_t a) {
  return AllocOrThrow(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
  return AllocOrThrow(size, static_cast<std::size_t>(a));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAlloc(size, kDefault);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAlloc(size, kDefault);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
