#include "core/base/invariant.h"

#include <cstdio>
#include <cstdlib>

namespace ringdns::core {

void InvariantFailed(const char* condition, const char* file, int line) noexcept {
  std::fprintf(stderr, "ringdns: invariant broken at %s:%d: %s\n", file, line, condition);
  std::abort();
}

}  // namespace ringdns::core
