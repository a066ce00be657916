// tests/testing/pki.h: a self-signed server certificate made with the openssl command
// (installed by tools/install-deps.sh), for DNS over TLS between two in-process
// forwarders on loopback.
#pragma once

#include <string>

namespace ringdns::testing {

struct ServerCertificate {
  std::string cert;  // PEM; also the CA a client trusts it by
  std::string key;
  bool ok = false;
  std::string error;
};

// A certificate for the name "dns.test" and 127.0.0.1, valid for two days, written to
// a fresh directory under the test's temporary directory.
ServerCertificate MakeServerCertificate();

}  // namespace ringdns::testing
