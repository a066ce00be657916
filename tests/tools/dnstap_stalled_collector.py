#!/usr/bin/env python3
"""A dnstap collector that stops reading: it listens on a Unix socket, answers Frame
Streams' handshake (READY -> ACCEPT, then START) on each connection, and from then on
reads nothing, so the writer's socket fills. With --silent it does not even answer the
handshake. Runs until killed.
Usage: dnstap_stalled_collector.py SOCKET [--silent]"""
import socket
import struct
import sys

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
ACCEPT, START, READY = 0x01, 0x02, 0x04
FIELD_CONTENT_TYPE = 0x01


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_control(conn):
    escape, length = struct.unpack(">II", read_exact(conn, 8))
    assert escape == 0, "expected a control frame"
    payload = read_exact(conn, length)
    return struct.unpack(">I", payload[:4])[0]


def send_control(conn, kind):
    payload = struct.pack(">III", kind, FIELD_CONTENT_TYPE, len(CONTENT_TYPE)) + CONTENT_TYPE
    conn.sendall(struct.pack(">II", 0, len(payload)) + payload)


server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
server.listen(8)
held = []
while True:
    conn, _ = server.accept()
    held.append(conn)  # never closed, never read past the handshake
    if "--silent" in sys.argv:
        continue
    try:
        if read_control(conn) == READY:
            send_control(conn, ACCEPT)
            read_control(conn)  # START
    except (ConnectionError, AssertionError, struct.error):
        pass
