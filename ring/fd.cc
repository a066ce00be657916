#include "ring/fd.h"

#include <unistd.h>

namespace ringdns::ring {

void UniqueFd::Reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

}  // namespace ringdns::ring
