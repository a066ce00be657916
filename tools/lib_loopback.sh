# Sourced by tools/demo.sh and bench/harness/*.sh: a scratch folder, processes stopped by
# PID on exit, and real nsd servers on loopback (rate limiting and control port off).
#   loopback_init          make $work and the exit trap
#   start_bg CMD...        run CMD in the background, remembered for the trap
#   start_nsd NAME PORT ZONE ZONEFILE   nsd on 127.0.0.1:PORT serving ZONE

loopback_init() {
  work=$(mktemp -d /tmp/ringdns.XXXXXX)
  pids=()
  trap loopback_cleanup EXIT INT TERM
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

start_nsd() {
  local name=$1 port=$2 zone=$3 file=$4
  mkdir -p "$work/$name"
  cat >"$work/$name/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1@$port
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
  start_bg /usr/sbin/nsd -d -c "$work/$name/nsd.conf"
}
