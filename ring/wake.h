// ring/wake.h: waking a thread that sleeps, from any other thread.
//
// EventFd is an eventfd: Signal adds to its count and makes it readable, for a thread
// that sleeps in poll(2); Drain makes it quiet again. Wake arms a read of one on a ring,
// so that Notify ends the wait of a loop that sleeps on its ring: a loop with nothing in
// flight can sleep until it has work instead of waking on a short tick to look at flags
// other threads may have set.
#pragma once

#include <cstdint>

#include "ring/fd.h"
#include "ring/ring.h"
#include "ring/user_data.h"

namespace ringdns::ring {

class EventFd {
 public:
  // Non-blocking for poll(2) users; a ring's read wants a blocking one (io_uring polls
  // it until readable, where it would fail a non-blocking read with EAGAIN). No eventfd
  // to be had: valid() is false, and the sleeper must look on a tick instead.
  explicit EventFd(bool nonblocking = true);

  bool valid() const noexcept { return fd_.valid(); }
  int fd() const noexcept { return fd_.get(); }
  // Any thread, any number of times.
  void Signal() const noexcept;
  // The sleeper, once woken (a non-blocking one: a blocking one would wait for a count).
  void Drain() const noexcept;

 private:
  UniqueFd fd_;
};

class Wake {
 public:
  Wake() : event_(/*nonblocking=*/false) {}
  Wake(const Wake&) = delete;
  Wake& operator=(const Wake&) = delete;

  bool valid() const noexcept { return event_.valid(); }
  // Loop thread: arms the read whose completion (tagged `tag`) ends the wait. Call once,
  // then again on each completion that returned a count; false when nothing was armed.
  bool Arm(Ring& ring, UserData tag) noexcept;
  // Any thread, any number of times: the armed read completes (at once if the loop is
  // not waiting: its next wait ends straight away).
  void Notify() const noexcept { event_.Signal(); }

 private:
  EventFd event_;
  std::uint64_t count_ = 0;  // the armed read's target
};

}  // namespace ringdns::ring
