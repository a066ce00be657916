#!/usr/bin/env bash
# What forgery resistance costs: two ringdns builds side by side in one run, before
# (RINGDNS_BEFORE) and after (RINGDNS, default build/release) a change to the upstream
# path, each forwarding to one nsd upstream:
#
#   forward  every query a new name (a wildcard), no cache: every query goes upstream
#   k8s      the tutorial's traffic (SRV, A, AAAA, search-path NXDOMAIN; TTL 1), cache on
#
# each at a fixed rate (dnsperf -Q RATE: latency) and at saturation (-q 200: throughput),
# alternating the builds within each repetition. Measures answered queries per second,
# lost queries, latency p50/p99/p99.9, and ringdns's CPU time per answered query.
#
#   RINGDNS_BEFORE=/path/to/old/ringdns bench/harness/forgery.sh [SECONDS] [REPS] [RATE]
#                                                             (defaults 5 3 10000)
#
# Writes bench/results/DATE/forgery.tsv and forgery.md. Runs in a network namespace of
# its own with only loopback; every process is stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${RINGDNS_PRIVATE_NETWORK:-}" ]; then
  RINGDNS_PRIVATE_NETWORK=1 exec unshare --net "$0" "$@"
fi
ip link set lo up
seconds=${1:-5}
reps=${2:-3}
rate=${3:-10000}
after=${RINGDNS:-$root/build/release/tools/ringdns}
before=${RINGDNS_BEFORE:?set RINGDNS_BEFORE to the ringdns binary to compare against}
shards=${SHARDS:-2}
out=${OUT:-$root/bench/results/$(date -u +%Y-%m-%d)}
for tool in dnsperf dig /usr/sbin/nsd python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (tools/install-deps.sh --bench)" >&2; exit 2; }
done
. "$root/tools/lib_loopback.sh"
loopback_init
. "$root/bench/harness/lib_peers.sh"
start_bench_upstream
seq 1 1000000 | awk '{print "u" $1 ".wild.bench.test A"}' >"$work/forward.txt"
k8s_queries >"$work/k8s.txt"

port=5500
measure() {  # BUILD SCENARIO MODE
  local build=$1 scenario=$2 mode=$3 binary dir args=(-c 8) cache=""
  binary=$([ "$build" = before ] && echo "$before" || echo "$after")
  port=$((port + 1))
  dir="$work/run-$port"
  mkdir -p "$dir"
  if [ "$scenario" = k8s ]; then cache="  cache"; fi
  printf '.:%s {\n  bind 127.0.0.1\n%s\n  forward . 127.0.0.1:%s\n}\n' "$port" "$cache" "$upstream_port" >"$dir/Corefile"
  start_bg "$binary" -conf "$dir/Corefile" -shards "$shards" 2>"$dir/log"
  local pid=$last_pid
  for _ in $(seq 1 100); do dig @127.0.0.1 -p "$port" +short +tries=1 +time=1 n1.bench.test | grep -q . && break; sleep 0.05; done
  if [ "$mode" = fixed ]; then args+=(-Q "$rate" -v); else args+=(-q 200); fi
  local cpu_before cpu_after
  cpu_before=$(cpu_ns "$pid")
  dnsperf -s 127.0.0.1 -p "$port" -d "$work/$scenario.txt" -l "$seconds" -b 4096 "${args[@]}" >"$dir/run.out" 2>&1 || true
  cpu_after=$(cpu_ns "$pid")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local answered qps lost lat="- - -"
  answered=$(awk '/Queries completed:/ {print $3}' "$dir/run.out")
  qps=$(awk '/Queries per second:/ {printf "%d", $4}' "$dir/run.out")
  lost=$(awk '/Queries lost:/ {print $3}' "$dir/run.out")
  if [ "$mode" = fixed ]; then lat=$(grep '^>' "$dir/run.out" | awk '{print $NF}' | percentiles); fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$build" "$scenario" "$mode" "${qps:-0}" "${lost:-0}" \
    "$(tr ' ' '\t' <<<"$lat")" \
    "$(awk -v t=$((cpu_after - cpu_before)) -v a="${answered:-0}" 'BEGIN { printf "%.2f", (a > 0 ? t / 1e3 / a : 0) }')" |
    tee -a "$work/forgery.tsv"
}

printf 'build\tscenario\tmode\tqps\tlost\tp50_us\tp99_us\tp999_us\tcpu_us\n' >"$work/forgery.tsv"
for scenario in forward k8s; do
  for mode in fixed saturation; do
    for _ in $(seq 1 "$reps"); do
      measure before "$scenario" "$mode"
      measure after "$scenario" "$mode"
    done
  done
done

mkdir -p "$out"
cp "$work/forgery.tsv" "$out/forgery.tsv"
python3 - "$out/forgery.tsv" "$out/forgery.md" "$seconds" "$reps" "$rate" "$shards" <<'PY'
import csv, statistics, sys
tsv, md, seconds, reps, rate, shards = sys.argv[1:]
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
def med(build, scenario, mode, key):
    vals = [float(r[key]) for r in rows if (r["build"], r["scenario"], r["mode"]) == (build, scenario, mode) and r[key] != "-"]
    return statistics.median(vals) if vals else float("nan")
lines = [f"# Forgery resistance: what it costs ({seconds} s runs, medians of {reps}, {shards} shards, fixed rate {rate} q/s)", "",
         "| scenario | mode | build | q/s | p50 / p99 / p99.9 us | CPU us per answer |", "|---|---|---|---|---|---|"]
for scenario in ("forward", "k8s"):
    for mode in ("fixed", "saturation"):
        for build in ("before", "after"):
            lat = "-" if mode == "saturation" else " / ".join(f"{med(build, scenario, mode, k):.0f}" for k in ("p50_us", "p99_us", "p999_us"))
            lines.append(f"| {scenario} | {mode} | {build} | {med(build, scenario, mode, 'qps'):.0f} | {lat} | {med(build, scenario, mode, 'cpu_us'):.2f} |")
        ratio = med("after", scenario, mode, "cpu_us") / med("before", scenario, mode, "cpu_us")
        qps_ratio = med("after", scenario, mode, "qps") / med("before", scenario, mode, "qps")
        lines.append(f"| {scenario} | {mode} | after / before | {qps_ratio:.2f}x | | {ratio:.2f}x |")
open(md, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
