#!/usr/bin/env bash
# The ringdns command line as an operator uses it: -version, -validate on good and bad
# Corefiles (exit codes and FILE:LINE:COLUMN errors), --flag spelling, -dns.port.
# Usage: cli_test.sh PATH_TO_RINGDNS
set -u
ringdns=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passes=0
check() {  # description, then a command that must succeed
  local what=$1; shift
  if "$@"; then echo "ok: $what"; passes=$((passes + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

"$ringdns" -version >"$work/out" 2>&1; rc=$?
check "-version exits 0" test "$rc" -eq 0
check "-version prints the name" grep -q '^ringdns-' "$work/out"

cat >"$work/Corefile" <<'COREFILE'
remote.svc.cluster.local:5353 {
  forward . 10.1.17.2 10.1.46.2
}
.:5353 {
  forward . 172.20.0.10
}
COREFILE
"$ringdns" -conf "$work/Corefile" -validate >"$work/out" 2>&1; rc=$?
check "-validate accepts the tutorial Corefile" test "$rc" -eq 0
check "-validate prints the normalised zone" grep -q '^dns://remote.svc.cluster.local.:5353 {' "$work/out"
check "-validate fills in defaults" grep -q 'read_timeout 2s' "$work/out"
check "-validate prints the most memory the shards can hold" grep -q '^\[INFO\] memory: at most [0-9.]* MiB a shard' "$work/out"

"$ringdns" --conf="$work/Corefile" --validate >/dev/null 2>&1; rc=$?
check "--flag=value spelling works" test "$rc" -eq 0

printf 'example.org {\n  forward . 127.0.0.1\n}\n' >"$work/noport"
"$ringdns" -conf "$work/noport" -dns.port 1053 -validate >"$work/out" 2>&1
check "-dns.port sets the default port" grep -q 'dns://example.org.:1053' "$work/out"

printf '.:5353 {\n  kubernetes cluster.local\n}\n' >"$work/bad"
"$ringdns" -conf "$work/bad" -validate >"$work/out" 2>&1; rc=$?
check "-validate rejects an unknown directive with exit 1" test "$rc" -eq 1
check "the error names file, line and column" grep -q "$work/bad:2:3: unknown directive 'kubernetes'" "$work/out"
check "and says what to do with a cluster DNS plugin" grep -q "keep this block on CoreDNS and have ringdns forward to it" "$work/out"

"$ringdns" -conf "$work/missing" -validate >"$work/out" 2>&1; rc=$?
check "a missing Corefile exits 1" test "$rc" -eq 1
check "a missing Corefile says so" grep -q 'cannot read the Corefile' "$work/out"

"$ringdns" -bogus >/dev/null 2>&1; rc=$?
check "an unknown flag exits 2" test "$rc" -eq 2

# Serving, then SIGTERM: drains and exits 0. The upstream is never contacted.
# A port free right now (tools/lib_loopback.sh, as the other tool tests choose theirs),
# not a random guess that another test running in parallel may hold.
. "$(cd "$(dirname "$0")/../.." && pwd)/tools/lib_loopback.sh"
port=$(port_block 1) || { echo "FAIL: no free port"; exit 1; }
printf 'example.org:%s {\n  bind 127.0.0.1\n  forward . 127.0.0.1:9\n}\n' "$port" >"$work/serve"
"$ringdns" -conf "$work/serve" -shards 1 2>"$work/log" &
pid=$!
# A minute at most: a loaded or sanitized build can take more than a few seconds to start.
for _ in $(seq 1 600); do grep -q serving "$work/log" 2>/dev/null && break; sleep 0.1; done
check "ringdns logs that it serves" grep -q "serving $work/serve on 1 shards" "$work/log"
kill -TERM "$pid"
wait "$pid"; rc=$?
check "SIGTERM exits 0" test "$rc" -eq 0
check "SIGTERM drains first" grep -q 'stopping: finishing in-flight queries' "$work/log"

printf '.:%s {\n  bind 127.0.0.1 {\n    except 127.0.0.2\n  }\n  forward . 127.0.0.1\n}\n' "$port" >"$work/except"
timeout 10 "$ringdns" -conf "$work/except" >"$work/out" 2>&1; rc=$?
check "a directive not implemented yet refuses to start" test "$rc" -eq 1
check "and says which, where" grep -q "$work/except:1:1: bind ... { except } is not implemented" "$work/out"

echo "$passes passed, $failures failed"
test "$failures" -eq 0
