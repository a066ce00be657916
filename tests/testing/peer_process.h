// tests/testing/peer_process.h: starting a real DNS peer (nsd, knotd) for a test, in the
// foreground, so the test holds its PID and kills exactly what it started.
#pragma once

#include <sys/types.h>

namespace ringdns::testing {

// Starts `binary` with `argv` (argv[0] first, null-terminated). The child dies with the
// test process however it ends, and its output goes to /dev/null, so it never holds the
// test's output pipe open (ctest would wait on it). Returns its PID, or -1.
pid_t SpawnPeer(const char* binary, char* const argv[]);

// SIGTERM, then waits for it.
void StopPeer(pid_t pid);

}  // namespace ringdns::testing
