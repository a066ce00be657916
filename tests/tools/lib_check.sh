# Sourced by the tool tests: `check WHAT CMD...` runs CMD and reports ok or FAIL; the
# failures are counted in $failures for the test's exit status.
failures=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

# `eventually CMD...` polls CMD every 0.1 s until it succeeds (true) or a minute has
# passed (false): for what happens "soon" (a reload logged, a listener up), so that no
# verdict rests on a guess of how fast a loaded or sanitized build is.
eventually() {
  local _
  for _ in $(seq 1 600); do "$@" && return 0; sleep 0.1; done
  return 1
}

# check_tls_reuse LOG DNSPERF_OUT MAX PEER, once ringdns has stopped: the counters of its
# "stopped:" line show the dnsperf run took at most MAX TLS handshakes and that a
# reconnect resumed PEER's session.
check_tls_reuse() {
  local log=$1 dnsperf_out=$2 max=$3 peer=$4 stats sent handshakes
  stats=$(grep 'stopped:' "$log")
  sent=$(awk '/Queries sent:/ {print $3}' "$dnsperf_out")
  handshakes=$(grep -o 'tls_handshakes=[0-9]*' <<<"$stats" | cut -d= -f2)
  check "$sent queries over at most $max TLS handshakes (${handshakes:-none})" test "${handshakes:-99}" -le "$max"
  check "a reconnect resumed $peer's TLS session" grep -qE 'tls_resumed=[1-9]' <<<"$stats"
}
