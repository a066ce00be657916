#!/usr/bin/env bash
# ringdns against the forwarders a user would otherwise pick (dnsdist, Unbound, Knot
# Resolver, dnsmasq) and against the floor (bench/reflector), measured the same way in
# the same run: dnsperf against each, forwarding to one nsd upstream that serves
# bench.test. (100 000 names, and a wildcard for unique names) and the tutorial's
# remote.svc.cluster.local.
#
#   bench/harness/peers.sh [SECONDS] [REPS] [RATE]        (defaults 5 3 10000)
#
# Scenarios (SCENARIOS, default all):
#   hit      100 names, caches on, after a warm-up: nearly every query a cache hit
#   forward  every query a new name; caches off where the forwarder allows it
#   k8s      the tutorial's traffic: SRV, pod A, AAAA (no data), NXDOMAIN from
#            search-path expansion; TTL 1 as Kubernetes serves it; caches on
#   tcp      the hit names over 8 TCP connections
# each at a fixed rate (dnsperf -Q RATE) and at saturation (-q 200 outstanding; MODES
# narrows: "fixed", "saturation"). Every
# run starts the forwarder afresh (empty caches) and measures: answered queries per
# second, lost queries, latency p50/p99/p99.9 (fixed rate), the forwarder's CPU time per
# answered query (time on CPU of all its threads, /proc/PID/task/*/schedstat, before and
# after), its peak RSS (VmHWM). Then
# ringdns with 1 and 2 shards on the forwarding scenario. bench/harness/report.py turns
# the runs into bench/results/DATE/ (results.md, results.tsv, chart.png).
#
# The whole harness runs in a network namespace of its own with only loopback: no
# forwarder (Unbound and kresd are recursive resolvers) can send anything off the
# machine. Every process is stopped by PID, also on failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${RINGDNS_PRIVATE_NETWORK:-}" ]; then
  RINGDNS_PRIVATE_NETWORK=1 exec unshare --net "$0" "$@"
fi
ip link set lo up
seconds=${1:-5}
reps=${2:-3}
rate=${3:-10000}
ringdns=${RINGDNS:-$root/build/release/tools/ringdns}
reflector=${REFLECTOR:-$root/build/release/bench/reflector}
scenarios=${SCENARIOS:-hit forward k8s tcp}
modes=${MODES:-fixed saturation}
out=${OUT:-$root/bench/results/$(date -u +%Y-%m-%d)}
for tool in dnsperf dig /usr/sbin/nsd python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (tools/install-deps.sh --bench)" >&2; exit 2; }
done
. "$root/tools/lib_loopback.sh"
loopback_init
. "$root/bench/harness/lib_peers.sh"

start_bench_upstream
# Query files.
seq 1 100 | awk '{print "n" $1 ".bench.test A"}' >"$work/hit.txt"
seq 1 1000000 | awk '{print "u" $1 ".wild.bench.test A"}' >"$work/forward.txt"
k8s_queries >"$work/k8s.txt"
cp "$work/hit.txt" "$work/tcp.txt"

port=5400

# One measured run: a fresh forwarder, a warm-up unless every name is new, dnsperf.
measure() {  # FORWARDER SCENARIO MODE SHARDS
  local name=$1 scenario=$2 mode=$3 cache=1 args=() result
  shards=$4
  if [ "$scenario" = forward ]; then cache=0; fi
  port=$((port + 1))
  start_forwarder "$name" "$port" "$cache" || return 0
  local pid=$forwarder_pid
  if ! wait_ready "$port"; then
    echo "  $name did not answer; skipped" >&2
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 0
  fi
  if [ "$scenario" = tcp ]; then args+=(-m tcp -c 8); fi
  if [ "$scenario" != forward ]; then
    dnsperf -s 127.0.0.1 -p "$port" -d "$work/$scenario.txt" -l 1 -Q 2000 "${args[@]}" >/dev/null 2>&1 || true
  fi
  if [ "$mode" = fixed ]; then args+=(-Q "$rate" -v); else args+=(-q 200); fi
  local before after
  before=$(cpu_ns "$pid")
  dnsperf -s 127.0.0.1 -p "$port" -d "$work/$scenario.txt" -l "$seconds" -b 4096 "${args[@]}" >"$work/run.out" 2>&1 || true
  after=$(cpu_ns "$pid")
  local rss answered qps lost lat
  rss=$(peak_rss_kib "$pid")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -n "${companion_pid:-}" ]; then kill "$companion_pid" 2>/dev/null || true; companion_pid=; fi
  answered=$(awk '/Queries completed:/ {print $3}' "$work/run.out")
  qps=$(awk '/Queries per second:/ {printf "%d", $4}' "$work/run.out")
  lost=$(awk '/Queries lost:/ {print $3}' "$work/run.out")
  lat="- - -"
  if [ "$mode" = fixed ]; then lat=$(grep '^>' "$work/run.out" | awk '{print $NF}' | percentiles); fi
  result=$(awk -v t=$((after - before)) -v a="${answered:-0}" 'BEGIN { printf "%.2f", (a > 0 ? t / 1e3 / a : 0) }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$shards" "$scenario" "$mode" "${qps:-0}" "${lost:-0}" \
    "$(tr ' ' '\t' <<<"$lat")" "$result" "${rss:-0}" | tee -a "$work/runs.tsv"
}

printf 'forwarder\tshards\tscenario\tmode\tqps\tlost\tp50_us\tp99_us\tp999_us\tcpu_us\trss_kib\n' >"$work/runs.tsv"
for scenario in $scenarios; do
  for mode in $modes; do
    for _ in $(seq 1 "$reps"); do
      for name in $(forwarders); do
        # The floor answers without asking anyone: it belongs to the cache-hit scenario.
        if [ "$name" != floor ] || [ "$scenario" = hit ]; then measure "$name" "$scenario" "$mode" 1; fi
      done
      if [ "$scenario" = forward ]; then  # shard scaling
        measure ringdns forward "$mode" 2
        if [ -n "${RINGDNS_BEFORE:-}" ]; then measure ringdns-before forward "$mode" 2; fi
      fi
    done
  done
done

mkdir -p "$out"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "kernel: $(uname -r)"
  echo "load: dnsperf $(dnsperf -h 2>&1 | awk '/Version/ {print $2}'), ${seconds} s per run, ${reps} repetitions, fixed rate ${rate} q/s, saturation -q 200"
  echo "upstream: nsd $(/usr/sbin/nsd -v 2>&1 | head -1 | awk '{print $3}'), server-count 2"
  echo "command: bench/harness/peers.sh $seconds $reps $rate (SCENARIOS=\"$scenarios\" MODES=\"$modes\")"
  for name in $(forwarders); do
    if forwarder_available "$name"; then echo "$name: $(forwarder_version "$name")"; else echo "$name: not installed, skipped"; fi
  done
  echo "coredns: not packaged by Debian 12, skipped"
} >"$out/machine.txt"
cp "$work/runs.tsv" "$out/results.tsv"
python3 "$root/bench/harness/report.py" "$out"
