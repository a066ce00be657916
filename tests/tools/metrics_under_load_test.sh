#!/usr/bin/env bash
# /metrics under load, as Prometheus sees it: /ready answers 200 only once DNS is
# served; a scrape in the middle of a dnsperf run passes promtool and shows the run in
# progress; after it, requests and responses counted by ringdns equal what dnsperf
# sent and got back.
# Usage: metrics_under_load_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
for tool in dig dnsperf curl promtool /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

nsd_port=$(port_block 4)
dns_port=$((nsd_port + 1))
metrics_port=$((nsd_port + 2))
ready_port=$((nsd_port + 3))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/Corefile" <<COREFILE
remote.svc.cluster.local:$dns_port {
  bind 127.0.0.1
  prometheus 127.0.0.1:$metrics_port
  ready 127.0.0.1:$ready_port
  cache 30
  forward . 127.0.0.1:$nsd_port
}
COREFILE
"$ringdns" -conf "$work/Corefile" -shards 2 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")
ready=""
for _ in $(seq 1 100); do
  ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ready_port/ready")
  [ "$ready" = 200 ] && break
  sleep 0.05
done
check "/ready turns 200" test "$ready" = 200
# At that moment the listeners serve: one try, no retry.
dig @127.0.0.1 -p "$dns_port" +tries=1 +timeout=1 cb-example-srv.remote.svc.cluster.local A >"$work/dig.out" 2>&1
check "a query is answered as soon as /ready is 200" grep -q 'status: NOERROR' "$work/dig.out"

printf '%s\n' "_couchbase._tcp.cb-example-srv.remote.svc.cluster.local. SRV" \
  "cb-example-srv.remote.svc.cluster.local. A" "missing.remote.svc.cluster.local. A" >"$work/queries"
dnsperf -s 127.0.0.1 -p "$dns_port" -d "$work/queries" -l 8 -Q 3000 -t 5 -b 4096 >"$work/dnsperf.out" 2>&1 &
perf_pid=$!
pids+=("$perf_pid")
sleep 4
curl -s "http://127.0.0.1:$metrics_port/metrics" >"$work/mid.txt"
wait "$perf_pid"
sum() { awk -v m="$1" '$1 ~ "^"m"[{ ]" {s += $NF} END {printf "%d", s}' "$2"; }
sent=$(awk '/Queries sent:/ {print $3}' "$work/dnsperf.out")
completed=$(awk '/Queries completed:/ {print $3}' "$work/dnsperf.out")
mid=$(sum coredns_dns_requests_total "$work/mid.txt")
check "the mid-run scrape passes promtool" sh -c "promtool check metrics <'$work/mid.txt' >/dev/null 2>&1"
check "the mid-run scrape shows the run in progress (1 < $mid < $sent)" \
  sh -c "[ '$mid' -gt 1 ] && [ '$mid' -lt '$sent' ]"
curl -s "http://127.0.0.1:$metrics_port/metrics" >"$work/end.txt"
requests=$(sum coredns_dns_requests_total "$work/end.txt")
responses=$(sum coredns_dns_responses_total "$work/end.txt")
# The dig above adds one query and one answer.
check "requests counted = dnsperf's sent + 1 ($requests vs $sent)" test "$requests" -eq $((sent + 1))
check "responses counted = dnsperf's completed + 1 ($responses vs $completed)" test "$responses" -eq $((completed + 1))
check "dnsperf lost nothing" grep -q 'Queries lost:         0 ' "$work/dnsperf.out"
hits=$(sum coredns_cache_hits_total "$work/end.txt")
check "the cache answered most of them ($hits)" test "$hits" -gt $((sent / 2))
kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
check "ringdns exits 0 on SIGTERM" test $? -eq 0
[ "$failures" -eq 0 ] || { cat "$work/dnsperf.out" "$work/ringdns.log"; exit 1; }
