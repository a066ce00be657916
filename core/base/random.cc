#include "core/base/random.h"

#include <sys/random.h>

#include <cstdlib>

namespace ringdns::core {

void RandomPool::Refill() noexcept {
  std::size_t filled = 0;
  while (filled < bytes_.size()) {
    const ssize_t n = ::getrandom(bytes_.data() + filled, bytes_.size() - filled, 0);
    // getrandom only fails on bad arguments or before the pool is seeded at boot; a
    // forwarder must not run with predictable IDs, so crash on the impossible.
    if (n <= 0) std::abort();
    filled += static_cast<std::size_t>(n);
  }
  pos_ = 0;
}

}  // namespace ringdns::core
