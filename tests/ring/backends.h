// tests/ring/backends.h: runs a parameterised ring test on both backends, named by them.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "ring/ring.h"

namespace ringdns::ring {

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& param) {
  return param.param == Backend::kEpoll ? "epoll" : "io_uring";
}

}  // namespace ringdns::ring

// INSTANTIATE_ON_BOTH_BACKENDS(Suite): every TEST_P of Suite on io_uring and on epoll.
#define INSTANTIATE_ON_BOTH_BACKENDS(suite)                                                    \
  INSTANTIATE_TEST_SUITE_P(                                                                    \
      Backends, suite,                                                                         \
      ::testing::Values(::ringdns::ring::Backend::kIoUring, ::ringdns::ring::Backend::kEpoll), \
      ::ringdns::ring::BackendName)
