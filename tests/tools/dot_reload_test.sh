#!/usr/bin/env bash
# A certificate rotated under a running DNS-over-TLS listener (RFC 7858): the operator
# replaces the certificate and key files and reloads (SIGHUP). A client connected
# before keeps its connection and its TLS session through three reloads, with a query
# sent half before and half after one of them; a new connection gets the new
# certificate. Then the files change again with no signal, as when cert-manager renews
# a mounted Secret: the `reload` directive notices and takes them up by itself.
# Usage: dot_reload_test.sh PATH_TO_RINGDNS
set -u
. "$(dirname "$0")/lib_tool_test.sh" "$1"
. "$root/tests/tools/lib_pki.sh"
for tool in openssl python3 /usr/sbin/nsd; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 0; }
done

pki_init "$work/pki"
pki_ca ca
pki_signed old ca 2 "DNS:dns.test,IP:127.0.0.1"
pki_signed new ca 2 "DNS:dns.test,IP:127.0.0.1"
cp "$pki/old.pem" "$work/server.pem"
cp "$pki/old.key" "$work/server.key"

nsd_port=$(port_block 2)
tls_port=$((nsd_port + 1))
start_nsd remote "$nsd_port" remote.svc.cluster.local. "$root/examples/zones/remote.svc.cluster.local.zone"
cat >"$work/Corefile" <<COREFILE
tls://.:$tls_port {
  bind 127.0.0.1
  tls $work/server.pem $work/server.key
  reload 2s 1s
  forward . 127.0.0.1:$nsd_port
}
COREFILE
"$ringdns" -conf "$work/Corefile" -shards 2 2>"$work/ringdns.log" &
ringdns_pid=$!
pids+=("$ringdns_pid")

# The client: one connection kept throughout; the reloads are its own steps.
python3 - "$tls_port" "$pki" "$work" "$ringdns_pid" >"$work/client.out" 2>&1 <<'PYTHON'
import hashlib, os, shutil, signal, socket, ssl, struct, sys, time

port, pki, work, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
context = ssl.create_default_context(cafile=f"{pki}/ca.pem")

def connect():
    for _ in range(50):
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=3)
            return context.wrap_socket(raw, server_hostname="dns.test")
        except (ConnectionRefusedError, ssl.SSLError):
            time.sleep(0.1)
    raise SystemExit("cannot connect")

def fingerprint(conn):
    return hashlib.sha256(conn.getpeercert(binary_form=True)).hexdigest()

def pem_fingerprint(path):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(open(path).read())).hexdigest()

def query(qid, name="cb-example-srv.remote.svc.cluster.local."):
    wire = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    wire += b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    wire += struct.pack(">HH", 1, 1)
    return struct.pack(">H", len(wire)) + wire

def read_answer(conn):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise SystemExit("connection closed")
            data += chunk
        return data
    msg = exactly(struct.unpack(">H", exactly(2))[0])
    qid, flags, _, ancount = struct.unpack(">HHHH", msg[:8])
    return qid, flags & 0xf, ancount

def logged(line):
    return open(f"{work}/ringdns.log").read().count(line)

def reload(n):
    os.kill(pid, signal.SIGHUP)
    for _ in range(100):
        if logged("SIGHUP: reloaded") >= n:
            return
        time.sleep(0.05)
    raise SystemExit("reload not logged")

kept = connect()
print("old certificate at first:", fingerprint(kept) == pem_fingerprint(f"{pki}/old.pem"))
kept.sendall(query(1))
print("answer before the reloads:", read_answer(kept) == (1, 0, 3))
# The rotation: new files, then a reload.
shutil.copy(f"{pki}/new.pem", f"{work}/server.pem")
shutil.copy(f"{pki}/new.key", f"{work}/server.key")
reload(1)
kept.sendall(query(2))
print("answer on the kept connection after a reload:", read_answer(kept) == (2, 0, 3))
half = query(3)
kept.sendall(half[: len(half) // 2])
time.sleep(0.1)
reload(2)
kept.sendall(half[len(half) // 2 :])
print("a query split across a reload answered:", read_answer(kept) == (3, 0, 3))
reload(3)
kept.sendall(query(4) + query(5))
print("two pipelined after a third reload:", sorted([read_answer(kept), read_answer(kept)]) == [(4, 0, 3), (5, 0, 3)])
print("the kept connection still shows the old certificate:", fingerprint(kept) == pem_fingerprint(f"{pki}/old.pem"))
fresh = connect()
print("a new connection gets the new certificate:", fingerprint(fresh) == pem_fingerprint(f"{pki}/new.pem"))
fresh.sendall(query(6))
print("and is answered:", read_answer(fresh) == (6, 0, 3))
# Renewal in place, no signal: the reload directive checks every 2-3 s.
renewed = "reload (a certificate, key or CA file changed): reloaded"
before = logged(renewed)
shutil.copy(f"{pki}/old.pem", f"{work}/server.pem")
shutil.copy(f"{pki}/old.key", f"{work}/server.key")
for _ in range(80):
    if logged(renewed) > before:
        break
    time.sleep(0.1)
print("a renewed certificate file is reloaded by itself:", logged(renewed) > before)
renewed_conn = connect()
print("and served on new connections:", fingerprint(renewed_conn) == pem_fingerprint(f"{pki}/old.pem"))
kept.sendall(query(7))
print("the kept connection still answers:", read_answer(kept) == (7, 0, 3))
PYTHON
cat "$work/client.out"
for step in "old certificate at first" "answer before the reloads" "answer on the kept connection after a reload" \
            "a query split across a reload answered" "two pipelined after a third reload" \
            "the kept connection still shows the old certificate" "a new connection gets the new certificate" \
            "and is answered" "a renewed certificate file is reloaded by itself" \
            "and served on new connections" "the kept connection still answers"; do
  check "$step" grep -qx "$step: True" "$work/client.out"
done
kill -TERM "$ringdns_pid"
wait "$ringdns_pid"
stats=$(grep 'stopped:' "$work/ringdns.log")
handed=$(grep -o 'tcp_handed_over=[0-9]*' <<<"$stats" | cut -d= -f2)
check "the TLS connections were handed over at each reload (${handed:-none})" test "${handed:-0}" -ge 4
check "one TLS handshake per connection, none repeated" grep -qE 'tls_handshakes=3( |$)' <<<"$stats"

[ "$failures" -eq 0 ] || { cat "$work/ringdns.log"; exit 1; }
