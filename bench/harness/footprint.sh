#!/usr/bin/env bash
# What each forwarder costs a pod beside its work: how long it takes to start (exec to
# its first answer), what it holds idle (RSS, PSS, private pages) and how often it wakes
# up with nothing to do (context switches of all its threads per second) and at what
# CPU, then what it holds after 100 000 distinct names (each cached where it caches) and
# at its peak.
# Caches on, configured as bench/harness/lib_peers.sh configures each for one core;
# ringdns with 1 and 2 shards. Forwarding to the nsd upstream on loopback.
#
#   bench/harness/footprint.sh [REPS]      (default 3; the report shows medians)
#
# Writes bench/results/DATE/footprint.tsv and footprint.md. Runs in a network namespace
# of its own with only loopback; every process is stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${RINGDNS_PRIVATE_NETWORK:-}" ]; then
  RINGDNS_PRIVATE_NETWORK=1 exec unshare --net "$0" "$@"
fi
ip link set lo up
reps=${1:-3}
idle_seconds=${IDLE_SECONDS:-5}
ringdns=${RINGDNS:-$root/build/release/tools/ringdns}
reflector=/nonexistent  # no floor here: it holds nothing and never idles
out=${OUT:-$root/bench/results/$(date -u +%Y-%m-%d)}
for tool in dnsperf dig /usr/sbin/nsd python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (tools/install-deps.sh --bench)" >&2; exit 2; }
done
. "$root/tools/lib_loopback.sh"
loopback_init
. "$root/bench/harness/lib_peers.sh"
start_bench_upstream
seq 1 100000 | awk '{print "n" $1 ".bench.test A"}' >"$work/names.txt"

# Context switches of every thread of PID (and dnsmasq's children): each one is a wake-up.
switches() {
  local pids=("$1") child
  for child in $(pgrep -P "$1" 2>/dev/null); do pids+=("$child"); done
  for child in "${pids[@]}"; do cat /proc/"$child"/task/*/status 2>/dev/null; done |
    awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ {n += $2} END {print n + 0}'
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# RSS counts every shared library page the process touched, pages that every process
# mapping the same file shares (on a node, every replica of one image). What one more
# replica costs is closer to its private pages (written, or read from no shared file);
# PSS charges each shared page in shares.
private_kib() { awk '/^Private_(Clean|Dirty):/ {n += $2} END {print n + 0}' "/proc/$1/smaps_rollup"; }
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
now_ns() { date +%s%N; }

port=5600
measure() {  # FORWARDER SHARDS
  local name=$1 t0 t1 pid
  shards=$2
  port=$((port + 1))
  t0=$(now_ns)
  start_forwarder "$name" "$port" 1 || return 0
  pid=$forwarder_pid
  if ! wait_ready "$port"; then
    echo "  $name did not answer; skipped" >&2
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    return 0
  fi
  t1=$(now_ns)
  sleep 1  # settle: start-up threads done, first answer's work finished
  local rss_idle pss_idle private_idle s0 c0 s1 c1 u0 u1
  rss_idle=$(rss_kib "$pid")
  pss_idle=$(pss_kib "$pid")
  private_idle=$(private_kib "$pid")
  s0=$(switches "$pid"); c0=$(cpu_ns "$pid"); u0=$(now_ns)
  sleep "$idle_seconds"
  s1=$(switches "$pid"); c1=$(cpu_ns "$pid"); u1=$(now_ns)
  dnsperf -s 127.0.0.1 -p "$port" -d "$work/names.txt" -n 1 -Q 20000 -l 60 -t 5 >"$work/run.out" 2>&1 || true
  sleep 1
  local rss_after peak answered
  rss_after=$(rss_kib "$pid")
  peak=$(peak_rss_kib "$pid")
  answered=$(awk '/Queries completed:/ {print $3}' "$work/run.out")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  awk -v n="$name" -v sh="$shards" -v start=$(((t1 - t0) / 1000)) -v idle="$rss_idle" \
      -v pss="$pss_idle" -v private="$private_idle" \
      -v sw=$((s1 - s0)) -v cpu=$((c1 - c0)) -v span=$((u1 - u0)) -v after="$rss_after" -v peak="$peak" \
      -v answered="${answered:-0}" 'BEGIN {
    printf "%s\t%s\t%.1f\t%d\t%d\t%d\t%.1f\t%.1f\t%d\t%d\t%d\n", n, sh, start / 1000, idle, pss, private,
      sw * 1e9 / span, cpu / 1e3 / (span / 1e9), after, peak, answered }' | tee -a "$work/footprint.tsv"
}

printf 'forwarder\tshards\tstartup_ms\trss_idle_kib\tpss_idle_kib\tprivate_idle_kib\tidle_wakeups_per_s\tidle_cpu_us_per_s\trss_after_100k_kib\tpeak_rss_kib\tanswered\n' \
  >"$work/footprint.tsv"
for _ in $(seq 1 "$reps"); do
  for name in $(forwarders); do
    [ "$name" = floor ] && continue
    measure "$name" 1
  done
  measure ringdns 2
done

mkdir -p "$out"
cp "$work/footprint.tsv" "$out/footprint.tsv"
python3 - "$out" "$reps" "$idle_seconds" <<'PY'
import csv, statistics, sys
out, reps, idle = sys.argv[1], sys.argv[2], sys.argv[3]
rows = list(csv.DictReader(open(f"{out}/footprint.tsv"), delimiter="\t"))
keys = []
for r in rows:
    k = (r["forwarder"], r["shards"])
    if k not in keys:
        keys.append(k)
cols = [("startup_ms", "start-up ms"), ("rss_idle_kib", "RSS idle MiB"), ("pss_idle_kib", "PSS idle MiB"),
        ("private_idle_kib", "private idle MiB"), ("idle_wakeups_per_s", "idle wake-ups/s"),
        ("idle_cpu_us_per_s", "idle CPU µs/s"), ("rss_after_100k_kib", "RSS after 100k names MiB"),
        ("peak_rss_kib", "peak RSS MiB")]
with open(f"{out}/footprint.md", "w") as f:
    f.write(f"# Footprint: medians of {reps} runs (bench/harness/footprint.sh; idle measured over {idle} s)\n\n")
    f.write("RSS counts the shared libraries' pages each process touched; PSS charges a shared page in\n"
            "shares; private is what the process alone holds (what one more replica of an image costs a node).\n\n")
    f.write("| forwarder | shards | " + " | ".join(c[1] for c in cols) + " |\n")
    f.write("|---|---|" + "---|" * len(cols) + "\n")
    for k in keys:
        sel = [r for r in rows if (r["forwarder"], r["shards"]) == k]
        cells = []
        for c, _ in cols:
            v = statistics.median(float(r[c]) for r in sel)
            cells.append(f"{v / 1024:.1f}" if c.endswith("kib") else f"{v:.1f}")
        f.write(f"| {k[0]} | {k[1]} | " + " | ".join(cells) + " |\n")
print(open(f"{out}/footprint.md").read())
PY
