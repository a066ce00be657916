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
# Folders of core/ that are targets of their own, below the rest of core
# (docs/architecture.md): each may include only the core/ folders named after it.
check_core_folder() {  # folder, then the core/ folders it may include besides itself
  local folder=$1; shift
  local allowed="$folder" other
  for other in "$@"; do allowed="$allowed|$other"; done
  if grep -rnE "#include \"core/" "core/$folder" --include='*.h' --include='*.cc' |
    grep -vE "#include \"core/($allowed)/"; then
    echo "layering: core/$folder/ may include only core/{${allowed//|/,}}/ of core" >&2
    status=1
  fi
}
check_core_folder base
check_core_folder view
check_core_folder config view
check_core_folder cache base config view
check_core_folder ops base config view
check_core_folder pipeline base config view
check_core_folder stream base config view
# A relative include ("../x.h") would reach past a target's include root unseen by the
# rules above: every include of ours is rooted at a module.
if grep -rnE '#include "\.\.?/' wire zones ring core tools --include='*.h' --include='*.cc'; then
  echo "layering: include by the module's path (\"core/base/x.h\"), never a relative one" >&2
  status=1
fi
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
