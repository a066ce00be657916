// DNS over TLS from clients (RFC 7858) on a shard: connections accepted on a tls://
// listener carry a TlsSession. Ciphertext comes in by io_uring receives into the
// session's buffer and is fed to OpenSSL; plaintext goes into the connection's
// FrameReader, so queries are read, limited and answered exactly as over TCP. Answers
// queued on the connection are encrypted one record at a time and sent from the
// session's out buffer, one send in flight.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "core/shard/shard_layout.h"
#include "core/shard/shard_reactor.h"
#include "ring/user_data.h"

namespace ringdns::core {
using layout::kTlsCipherBuffer;

bool ShardReactor::StartTls(std::uint32_t conn, SSL_CTX* ctx) {
  const std::uint32_t index = tls_.TakeForClient(/*handshake=*/true);
  return AttachTls(conn, index, index != kNoTls && tls_[index].session.Accept(ctx));
}

bool ShardReactor::StartTlsClient(std::uint32_t conn) {
  const std::uint32_t pool = upstream_pools_.PoolOf(conn);
  const ForwardRoute& f = upstream_pools_.forward(pool);
  const std::uint32_t index = tls_.ForUpstream(conn - options_.tcp_connections);
  return AttachTls(conn, index,
                   index != kNoTls && tls_[index].session.Connect(
                                          f.tls, f.tls_names[upstream_pools_.upstream(pool)],
                                          upstream_pools_.resume_session(pool)));
}

bool ShardReactor::AttachTls(std::uint32_t conn, std::uint32_t index, bool started) {
  if (!started) {
    if (index != kNoTls) tls_.Release(index, /*mid_handshake=*/false);
    ++counters_.tls_refused;
    return false;
  }
  tls_.BeginHandshake(index);
  Stream& s = streams_[conn];
  s.tls = index;
  s.handshake_since_ms = NowMs();
  return true;
}

void ShardReactor::EndTls(std::uint32_t conn) noexcept {
  Stream& s = streams_[conn];
  if (s.tls == kNoTls) return;
  tls_.Release(s.tls, /*mid_handshake=*/s.handshake_since_ms != 0);
  s.tls = kNoTls;
  s.handshake_since_ms = 0;
}

void ShardReactor::OnTlsReceived(std::uint32_t conn, std::size_t received) {
  Stream& s = streams_[conn];
  TlsConnection& t = tls_[s.tls];
  // The pair always has room: it holds two records and everything complete was read
  // before this receive was armed.
  if (t.session.Feed({t.cipher_in, received}) != received) return CloseStream(conn);
  if (s.upstream) return ReadUpstreamAnswers(conn);
  ReadClientQueries(conn);
}

bool ShardReactor::DecryptMore(std::uint32_t conn) {
  Stream& s = streams_[conn];
  TlsConnection& t = tls_[s.tls];
  std::size_t added = 0;
  while (true) {
    const bool handshaking = t.session.handshaking();
    std::size_t got = 0;
    const TlsSession::Step step =
        t.session.Advance(handshaking ? std::span<std::uint8_t>() : s.in.Tail(), got);
    if (step == TlsSession::Step::kProgress) {
      if (handshaking) {
        ++counters_.tls_handshakes;
        if (s.upstream && t.session.resumed()) ++counters_.tls_resumed;
        // Only a handshake counted at its start ends the count (renegotiation, which was
        // never counted, is refused by the TLS contexts; this guard keeps the count if a
        // handshake ever finishes that did not start here).
        if (s.handshake_since_ms != 0) tls_.HandshakeDone();
        s.handshake_since_ms = 0;
      } else {
        s.in.Commit(got);
        added += got;
      }
      continue;
    }
    PumpTlsSend(conn);  // handshake messages, alerts, session tickets
    if (step == TlsSession::Step::kWant) break;
    if (handshaking) {
      ++counters_.tls_handshake_failures;
      if (s.upstream) {
        const std::uint32_t pool = upstream_pools_.PoolOf(conn);
        error_log_.Limited(
            NowMs(), "DNS over TLS to upstream ",
            upstream_pools_.forward(pool).upstreams[upstream_pools_.upstream(pool)].ToString(),
            " failed: ", TlsErrorText(), " (server certificate: ", t.session.PeerVerification(),
            ")");
      } else {
        error_log_.Limited(NowMs(), "DNS over TLS handshake failed: ", TlsErrorText(),
                           " (client certificate: ", t.session.PeerVerification(), ")");
      }
    }
    if (s.upstream) {
      BreakUpstream(conn);  // its queries fail over now
    } else {
      CloseStream(conn);
    }
    return false;
  }
  return added > 0;
}

void ShardReactor::PumpTlsSend(std::uint32_t conn) {
  Stream& s = streams_[conn];
  if (s.send_armed || s.closing() || s.tls == kNoTls) return;
  TlsConnection& t = tls_[s.tls];
  if (t.out_sent == t.out_len) {
    t.out_len = t.out_sent = 0;
    // Encrypt the next record of the first answer, once the session has nothing else
    // to say. The answer's buffer goes back as soon as OpenSSL has its bytes.
    SkipCancelledWrites(s);
    if (!t.session.ciphertext_pending() && !t.session.handshaking() && !s.out.empty()) {
      PendingWrite& w = s.out.Front();
      w.sent += static_cast<std::uint32_t>(t.session.Write({w.data + w.sent, w.len - w.sent}));
      if (w.sent == w.len) {
        WriteDone(s, w);
        s.out.Pop();
        if (!s.upstream && s.inflight > 0) --s.inflight;  // that query is answered
      }
    }
    t.out_len =
        static_cast<std::uint32_t>(t.session.TakeCiphertext({t.cipher_out, kTlsCipherBuffer}));
    if (t.out_len == 0) return;
  }
  SendOnStream(conn, {t.cipher_out + t.out_sent, t.out_len - t.out_sent}, MSG_NOSIGNAL);
}

void ShardReactor::OnTlsSend(std::uint32_t conn, int res) {
  Stream& s = streams_[conn];
  TlsConnection& t = tls_[s.tls];
  t.out_sent += static_cast<std::uint32_t>(res);
  if (t.out_sent == t.out_len) s.send_since_ms = 0;
  s.active_ms = NowMs();
  PumpTlsSend(conn);
  if (s.upstream) return;
  AfterClientSend(conn);
}

}  // namespace ringdns::core
