# Sourced by the tool tests: `check WHAT CMD...` runs CMD and reports ok or FAIL; the
# failures are counted in $failures for the test's exit status.
failures=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
