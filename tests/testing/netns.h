// tests/testing/netns.h: a network namespace of the test process's own.
#pragma once

namespace ringdns::testing {

// Moves this process (ctest runs each test in its own) to a new network namespace with
// just a loopback interface, up; threads started later inherit it. Call before any
// socket is opened. False without CAP_SYS_ADMIN.
bool EnterPrivateNetwork();

// Writes net.core.optmem_max, which Linux keeps per network namespace since 6.9. Call
// only after EnterPrivateNetwork: false where the namespace has none of its own.
bool SetOptmemMax(const char* value);

}  // namespace ringdns::testing
