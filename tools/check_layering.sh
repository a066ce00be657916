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
exit $status
