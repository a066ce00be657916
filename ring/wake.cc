#include "ring/wake.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <span>

namespace ringdns::ring {

// A write blocks only at a count of 2^64 - 2.
EventFd::EventFd(bool nonblocking)
    : fd_(::eventfd(0, EFD_CLOEXEC | (nonblocking ? EFD_NONBLOCK : 0))) {}

void EventFd::Signal() const noexcept {
  if (!fd_.valid()) return;
  const std::uint64_t one = 1;
  (void)!::write(fd_.get(), &one, sizeof(one));
}

void EventFd::Drain() const noexcept {
  if (!fd_.valid()) return;
  std::uint64_t count = 0;
  (void)!::read(fd_.get(), &count, sizeof(count));
}

bool Wake::Arm(Ring& ring, UserData tag) noexcept {
  if (!event_.valid()) return false;
  return ring.Read(event_.fd(), std::span(reinterpret_cast<std::uint8_t*>(&count_), sizeof(count_)),
                   tag);
}

}  // namespace ringdns::ring
