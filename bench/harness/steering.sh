#!/usr/bin/env bash
# One name, one shard, measured: ringdns with 1, 2 and 4 shards, UDP queries steered by
# question (the default) and by the kernel's hash of the client (-steering client), on
# four mixes, each at a fixed rate and at saturation, caches on, from an empty cache:
#
#   k8s      the tutorial's traffic (SRV, A, AAAA, search-path NXDOMAIN; TTL 1)
#   uniform  200 000 queries over 5 000 names of bench.test. (TTL 3600), uniform: they
#            fit one shard's cache (9 984 entries), so misses are first sightings only
#   zipf     the same names, Zipf-distributed (s = 1): the top name is ~11% of queries
#   hot      one name is half of all queries, the rest uniform (a sidecar's favourite
#            service): how far one popular name loads one shard
#
#   bench/harness/steering.sh [SECONDS] [REPS] [RATE]      (defaults 5 3 10000)
#
# Each run reads ringdns's own counters from /metrics at the end: upstream queries per
# answered query, cache hit ratio, and the load spread (the busiest shard's queries over
# the mean). dnsperf sends from many source ports (-c 8 clients), as stub resolvers do.
# Writes bench/results/DATE/steering.tsv and steering.md. Runs in a network namespace of
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
ringdns=${RINGDNS:-$root/build/release/tools/ringdns}
mixes=${MIXES:-k8s uniform zipf hot}
shard_counts=${SHARDS:-1 2 4}
out=${OUT:-$root/bench/results/$(date -u +%Y-%m-%d)}
for tool in dnsperf dig curl /usr/sbin/nsd python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (tools/install-deps.sh --bench)" >&2; exit 2; }
done
. "$root/tools/lib_loopback.sh"
loopback_init
. "$root/bench/harness/lib_peers.sh"
start_bench_upstream

# Query files.
k8s_queries >"$work/k8s.txt"
python3 - "$work" <<'PY'
import random, sys
work = sys.argv[1]
names, count = 5000, 200000
rng = random.Random(7)
with open(f"{work}/uniform.txt", "w") as f:
    for _ in range(count):
        f.write(f"n{rng.randint(1, names)}.bench.test A\n")
weights = [1.0 / rank for rank in range(1, names + 1)]
with open(f"{work}/zipf.txt", "w") as f:
    for n in rng.choices(range(1, names + 1), weights=weights, k=count):
        f.write(f"n{n}.bench.test A\n")
with open(f"{work}/hot.txt", "w") as f:
    for _ in range(count):
        f.write("n1.bench.test A\n" if rng.random() < 0.5 else f"n{rng.randint(2, names)}.bench.test A\n")
PY

port=5500
# shard_sum METRICS NAME -> the sum over shards; shard_max_over_mean METRICS NAME SHARDS
shard_sum() { awk -v m="ringdns_$2_total{" 'index($0, m) == 1 {s += $2} END {printf "%.0f", s}' "$1"; }
shard_spread() {
  awk -v m="ringdns_$2_total{" -v n="$3" 'index($0, m) == 1 {s += $2; if ($2 > x) x = $2}
    END {printf "%.2f", (s > 0 ? x * n / s : 0)}' "$1"
}

measure() {  # MIX MODE SHARDS STEERING
  local mix=$1 mode=$2 shards=$3 steering=$4 dir args=(-c 8)
  port=$((port + 2))
  dir="$work/run-$port"
  mkdir -p "$dir"
  printf '.:%s {\n  bind 127.0.0.1\n  cache\n  prometheus 127.0.0.1:%s\n  forward . 127.0.0.1:%s\n}\n' \
    "$port" "$((port + 1))" "$upstream_port" >"$dir/Corefile"
  start_bg "$ringdns" -conf "$dir/Corefile" -shards "$shards" -steering "$steering" 2>"$dir/log"
  local pid=$last_pid
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$((port + 1))/metrics" >/dev/null && break; sleep 0.05; done
  # At saturation every run of a 200 000-query mix sends each query once (-n 1), so
  # upstream queries per answer compare across shard counts; k8s (TTL 1) runs for time.
  if [ "$mode" = fixed ]; then args+=(-Q "$rate" -v); else args+=(-q 200); fi
  local limit=$seconds
  if [ "$mode" = saturation ] && [ "$mix" != k8s ]; then args+=(-n 1); limit=$((seconds * 10)); fi
  local before after
  before=$(cpu_ns "$pid")
  dnsperf -s 127.0.0.1 -p "$port" -d "$work/$mix.txt" -l "$limit" -b 4096 "${args[@]}" >"$dir/run.out" 2>&1 || true
  after=$(cpu_ns "$pid")
  curl -sf "http://127.0.0.1:$((port + 1))/metrics" >"$dir/metrics" || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local answered qps lost lat forwarded hits misses
  answered=$(awk '/Queries completed:/ {print $3}' "$dir/run.out")
  qps=$(awk '/Queries per second:/ {printf "%d", $4}' "$dir/run.out")
  lost=$(awk '/Queries lost:/ {print $3}' "$dir/run.out")
  lat="- - -"
  if [ "$mode" = fixed ]; then lat=$(grep '^>' "$dir/run.out" | awk '{print $NF}' | percentiles); fi
  forwarded=$(shard_sum "$dir/metrics" forwarded)
  hits=$(shard_sum "$dir/metrics" cache_hits)
  misses=$(shard_sum "$dir/metrics" cache_misses)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mix" "$mode" "$shards" "$steering" "${qps:-0}" "${lost:-0}" \
    "$(tr ' ' '\t' <<<"$lat")" \
    "$(awk -v t=$((after - before)) -v a="${answered:-0}" 'BEGIN { printf "%.2f", (a > 0 ? t / 1e3 / a : 0) }')" \
    "$(awk -v f="$forwarded" -v a="${answered:-0}" 'BEGIN { printf "%.4f", (a > 0 ? f / a : 0) }')" \
    "$(awk -v h="$hits" -v m="$misses" 'BEGIN { printf "%.4f", (h + m > 0 ? h / (h + m) : 0) }')" \
    "$(shard_spread "$dir/metrics" queries "$shards")" | tee -a "$work/steering.tsv"
}

printf 'mix\tmode\tshards\tsteering\tqps\tlost\tp50_us\tp99_us\tp999_us\tcpu_us\tupstream_per_answer\thit_ratio\tspread\n' \
  >"$work/steering.tsv"
for mix in $mixes; do
  for mode in fixed saturation; do
    for _ in $(seq 1 "$reps"); do
      for shards in $shard_counts; do
        measure "$mix" "$mode" "$shards" question
        if [ "$shards" -gt 1 ]; then measure "$mix" "$mode" "$shards" client; fi
      done
    done
  done
done

mkdir -p "$out"
cp "$work/steering.tsv" "$out/steering.tsv"
python3 - "$out" "$seconds" "$reps" "$rate" <<'PY'
import csv, statistics, sys
out, seconds, reps, rate = sys.argv[1:]
rows = list(csv.DictReader(open(f"{out}/steering.tsv"), delimiter="\t"))
groups = {}
for r in rows:
    groups.setdefault((r["mix"], r["mode"], r["shards"], r["steering"]), []).append(r)
cols = ["qps", "lost", "p50_us", "p99_us", "p999_us", "cpu_us", "upstream_per_answer", "hit_ratio", "spread"]
def med(rs, c):
    vals = [float(r[c]) for r in rs if r[c] not in ("-", "")]
    return statistics.median(vals) if vals else None
with open(f"{out}/steering.md", "w") as f:
    f.write(f"# UDP steering by question: shards acting as one cache\n\n")
    f.write(f"bench/harness/steering.sh {seconds} {reps} {rate}: medians of {reps} runs, "
            f"{seconds} s each, fixed rate {rate} q/s or saturation (-q 200), dnsperf -c 8.\n\n")
    f.write("| mix | mode | shards | steering | " + " | ".join(cols) + " |\n")
    f.write("|" + "---|" * (4 + len(cols)) + "\n")
    for key, rs in groups.items():
        vals = []
        for c in cols:
            v = med(rs, c)
            vals.append("-" if v is None else (f"{v:.4f}" if c in ("upstream_per_answer", "hit_ratio") else f"{v:g}"))
        f.write("| " + " | ".join(key) + " | " + " | ".join(vals) + " |\n")
print(open(f"{out}/steering.md").read())
PY
