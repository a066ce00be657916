#!/usr/bin/env python3
"""Prints the type and socket protocol of every dnstap message in a Frame Streams file,
one "TYPE PROTOCOL" line each (numbers, as dnstap.proto defines them), decoding the
protobuf by hand: BIND's dnstap-read shows every protocol but TCP as UDP.
Usage: dnstap_fields.py FILE"""
import struct
import sys


def fields(buf):
    """(field number, wire type, value) for each field of a protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 2:
            length, i = varint(buf, i)
            value, i = buf[i:i + length], i + length
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        else:
            raise ValueError("wire type %d" % wire)
        yield number, wire, value


def varint(buf, i):
    value = shift = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def frames(data):
    i = 0
    while i + 4 <= len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        i += 4
        if length == 0:  # a control frame: its length, then the frame
            (length,) = struct.unpack(">I", data[i:i + 4])
            i += 4 + length
            continue
        yield data[i:i + length]
        i += length


for frame in frames(open(sys.argv[1], "rb").read()):
    for number, _, value in fields(frame):
        if number == 14:  # Dnstap.message
            m = {n: v for n, _, v in fields(value)}
            print(m.get(1), m.get(3))
