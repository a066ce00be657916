#!/usr/bin/env bash
# Stands in for the ringdns binary ($RINGDNS_BINARY) in the tool tests, running it with
# io_uring refused (seccomp_run.py): the suites that ctest runs again through this
# (tests/CMakeLists.txt, label `epoll-tools`) check every feature on the fallback backend, as
# a pod under the RuntimeDefault seccomp profile runs it. exec all the way: the PID a
# test starts is ringdns's own.
exec /usr/bin/python3 "$(dirname "$0")/seccomp_run.py" --refuse-io-uring "${RINGDNS_BINARY:?set RINGDNS_BINARY}" "$@"
