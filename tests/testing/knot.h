// tests/testing/knot.h: a real Knot DNS (Debian's knotd) serving zone files on a loopback
// port, for tests that want a second genuine authoritative upstream, in particular one
// that speaks DNS cookies (RFC 7873, with RFC 9018's 16-octet server cookies) through its
// mod-cookies module. Started in the foreground by PID, with one worker of each kind, its
// control socket in its own temp dir and zone files never written back, and killed by PID
// when done.
//
// With mod-cookies on, Knot 3.2 over UDP answers a query carrying only a client cookie, or
// a server cookie it did not issue, with BADCOOKIE (extended RCODE 23) and a fresh server
// cookie; a query with a valid server cookie gets its answer and that cookie back
// unchanged; a query without a COOKIE option is answered as usual, and a malformed one gets
// FORMERR. Over TCP it never sends BADCOOKIE. With it off, Knot ignores the option.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ringdns::testing {

class Knot {
 public:
  // zones: {zone name, zone file path}; `cookies` loads mod-cookies for every query.
  // `extra_config` is knot.conf text inserted after that module's entry and before the
  // template and zones: lines indented by four spaces at its start set the module's
  // options when `cookies` is on, e.g. "    badcookie-slip: 2\n" (every other BADCOOKIE
  // dropped) or "    secret: 0x000102030405060708090a0b0c0d0e0f\n" (16 octets: no
  // rollover, server cookies that stay valid across restarts); then whole sections,
  // which may repeat one already written ("server:\n  udp-max-payload: 1400\n" adds
  // to it). available() is false when knotd is not installed or did not start (the
  // caller skips).
  Knot(const std::vector<std::pair<std::string, std::string>>& zones, bool cookies,
       const std::string& extra_config = "");
  ~Knot();

  bool available() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }
  const std::string& error() const { return error_; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string dir_;
  std::string error_;
};

}  // namespace ringdns::testing
