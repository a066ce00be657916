#!/usr/bin/env bash
# CoreDNS's view over real sockets: three server blocks share .:PORT, two with a view
# and the default last. nsd on loopback serves the same zone twice with different
# answers, so each answer shows which block's forward took the query: by the client's
# address (dig -b 127.0.0.2), by the query type, and on a wildcard listener by the address
# the client asked (server_ip()), over UDP and TCP. -validate prints
# the views so that they read back; the metrics carry the view label. A query no view
# takes, with no block without a view and no shorter zone, is REFUSED and counted.
# Usage: view_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
for tool in dig /usr/sbin/nsd curl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

main_port=$(port_block 6)
other_port=$((main_port + 1))
dns_port=$((main_port + 2))
metrics_port=$((main_port + 3))
tcp_port=$((main_port + 4))
wild_port=$((main_port + 5))
zone="$root/examples/zones/remote.svc.cluster.local.zone"
{ cat "$zone"; echo 'cb-example-srv IN TXT "main"'; } >"$work/main.zone"
sed 's/^cb-example-srv IN A .*/cb-example-srv IN A 192.0.2.99/' "$zone" | awk '!seen[$0]++' >"$work/other.zone"
echo 'cb-example-srv IN TXT "other"' >>"$work/other.zone"
start_nsd main "$main_port" remote.svc.cluster.local. "$work/main.zone"
start_nsd other "$other_port" remote.svc.cluster.local. "$work/other.zone"
cat >"$work/Corefile" <<COREFILE
.:$dns_port {
    bind 127.0.0.1
    view second_client {
        expr client_ip() == '127.0.0.2'
    }
    forward . 127.0.0.1:$other_port
}
.:$dns_port {
    bind 127.0.0.1
    view by_type {
        expr type() in ['TXT', 'MX'] && incidr(client_ip(), '127.0.0.0/8')
    }
    forward . 127.0.0.1:$other_port
}
.:$dns_port {
    bind 127.0.0.1
    prometheus 127.0.0.1:$metrics_port
    forward . 127.0.0.1:$main_port
}
.:$tcp_port {
    bind 127.0.0.1
    view tcp_only {
        expr proto() == 'tcp'
    }
    forward . 127.0.0.1:$main_port
}
.:$wild_port {
    view second_address {
        expr server_ip() == '127.0.0.2'
    }
    forward . 127.0.0.1:$other_port
}
.:$wild_port {
    forward . 127.0.0.1:$main_port
}
COREFILE

"$ringdns" -conf "$work/Corefile" -validate >"$work/validated" 2>&1
check "-validate accepts the shared zone and port" grep -q 'view second_client {' "$work/validated"
check "-validate prints each expression as one token" \
  grep -qF "expr \"type() in ['TXT', 'MX'] && incidr(client_ip(), '127.0.0.0/8')\"" "$work/validated"
sed -n '/^dns:\/\//,$p' "$work/validated" >"$work/Corefile.printed"
"$ringdns" -conf "$work/Corefile.printed" -validate >"$work/validated2" 2>&1
check "the printed Corefile reads back to itself" diff <(sed -n '/^dns:\/\//,$p' "$work/validated2") "$work/Corefile.printed"

# A view after the default is refused, as in CoreDNS.
{ sed -n '15,$p' "$work/Corefile"; sed -n '1,14p' "$work/Corefile"; } >"$work/Corefile.bad"
check "a view after the view-less block is refused" \
  bash -c '! "$1" -conf "$2" -validate 2>&1 | grep -q "^dns" && "$1" -conf "$2" -validate 2>&1 | grep -q "expected the blocks with a view before the one without"' _ "$ringdns" "$work/Corefile.bad"

"$ringdns" -conf "$work/Corefile" -shards 1 >"$work/queries.log" 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
up() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=1 cb-example-srv.remote.svc.cluster.local A >/dev/null 2>&1; }
check "ringdns answers" eventually up

ask() { dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=2 +short "$@"; }
for transport in +notcp +tcp; do
  check "$transport: 127.0.0.1 asking A gets the default block's forward" \
    bash -c 'out=$("$@"); grep -q "^10\.1\." <<<"$out" && ! grep -q 192.0.2.99 <<<"$out"' _ \
    dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=2 +short "$transport" cb-example-srv.remote.svc.cluster.local A
  check "$transport: 127.0.0.2 asking A gets the second_client view's forward" \
    bash -c 'test "$("$@")" = 192.0.2.99' _ \
    dig -b 127.0.0.2 @127.0.0.1 -p "$dns_port" +tries=1 +timeout=2 +short "$transport" cb-example-srv.remote.svc.cluster.local A
  check "$transport: TXT goes to the by_type view's forward" \
    test "$(ask "$transport" cb-example-srv.remote.svc.cluster.local TXT)" = '"other"'
done

# Without bind the listener is a wildcard: server_ip() is the address the client asked
# (the kernel says it per datagram, and per connection at accept), not 0.0.0.0.
for transport in +notcp +tcp; do
  check "$transport: wildcard listener, asked at 127.0.0.2: the server_ip view takes it" \
    test "$(dig @127.0.0.2 -p "$wild_port" +tries=1 +timeout=2 +short "$transport" cb-example-srv.remote.svc.cluster.local A)" = 192.0.2.99
  check "$transport: asked at 127.0.0.1: the default block" \
    bash -c 'out=$("$@"); grep -q "^10\.1\." <<<"$out" && ! grep -q 192.0.2.99 <<<"$out"' _ \
    dig @127.0.0.1 -p "$wild_port" +tries=1 +timeout=2 +short "$transport" cb-example-srv.remote.svc.cluster.local A
done

check "a query no view takes is refused (no block without a view, no shorter zone)" \
  bash -c 'dig @127.0.0.1 -p "$1" +tries=1 +timeout=2 +notcp cb-example-srv.remote.svc.cluster.local A | grep -q "status: REFUSED"' _ "$tcp_port"
check "the view that takes it answers over TCP" \
  bash -c 'dig @127.0.0.1 -p "$1" +tries=1 +timeout=2 +short +tcp cb-example-srv.remote.svc.cluster.local A | grep -q "^10\.1\."' _ "$tcp_port"

metrics=$(curl -s "http://127.0.0.1:$metrics_port/metrics")
check "requests are counted per view" \
  grep -qE '^coredns_dns_requests_total\{server="dns://127.0.0.1:'"$dns_port"'",zone="\.",view="second_client",[^}]*\} [1-9]' <<<"$metrics"
check "the default block's requests have an empty view" \
  grep -qE '^coredns_dns_requests_total\{server="dns://127.0.0.1:'"$dns_port"'",zone="\.",view="",[^}]*\} [1-9]' <<<"$metrics"
kill -TERM "$ringdns_pid"
wait "$ringdns_pid" 2>/dev/null
check "the refusal is counted as view_refused" grep -qE 'view_refused=1( |$)' "$work/ringdns.log"
[ "$failures" -eq 0 ]
