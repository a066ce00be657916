#!/usr/bin/env python3
"""How long an upstream source port of ringdns lives, measured from outside.

Starts ringdns (one shard) forwarding to a UDP upstream of this script's on loopback,
asks one query every INTERVAL_MS (default 50; each of a shard's 256 ports must see
queries often enough to time its life, so use 2) for SECONDS, and reports for each source port the queries
arrived from how long it was seen in use (first to last query). A port seen from the
start or until the end is cut by the window and left out of the figures.

Usage: port_lifetime.py PATH_TO_RINGDNS [SECONDS] [INTERVAL_MS]   (loopback only)
"""
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time


def query(qid, name):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + struct.pack(">HH", 1, 1)


def main():
    ringdns = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 90
    interval = (float(sys.argv[3]) if len(sys.argv) > 3 else 50) / 1000
    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.bind(("127.0.0.1", 0))
    upstream.settimeout(0.2)
    seen = {}  # port -> [first, last]
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, peer = upstream.recvfrom(4096)
            except socket.timeout:
                continue
            now = time.monotonic()
            seen.setdefault(peer[1], [now, now])[1] = now
            answer = bytearray(data)
            answer[2] |= 0x80  # QR; no records: NOERROR/NODATA is answer enough
            upstream.sendto(bytes(answer), peer)

    threading.Thread(target=serve, daemon=True).start()
    listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listen.bind(("127.0.0.1", 0))
    port = listen.getsockname()[1]
    listen.close()
    work = tempfile.mkdtemp()
    corefile = os.path.join(work, "Corefile")
    with open(corefile, "w") as f:
        f.write(".:%d {\n  bind 127.0.0.1\n  forward . 127.0.0.1:%d\n}\n" % (port, upstream.getsockname()[1]))
    proc = subprocess.Popen([ringdns, "-conf", corefile, "-shards", "1"], stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(1)
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < seconds:
            i += 1
            client.sendto(query(i & 0xFFFF, "n%d.example." % i), ("127.0.0.1", port))
            try:
                client.recv(4096)
            except socket.timeout:
                pass
            time.sleep(interval)
        end = time.monotonic()
    finally:
        stop.set()
        proc.terminate()
        proc.wait()
    margin = 1.0
    lives = [last - first for first, last in seen.values() if first > start + margin and last < end - margin]
    print("ports seen: %d in %.0f s; whole lifetimes: %d" % (len(seen), end - start, len(lives)))
    if lives:
        print("port in use for: median %.1f s, min %.1f s, max %.1f s" %
              (statistics.median(lives), min(lives), max(lives)))


if __name__ == "__main__":
    main()
