# Sourced by tools/demo.sh and bench/harness/*.sh: a scratch folder, processes stopped by
# PID on exit, and real nsd servers on loopback (rate limiting and control port off).
#   loopback_init          make $work and the exit trap
#   start_bg CMD...        run CMD in the background, remembered for the trap
#   nsd_conf NAME ADDRESS PORT ZONE ZONEFILE   an nsd.conf (for nsd started elsewhere)
#   start_nsd NAME PORT ZONE ZONEFILE   nsd on 127.0.0.1:PORT serving ZONE
#   port_block N           the first of N free consecutive ports

loopback_init() {
  work=$(mktemp -d /tmp/ringdns.XXXXXX)
  pids=()
  trap loopback_cleanup EXIT
  trap "exit 143" INT TERM  # through the EXIT trap: stop what was started, then end
}

loopback_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

start_bg() {
  "$@" &
  pids+=($!)
  last_pid=$!
}

# nsd_conf NAME ADDRESS PORT ZONE ZONEFILE: $work/NAME/nsd.conf for nsd on ADDRESS@PORT.
nsd_conf() {
  local name=$1 address=$2 port=$3 zone=$4 file=$5
  mkdir -p "$work/$name"
  cat >"$work/$name/nsd.conf" <<CONF
server:
  ip-address: $address@$port
  zonesdir: "$work/$name"
  pidfile: ""
  database: ""
  zonelistfile: "$work/$name/zone.list"
  xfrdfile: "$work/$name/xfrd.state"
  username: ""
  logfile: "$work/$name/nsd.log"
  server-count: 1
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "$zone"
  zonefile: "$file"
CONF
}

start_nsd() {
  nsd_conf "$1" 127.0.0.1 "$2" "$3" "$4"
  start_bg /usr/sbin/nsd -d -c "$work/$1/nsd.conf"
}

# port_block N: the first of N consecutive ports on 127.0.0.1, free for UDP and TCP
# right now, chosen at random below the kernel's ephemeral range, so tests running in
# parallel do not collide.
port_block() {
  local n=$1 base p busy
  for _ in $(seq 1 100); do
    base=$((20000 + (RANDOM * 32768 + RANDOM) % (12000 - n)))
    busy=0
    for p in $(seq "$base" $((base + n - 1))); do
      if ss -Hlnu "sport = :$p" | grep -q . || ss -Hlnt "sport = :$p" | grep -q .; then busy=1; break; fi
    done
    [ "$busy" -eq 0 ] && { echo "$base"; return 0; }
  done
  echo "port_block: no $n free ports found" >&2
  return 1
}
