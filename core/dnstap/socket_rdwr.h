// core/dnstap/socket_rdwr.h: the byte stream libfstrm writes a collector's Frame Streams
// over: a Unix or TCP socket whose connect, read and write each give up after a
// timeout.
//
// fstrm's own socket writers block without limit, so a collector that accepts and then
// never answers the handshake, or stops reading, would hold fstrm's I/O thread for ever
// and with it ringdns's shutdown and every reload that drops the collector. Here such a
// collector fails the operation instead; fstrm closes and tries again a second later.
#pragma once

#include <sys/socket.h>

#include <chrono>

struct fstrm_rdwr;

namespace ringdns::core::dnstap {

// A new fstrm_rdwr (for fstrm_writer_init, which owns it) that connects to `address`
// and bounds every operation by `timeout`.
fstrm_rdwr* NewSocketRdwr(const sockaddr_storage& address, socklen_t address_len,
                          std::chrono::milliseconds timeout);

}  // namespace ringdns::core::dnstap
