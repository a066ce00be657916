// tests/testing/nsd.h: a real nsd (Debian's) serving zone files on a loopback port, for
// tests that want a genuine authoritative upstream. Started in the foreground by PID,
// with its rate limiting and control port off, and killed by PID when done.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ringdns::testing {

class Nsd {
 public:
  // zones: {zone name, zone file path}; `server_options` are extra lines for nsd.conf's
  // server: section. available() is false when nsd is not installed or did not start
  // (the caller skips).
  explicit Nsd(const std::vector<std::pair<std::string, std::string>>& zones,
               const std::string& server_options = "");
  ~Nsd();

  bool available() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }
  const std::string& error() const { return error_; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string dir_;
  std::string error_;
};

// The examples/zones folder of the source tree.
std::string ZonesDir();

}  // namespace ringdns::testing
