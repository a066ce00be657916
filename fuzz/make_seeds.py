#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/. Re-run after changing a seed; the output
is committed. Seeds are real captures (dig, nsd; see tests/testing/real_messages.h) plus
hand-made messages that reach each rule of the parsers."""
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def real(name):
    text = open(os.path.join(ROOT, 'tests/testing/real_messages.h')).read()
    m = re.search(name + r' =\s*((?:\s*"[0-9a-f]*")+);', text)
    return bytes.fromhex(''.join(re.findall(r'"([0-9a-f]*)"', m.group(1))))


def wname(text):
    if text == '.':
        return b'\0'
    return b''.join(bytes([len(l)]) + l.encode() for l in text.rstrip('.').split('.')) + b'\0'


def header(id_, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack('>HHHHHH', id_, flags, qd, an, ns, ar)


def rr(owner, type_, ttl, rdata, rclass=1):
    return owner + struct.pack('>HHIH', type_, rclass, ttl, len(rdata)) + rdata


def opt(udp=1232, ttl=0, options=b''):
    return rr(b'\0', 41, ttl, options, rclass=udp)


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


q = wname('www.example.') + struct.pack('>HH', 1, 1)
queries = {
    'dig_srv_edns_cookie': real('kDigSrvQuery'),
    'plain_a': header(0x1234, 0x0100) + q,
    'edns_do': header(1, 0x0100, ar=1) + q + opt(4096, 0x8000),
    'edns_version1': header(1, 0x0100, ar=1) + q + opt(1232, 0x00010000),
    'qdcount0': header(1, 0x0100, qd=0),
    'qdcount2': header(1, 0x0100, qd=2) + q + q,
    'pointer_in_qname': header(1, 0x0100) + b'\xc0\x0c' + struct.pack('>HH', 1, 1),
    'label64': header(1, 0x0100) + b'\x40' + b'a' * 64 + b'\0\0\1\0\1',
    'trailing': header(1, 0x0100) + q + b'\0',
    'two_opts': header(1, 0, ar=2) + q + opt() + opt(),
    'opt_bad_option': header(1, 0, ar=1) + q + opt(options=b'\x00\x0a\x00\x09\x01'),
    'notify_opcode': header(1, 0x2000) + q,
    'qr_set': header(1, 0x8100) + q,
    'tsig_and_opt': header(1, 0, ar=2) + q + rr(wname('key.'), 250, 0, b'\0') + opt(),
    'short_header': b'\x12\x34\x01',
    'max_name': header(1, 0) + (b'\x3f' + b'a' * 63) * 3 + b'\x3d' + b'b' * 61 + b'\0\0\1\0\1',
}
for k, v in queries.items():
    write('wire_query_fuzz', k, v)

qa = wname('www.example.') + struct.pack('>HH', 1, 1)
soa = wname('ns.example.') + wname('host.example.') + struct.pack('>IIIII', 1, 2, 3, 4, 300)
responses = {
    'nsd_srv_answer': real('kNsdSrvAnswer'),
    'nsd_nxdomain': real('kNsdNxAnswer'),
    'two_a_opt': header(0x4242, 0x8180, an=2, ar=1) + qa + rr(b'\xc0\x0c', 1, 300, b'\x0a\0\0\1')
                 + rr(b'\xc0\x0c', 1, 60, b'\x0a\0\0\2') + opt(1232, 0x8000),
    'ttl_top_bit': header(1, 0x8180, an=1) + qa + rr(b'\xc0\x0c', 1, 0x80000000, b'\1\2\3\4'),
    'negative_soa': header(1, 0x8183, ns=1) + qa + rr(wname('example.'), 6, 3600, soa),
    'cname_loop': header(1, 0x8180, an=1) + qa + rr(b'\xc0\x0c', 5, 60, b'\x01a\xc0\x29'),
    'owner_self_pointer': header(1, 0x8180, an=1) + qa + b'\xc0\x1d' + struct.pack('>HHIH', 1, 1, 1, 4) + b'\1\2\3\4',
    'header_only_formerr': header(1, 0x8001, qd=0),
    'big_for_truncation': header(1, 0x8180, an=60, ar=1) + qa
                          + b''.join(rr(b'\xc0\x0c', 1, 60, bytes([10, 0, 0, i])) for i in range(60))
                          + opt(4096, 0x8000),
    'srv_records': header(1, 0x8180, an=1) + qa + rr(b'\xc0\x0c', 33, 1, struct.pack('>HHH', 0, 33, 11210) + wname('pod.example.')),
}
for k, v in responses.items():
    # Two control octets: aging time, truncation limit.
    write('wire_response_fuzz', k, b'\x05\x00' + v)
    write('wire_response_fuzz', k + '_aged_max', b'\xff\xff' + v)

def trie_case(zones, qname):
    return bytes([len(zones)]) + b''.join(wname(z) for z in zones) + wname(qname)

tries = {
    'tutorial_remote': trie_case(['remote.svc.cluster.local.', '.'], '_couchbase._tcp.cb-example-srv.remote.svc.cluster.local.'),
    'tutorial_local': trie_case(['remote.svc.cluster.local.', 'svc.cluster.local.', '.'], 'kubernetes.default.svc.cluster.local.'),
    'label_boundary': trie_case(['remote.svc.cluster.local.'], 'xremote.svc.cluster.local.'),
    'case_fold': trie_case(['Example.COM.'], 'www.EXAMPLE.com.'),
    'escaped_dot_label': bytes([1]) + b'\x03a.b\x07example\x00' + b'\x01x\x03a.b\x07example\x00',
    'root_only': trie_case(['.'], 'a.b.c.'),
    'deep_name': trie_case(['z.' * 60], 'z.' * 127),
}
for k, v in tries.items():
    write('zones_trie_diff_fuzz', k, v)

# tcp_framing_fuzz: two octets of storage size, one of receive-size seed, then the stream.
def frame(message):
    return struct.pack('>H', len(message)) + message

tcp_query = header(0x1234, 0x0100) + wname('www.example.com.') + b'\x00\x01\x00\x01'
framings = {
    'one_query': b'\x02\x00\x05' + frame(tcp_query),
    'pipelined_three': b'\x10\x00\x01' + frame(tcp_query) * 3,
    'split_prefix_bytes': b'\x00\x40\x00' + frame(tcp_query) * 2,
    'zero_length': b'\x01\x00\x07' + frame(tcp_query) + b'\x00\x00' + frame(tcp_query),
    'too_large_for_small_storage': b'\x00\x00\x03' + frame(tcp_query * 4),
    'truncated_tail': b'\x04\x00\x09' + frame(tcp_query) + frame(tcp_query)[:20],
    'max_length': b'\xff\xff\x02' + b'\xff\xff' + b'\x00' * 100,
}
for k, v in framings.items():
    write('tcp_framing_fuzz', k, v)
