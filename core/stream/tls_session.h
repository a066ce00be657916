// core/stream/tls_session.h: DNS over TLS (RFC 7858) on a shard's own io_uring sockets: OpenSSL
// does the handshake and the record layer over a BIO pair, and the shard moves the
// ciphertext between the pair and the socket itself, so no OpenSSL call ever blocks or
// touches the socket. (Kernel TLS would let io_uring carry plaintext after the
// handshake; kernels without the tls module, like this project's CI, need this path.)
//
// TlsContext holds a configuration's SSL_CTX (certificate, key, CA, client
// authentication), shared read-only by every shard; TlsSession is one connection.
// Shard-local.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "core/config/config.h"

namespace ringdns::core {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
using TlsContext = std::unique_ptr<SSL_CTX, SslCtxFree>;

// A server context from a block's `tls CERT KEY [CA] { client_auth MODE }`, with
// CoreDNS's (Go's) client_auth meanings: nocert asks for no certificate; request asks
// and takes any or none; require insists on one but does not verify it;
// verify_if_given verifies one if sent; require_and_verify insists and verifies against
// CA. TLS 1.2 at least. Errors name the file and what OpenSSL said.
absl::StatusOr<TlsContext> MakeServerTlsContext(const config::ServerTls& tls);

// A client context for a forward's tls:// upstreams: `tls [CERT KEY [CA]]` (CA empty:
// the system store; CERT and KEY: the client certificate, for mutual TLS). The server
// is verified against CA and the name given per session, unless `insecure`. Sessions
// are resumed after a reconnect (tickets; see TlsSession::Connect).
absl::StatusOr<TlsContext> MakeClientTlsContext(const config::TlsFiles& files, bool insecure);

// The last OpenSSL error on this thread, as text (and clears the queue).
std::string TlsErrorText();

class TlsSession {
 public:
  TlsSession() = default;
  ~TlsSession() { Reset(); }
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;
  TlsSession(TlsSession&& other) noexcept : ssl_(other.ssl_), network_(other.network_) {
    other.ssl_ = nullptr;
    other.network_ = nullptr;
  }
  TlsSession& operator=(TlsSession&& other) noexcept {
    if (this != &other) {
      Reset();
      std::swap(ssl_, other.ssl_);
      std::swap(network_, other.network_);
    }
    return *this;
  }

  // Starts the server side of a new connection; false when OpenSSL cannot.
  bool Accept(SSL_CTX* ctx);
  // Starts the client side: SNI and certificate name check for `servername` (none when
  // empty: an insecure forward), resuming `*resume` when set; new session tickets are
  // stored into `*resume` (owned by the caller, who frees it with SSL_SESSION_free).
  bool Connect(SSL_CTX* ctx, const std::string& servername, SSL_SESSION** resume);
  bool resumed() const noexcept { return ssl_ != nullptr && SSL_session_reused(ssl_) == 1; }
  void Reset() noexcept;
  bool active() const noexcept { return ssl_ != nullptr; }
  bool handshaking() const noexcept { return ssl_ != nullptr && !SSL_is_init_finished(ssl_); }

  // Ciphertext from the socket; returns how much the pair took (all, unless it is full:
  // then call Advance and feed the rest).
  std::size_t Feed(std::span<const std::uint8_t> ciphertext) noexcept;

  enum class Step : std::uint8_t { kProgress, kWant, kClosed, kFailed };
  // Moves the handshake on, or reads plaintext into `out` (`got` octets). kWant: more
  // ciphertext is needed first; kClosed: the peer said close_notify; kFailed: see
  // TlsErrorText.
  Step Advance(std::span<std::uint8_t> out, std::size_t& got) noexcept;
  // Plaintext to send; returns how much was taken (at most one record's worth).
  std::size_t Write(std::span<const std::uint8_t> plaintext) noexcept;
  // Ciphertext waiting to go to the socket: copies up to out.size() octets into `out`.
  std::size_t TakeCiphertext(std::span<std::uint8_t> out) noexcept;
  bool ciphertext_pending() const noexcept;
  // Decrypted data OpenSSL holds that did not fit the last read.
  bool plaintext_pending() const noexcept;
  // The peer's certificate verdict for logs ("ok", or OpenSSL's reason).
  std::string PeerVerification() const;

 private:
  // A fresh SSL on `ctx` with its BIO pair; false (and nothing held) when OpenSSL cannot.
  bool Open(SSL_CTX* ctx);

  SSL* ssl_ = nullptr;
  BIO* network_ = nullptr;  // our end of the pair; OpenSSL owns the other
};

}  // namespace ringdns::core
