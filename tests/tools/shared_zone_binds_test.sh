#!/usr/bin/env bash
# Two server blocks for the same zone and port on different bind addresses, as a cloud
# provider's node-local Corefile has them: each address answers from its own block
# (here, each block's template gives a different address), over UDP and TCP; a third
# block for the zone and port on a shared address is refused with both positions.
# Usage: shared_zone_binds_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
command -v dig >/dev/null || { echo "SKIP: dig is not installed"; exit 0; }

port=$(port_block 1)
cat >"$work/Corefile" <<COREFILE
.:$port {
    bind 127.0.0.1
    template IN A {
        answer "{{ .Name }} 5 IN A 192.0.2.1"
    }
}
.:$port {
    bind 127.0.0.2
    template IN A {
        answer "{{ .Name }} 5 IN A 192.0.2.2"
    }
}
COREFILE
check "-validate accepts the same zone and port on two addresses" \
  bash -c '"$1" -conf "$2" -validate >/dev/null 2>&1' _ "$ringdns" "$work/Corefile"
"$ringdns" -conf "$work/Corefile" -shards 1 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
answer() { dig @"$1" -p "$port" +tries=1 +timeout=1 ${2:-} name.test A +short 2>/dev/null; }
up() { [ "$(answer 127.0.0.2)" = 192.0.2.2 ]; }
check "ringdns answers" eventually up
check "127.0.0.1 answers from its block" test "$(answer 127.0.0.1)" = 192.0.2.1
check "127.0.0.2 answers from its block" test "$(answer 127.0.0.2)" = 192.0.2.2
check "127.0.0.1 over TCP" test "$(answer 127.0.0.1 +tcp)" = 192.0.2.1
check "127.0.0.2 over TCP" test "$(answer 127.0.0.2 +tcp)" = 192.0.2.2
kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "ringdns exits 0 on SIGTERM" test $? -eq 0

cat >>"$work/Corefile" <<COREFILE
.:$port {
    bind 127.0.0.3 127.0.0.2
    template IN A {
        answer "{{ .Name }} 5 IN A 192.0.2.3"
    }
}
COREFILE
"$ringdns" -conf "$work/Corefile" -validate >/dev/null 2>"$work/err"
check "a block sharing 127.0.0.2 is refused" \
  grep -q "Corefile:13:1: zone \. on dns port $port is already served by the block at $work/Corefile:7:1" "$work/err"
[ "$failures" -eq 0 ] || { cat "$work/ringdns.log" "$work/err"; exit 1; }
