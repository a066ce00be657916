#!/usr/bin/env bash
# Fails if a module includes a header of a module above it (DESIGN.md's arrows). The
# build enforces this too (each module sees only what it links); this gives the reason
# in one line instead of a missing-header error.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
check() {  # module, then the modules it must not include
  local module=$1; shift
  for other in "$@"; do
    if grep -rnE "#include \"${other}/" "$module" --include='*.h' --include='*.cc'; then
      echo "layering: $module/ must not include $other/" >&2
      status=1
    fi
  done
}
check wire zones ring core tools
check zones ring core tools
check ring wire zones core tools
check core tools
# ring/ owns every io_uring call: the others use its typed submissions (ring/ring.h) and
# its decoding of what a completion wrote (ring/recvmsg.h).
if grep -rnE "io_uring_prep_|GetSqe\(" core tools --include='*.h' --include='*.cc'; then
  echo "layering: only ring/ prepares io_uring submissions; add a typed one to ring/ring.h" >&2
  status=1
fi
if grep -rnE "io_uring_recvmsg_" core tools --include='*.h' --include='*.cc'; then
  echo "layering: only ring/ decodes a multishot receive's buffer; use ring::DecodeRecvMsg (ring/recvmsg.h)" >&2
  status=1
fi
exit $status
