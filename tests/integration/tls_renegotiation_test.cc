// TLS 1.2 renegotiation is refused both ways, in memory (no socket): ringdns's TLS
// sessions against a plain OpenSSL peer held to TLS 1.2. A DoT upstream that asks for a
// new handshake mid-stream (HelloRequest) gets the no_renegotiation alert instead of a
// handshake the shard never counted; a DoT client that asks gets the same, even where the
// library would allow it. Without SSL_OP_NO_RENEGOTIATION both renegotiate.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "core/config/config.h"
#include "core/stream/tls_session.h"
#include "testing/pki.h"

namespace ringdns::core {
namespace {

// An OpenSSL endpoint whose ciphertext goes through a BIO pair the test moves by hand.
class Peer {
 public:
  Peer(SSL_CTX* ctx, bool server) : ssl_(SSL_new(ctx)) {
    BIO* internal = nullptr;
    BIO_new_bio_pair(&internal, 0, &network_, 0);
    SSL_set_bio(ssl_, internal, internal);
    if (server) {
      SSL_set_accept_state(ssl_);
    } else {
      SSL_set_connect_state(ssl_);
    }
  }
  ~Peer() {
    SSL_free(ssl_);
    BIO_free(network_);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  SSL* ssl() const noexcept { return ssl_; }
  // Moves ciphertext both ways between this peer and `ours`, and lets each side go on
  // (its handshake, or reading), a few rounds: enough for any handshake.
  void Exchange(TlsSession& ours) {
    std::array<std::uint8_t, 16384> buffer;
    for (int round = 0; round < 8; ++round) {
      std::size_t got = 0;
      while (ours.Advance(buffer, got) == TlsSession::Step::kProgress) {
      }
      for (std::size_t n; (n = ours.TakeCiphertext(buffer)) > 0;) {
        BIO_write(network_, buffer.data(), static_cast<int>(n));
      }
      Step();
      for (int n; (n = BIO_read(network_, buffer.data(), static_cast<int>(buffer.size()))) > 0;) {
        ours.Feed(std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)));
      }
    }
  }
  // The reason OpenSSL gave for the peer's last failure, or 0.
  int failure() const noexcept { return failure_; }

 private:
  void Step() {
    ERR_clear_error();  // what our own session left is not the peer's failure
    std::array<std::uint8_t, 512> plaintext;
    // Once established, reading is what starts a renegotiation asked for and what takes
    // the other side's alerts.
    const int rc = SSL_is_init_finished(ssl_)
                       ? SSL_read(ssl_, plaintext.data(), static_cast<int>(plaintext.size()))
                       : SSL_do_handshake(ssl_);
    if (rc <= 0 && SSL_get_error(ssl_, rc) == SSL_ERROR_SSL && failure_ == 0) {
      failure_ = ERR_GET_REASON(ERR_peek_error());
    }
    ERR_clear_error();
  }

  SSL* ssl_;
  BIO* network_ = nullptr;
  int failure_ = 0;
};

class TlsRenegotiation : public ::testing::Test {
 protected:
  void SetUp() override {
    certificate_ = testing::MakeServerCertificate();
    ASSERT_TRUE(certificate_.ok) << certificate_.error;
  }
  testing::ServerCertificate certificate_;
};

TEST_F(TlsRenegotiation, AnUpstreamAskingForANewHandshakeIsRefused) {
  SSL_CTX* upstream_ctx = SSL_CTX_new(TLS_server_method());
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> owned(upstream_ctx, SSL_CTX_free);
  SSL_CTX_set_max_proto_version(upstream_ctx, TLS1_2_VERSION);
  ASSERT_EQ(SSL_CTX_use_certificate_chain_file(upstream_ctx, certificate_.cert.c_str()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey_file(upstream_ctx, certificate_.key.c_str(), SSL_FILETYPE_PEM),
            1);
  absl::StatusOr<TlsContext> ours_ctx = MakeClientTlsContext({}, /*insecure=*/true);
  ASSERT_TRUE(ours_ctx.ok()) << ours_ctx.status();
  Peer upstream(upstream_ctx, /*server=*/true);
  TlsSession ours;
  ASSERT_TRUE(ours.Connect(ours_ctx->get(), "", nullptr));
  upstream.Exchange(ours);
  ASSERT_FALSE(ours.handshaking());
  ASSERT_TRUE(SSL_is_init_finished(upstream.ssl()));
  ASSERT_EQ(SSL_version(upstream.ssl()), TLS1_2_VERSION);

  ASSERT_EQ(SSL_renegotiate(upstream.ssl()), 1);  // a HelloRequest goes out
  upstream.Exchange(ours);
  EXPECT_EQ(upstream.failure(), SSL_R_NO_RENEGOTIATION);
}

TEST_F(TlsRenegotiation, AClientAskingForANewHandshakeIsRefused) {
  config::ServerTls tls;
  tls.cert = certificate_.cert;
  tls.key = certificate_.key;
  absl::StatusOr<TlsContext> ours_ctx = MakeServerTlsContext(tls);
  ASSERT_TRUE(ours_ctx.ok()) << ours_ctx.status();
  // OpenSSL 3 refuses a client's renegotiation by default; allowed here, only
  // SSL_OP_NO_RENEGOTIATION refuses it.
  SSL_CTX_set_options(ours_ctx->get(), SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> owned(client_ctx, SSL_CTX_free);
  SSL_CTX_set_max_proto_version(client_ctx, TLS1_2_VERSION);
  Peer client(client_ctx, /*server=*/false);
  TlsSession ours;
  ASSERT_TRUE(ours.Accept(ours_ctx->get()));
  client.Exchange(ours);
  ASSERT_FALSE(ours.handshaking());
  ASSERT_TRUE(SSL_is_init_finished(client.ssl()));

  ASSERT_EQ(SSL_renegotiate(client.ssl()), 1);  // a new ClientHello goes out
  client.Exchange(ours);
  EXPECT_EQ(client.failure(), SSL_R_NO_RENEGOTIATION);
}

}  // namespace
}  // namespace ringdns::core
