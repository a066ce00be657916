#include "testing/pki.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

namespace ringdns::testing {

ServerCertificate MakeServerCertificate() {
  static std::atomic<int> made{0};
  const std::string dir = ::testing::TempDir() + "/pki-" + std::to_string(::getpid()) + "-" +
                          std::to_string(made.fetch_add(1));
  ServerCertificate out;
  out.cert = dir + "/server.pem";
  out.key = dir + "/server.key";
  const std::string command =
      "mkdir -p '" + dir +
      "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes" +
      " -keyout '" + out.key + "' -out '" + out.cert + "' -days 2 -subj /CN=dns.test" +
      " -addext subjectAltName=DNS:dns.test,IP:127.0.0.1 >'" + dir + "/openssl.log' 2>&1";
  out.ok = std::system(command.c_str()) == 0;
  if (!out.ok) out.error = "openssl could not make a certificate (see " + dir + "/openssl.log)";
  return out;
}

}  // namespace ringdns::testing
