// A test fixture with an io_uring of its own, for components that submit through a ring
// but need no socket. Skips the test where the kernel (or a seccomp profile) refuses
// io_uring. A fixture built on it calls RingTest::SetUp() first and returns when
// IsSkipped() or HasFatalFailure().
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "ring/ring.h"

namespace ringdns::testing {

class RingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int rc = ring_.Init({});
    if (rc == -ENOSYS || rc == -EPERM || rc == -EINVAL)
      GTEST_SKIP() << "no io_uring: " << std::strerror(-rc);
    ASSERT_EQ(rc, 0);
  }

  ring::Ring ring_;  // first made, last gone: the buffer rings of a test unregister from it
};

}  // namespace ringdns::testing
