#include "core/stream/tls_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ringdns::core {
namespace {

// Room for two full records each way: a receive (16 KiB) always fits beside a partial
// record OpenSSL is still waiting to complete.
constexpr std::size_t kPairBytes = 40 * 1024;
constexpr std::size_t kMaxRecordPlaintext = 16 * 1024;

// request and require take any certificate, or none with request, without verifying
// its chain at all (Go's RequestClientCert and RequireAnyClientCert). The client still
// proves it holds the certificate's key (CertificateVerify).
int SkipChainVerification(X509_STORE_CTX*, void*) { return 1; }

absl::Status TlsFileError(const std::string& what, const std::string& file) {
  return absl::InvalidArgumentError(
      absl::StrCat("tls: cannot use ", what, " ", file, ": ", TlsErrorText()));
}

// One certificate chain and the key that goes with it, for either side of a connection.
absl::Status UseCertificateAndKey(SSL_CTX* ctx, const std::string& cert, const std::string& key) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
    return TlsFileError("certificate", cert);
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
    return TlsFileError("key", key);
  if (SSL_CTX_check_private_key(ctx) != 1)
    return TlsFileError("key (it does not match the certificate)", key);
  return absl::OkStatus();
}

// TLS 1.3 tickets come after the handshake: keep the newest for the next connection.
int KeepNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<SSL_SESSION**>(SSL_get_app_data(ssl));
  if (slot == nullptr) return 0;
  if (*slot != nullptr) SSL_SESSION_free(*slot);
  *slot = session;
  return 1;  // the reference is ours now
}

// Both sides: TLS 1.2 at least, and no TLS 1.2 renegotiation either way. A peer that asks
// for one gets the no_renegotiation alert. As a server OpenSSL 3 refuses a client's
// already; the option keeps it so whatever the library's default. As a client it is new:
// an upstream asking mid-stream (a HelloRequest) is refused rather than followed, so a
// shard never redoes a handshake it did not start (DoT servers do not ask).
void RefuseOldHabits(SSL_CTX* ctx) noexcept {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
}

}  // namespace

absl::StatusOr<TlsContext> MakeClientTlsContext(const config::TlsFiles& files, bool insecure) {
  TlsContext ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return absl::InternalError(absl::StrCat("tls: ", TlsErrorText()));
  RefuseOldHabits(ctx.get());
  if (!files.cert.empty()) {
    if (absl::Status s = UseCertificateAndKey(ctx.get(), files.cert, files.key); !s.ok()) return s;
  }
  if (!files.ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1)
      return TlsFileError("CA", files.ca);
  } else if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
    return absl::InternalError(absl::StrCat("tls: the system's CA store: ", TlsErrorText()));
  }
  SSL_CTX_set_verify(ctx.get(), insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_session_cache_mode(ctx.get(),
                                 SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx.get(), KeepNewSession);
  return ctx;
}

std::string TlsErrorText() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

absl::StatusOr<TlsContext> MakeServerTlsContext(const config::ServerTls& tls) {
  TlsContext ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return absl::InternalError(absl::StrCat("tls: ", TlsErrorText()));
  RefuseOldHabits(ctx.get());
  if (absl::Status s = UseCertificateAndKey(ctx.get(), tls.cert, tls.key); !s.ok()) return s;
  const bool verifies = tls.client_auth == config::ClientAuth::kVerifyIfGiven ||
                        tls.client_auth == config::ClientAuth::kRequireAndVerify;
  if (!tls.ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca.c_str(), nullptr) != 1)
      return TlsFileError("CA", tls.ca);
    // Name the CA to clients only where it matters: a client holding a certificate of
    // another CA must still send it where any certificate is taken (request, require).
    if (STACK_OF(X509_NAME)* names = verifies ? SSL_load_client_CA_file(tls.ca.c_str()) : nullptr) {
      SSL_CTX_set_client_CA_list(ctx.get(), names);
    }
  }
  switch (tls.client_auth) {
    case config::ClientAuth::kNoCert:
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
      break;
    case config::ClientAuth::kRequest:
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
      SSL_CTX_set_cert_verify_callback(ctx.get(), SkipChainVerification, nullptr);
      break;
    case config::ClientAuth::kRequire:
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      SSL_CTX_set_cert_verify_callback(ctx.get(), SkipChainVerification, nullptr);
      break;
    case config::ClientAuth::kVerifyIfGiven:
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
      break;
    case config::ClientAuth::kRequireAndVerify:
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  // Resumed sessions stay bound to this configuration's client verification.
  static constexpr unsigned char kSessionContext[] = "ringdns-dot";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof(kSessionContext) - 1);
  return ctx;
}

bool TlsSession::Open(SSL_CTX* ctx) {
  Reset();
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) return false;
  BIO* internal = nullptr;
  if (BIO_new_bio_pair(&internal, kPairBytes, &network_, kPairBytes) != 1) {
    Reset();
    return false;
  }
  SSL_set_bio(ssl_, internal, internal);
  return true;
}

bool TlsSession::Accept(SSL_CTX* ctx) {
  if (!Open(ctx)) return false;
  SSL_set_accept_state(ssl_);
  return true;
}

bool TlsSession::Connect(SSL_CTX* ctx, const std::string& servername, SSL_SESSION** resume) {
  if (!Open(ctx)) return false;
  SSL_set_connect_state(ssl_);
  if (!servername.empty()) {
    in6_addr ip{};
    const bool literal = ::inet_pton(AF_INET, servername.c_str(), &ip) == 1 ||
                         ::inet_pton(AF_INET6, servername.c_str(), &ip) == 1;
    bool named;
    if (literal) {
      // An address: checked against the certificate's IP SANs; never sent as SNI (RFC 6066).
      named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), servername.c_str()) == 1;
    } else {
      // SNI (SSL_set_tlsext_host_name is a macro with a C cast).
      SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(servername.c_str()));
      SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      named = SSL_set1_host(ssl_, servername.c_str()) == 1;
    }
    if (!named) {
      Reset();
      return false;
    }
  }
  SSL_set_app_data(ssl_, resume);
  if (resume != nullptr && *resume != nullptr) SSL_set_session(ssl_, *resume);
  return true;
}

void TlsSession::Reset() noexcept {
  if (ssl_ != nullptr) {
    // A connection ringdns ends after a finished handshake ends cleanly as far as the
    // session goes: without this OpenSSL marks the session not resumable.
    if (SSL_is_init_finished(ssl_))
      SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ssl_);  // frees the internal end
  }
  if (network_ != nullptr) BIO_free(network_);
  ssl_ = nullptr;
  network_ = nullptr;
}

std::size_t TlsSession::Feed(std::span<const std::uint8_t> ciphertext) noexcept {
  if (ciphertext.empty()) return 0;
  const int n = BIO_write(network_, ciphertext.data(), static_cast<int>(ciphertext.size()));
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

TlsSession::Step TlsSession::Advance(std::span<std::uint8_t> out, std::size_t& got) noexcept {
  got = 0;
  int rc;
  if (!SSL_is_init_finished(ssl_)) {
    rc = SSL_do_handshake(ssl_);
    if (rc == 1) return Step::kProgress;
  } else {
    if (out.empty()) return Step::kWant;
    rc =
        SSL_read(ssl_, out.data(), static_cast<int>(std::min<std::size_t>(out.size(), 0x7fffffff)));
    if (rc > 0) {
      got = static_cast<std::size_t>(rc);
      return Step::kProgress;
    }
  }
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return Step::kWant;
    case SSL_ERROR_ZERO_RETURN: return Step::kClosed;
    default: return Step::kFailed;
  }
}

std::size_t TlsSession::Write(std::span<const std::uint8_t> plaintext) noexcept {
  if (plaintext.empty()) return 0;
  const int n = SSL_write(ssl_, plaintext.data(),
                          static_cast<int>(std::min(plaintext.size(), kMaxRecordPlaintext)));
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::size_t TlsSession::TakeCiphertext(std::span<std::uint8_t> out) noexcept {
  const int n = BIO_read(network_, out.data(), static_cast<int>(out.size()));
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

bool TlsSession::ciphertext_pending() const noexcept { return BIO_ctrl_pending(network_) > 0; }

bool TlsSession::plaintext_pending() const noexcept { return SSL_pending(ssl_) > 0; }

std::string TlsSession::PeerVerification() const {
  if (ssl_ == nullptr) return "no session";
  X509* peer = SSL_get1_peer_certificate(ssl_);
  if (peer == nullptr) return "no client certificate";
  X509_free(peer);
  return X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
}

}  // namespace ringdns::core
