// The forward directive, with CoreDNS's options and defaults.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"

namespace ringdns::core::config {
namespace {

constexpr char kUsage[] = "forward FROM TO... [{ options }]";

// "IP", "IP:port", "[IPv6]:port", with an optional dns:// or tls:// scheme and, for
// tls://, an optional %servername after the IP.
absl::StatusOr<Upstream> ParseUpstreamAddress(const Token& token) {
  Upstream up;
  absl::string_view text = token.text;
  if (absl::Status s = RefuseUnsupportedScheme(token, "dns://IP[:port] or tls://IP[%name][:port]");
      !s.ok())
    return s;
  if (absl::ConsumePrefix(&text, "tls://")) {
    up.transport = Transport::kTls;
    up.port = kDefaultTlsPort;
  } else {
    absl::ConsumePrefix(&text, "dns://");
  }
  std::string host_port(text);
  if (up.transport == Transport::kTls) {
    // tls://10.1.0.20%dns.remote.example:853: the name sits between the IP and the port.
    const std::size_t percent = host_port.find('%');
    if (percent != std::string::npos) {
      std::string rest = host_port.substr(percent + 1);
      std::string port_part;
      const std::size_t colon = rest.rfind(':');
      if (colon != std::string::npos) {
        port_part = rest.substr(colon);
        rest = rest.substr(0, colon);
      }
      up.tls_servername = rest;
      host_port = host_port.substr(0, percent) + port_part;
      if (up.tls_servername.empty()) {
        return ErrorAt(token, absl::StrCat("empty server name after '%' in '", token.text, "'"));
      }
    }
  }
  const std::optional<HostPort> split = SplitHostPort(host_port);
  if (!split) {
    return ErrorAt(token, absl::StrCat("invalid port in '", token.text,
                                       "', expected a number from 1 to 65535"));
  }
  const std::optional<IpAddress> ip = ParseIp(split->host);
  if (!ip) {
    return absl::NotFoundError(split->host);  // caller tries it as a file
  }
  up.address = *ip;
  if (split->port) up.port = *split->port;
  return up;
}

// A resolv.conf-style file: every `nameserver IP` line is an upstream on port 53.
absl::StatusOr<std::vector<Upstream>> ReadResolvConf(const Token& token) {
  std::ifstream in(token.text);
  if (!in) {
    return ErrorAt(token, absl::StrCat("'", token.text,
                                       "' is not an IP address, IP:port, "
                                       "tls://IP or a readable resolv.conf file"));
  }
  std::vector<Upstream> out;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() < 2 || fields[0] != "nameserver") continue;
    const std::optional<IpAddress> ip = ParseIp(fields[1].substr(0, fields[1].find('%')));
    if (!ip) continue;
    Upstream up;
    up.address = *ip;
    out.push_back(up);
  }
  if (out.empty()) {
    return ErrorAt(token, absl::StrCat("no nameserver lines in '", token.text, "'"));
  }
  return out;
}

absl::Status ParseOption(const Directive& o, Forward& f) {
  const std::string& name = o.name.text;
  if (absl::Status s = ExpectNoBlock(o); !s.ok()) return s;
  auto no_args = [&]() { return ExpectArgs(o, 0, 0, name); };
  auto duration = [&](absl::Duration& out) -> absl::Status {
    if (absl::Status s = ExpectArgs(o, 1, 1, absl::StrCat(name, " DURATION")); !s.ok()) return s;
    absl::StatusOr<absl::Duration> d = ParseDuration(o.args[0], name);
    if (!d.ok()) return d.status();
    out = *d;
    return absl::OkStatus();
  };
  auto integer = [&](std::uint32_t& out, std::uint32_t min, std::uint32_t max) -> absl::Status {
    if (absl::Status s = ExpectArgs(o, 1, 1, absl::StrCat(name, " INTEGER")); !s.ok()) return s;
    absl::StatusOr<std::uint32_t> v = ParseUint(o.args[0], name, min, max);
    if (!v.ok()) return v.status();
    out = *v;
    return absl::OkStatus();
  };
  auto rcodes = [&](std::vector<std::uint16_t>& out) -> absl::Status {
    if (absl::Status s = ExpectArgs(o, 1, 16, absl::StrCat(name, " RCODE...")); !s.ok()) return s;
    for (const Token& t : o.args) {
      absl::StatusOr<std::uint16_t> r = ParseRcode(t);
      if (!r.ok()) return r.status();
      // Repeated lines add up; each RCODE once (found by corefile_fuzz: duplicates made
      // the normalised Corefile exceed the 16 arguments it then had to parse back).
      if (std::find(out.begin(), out.end(), *r) == out.end()) out.push_back(*r);
    }
    return absl::OkStatus();
  };

  if (name == "except") {
    if (absl::Status s = ExpectArgs(o, 1, 1000, "except NAMES..."); !s.ok()) return s;
    for (const Token& t : o.args) {
      absl::StatusOr<std::string> zone = ParseZone(t);
      if (!zone.ok()) return zone.status();
      f.except.push_back(*zone);
    }
    return absl::OkStatus();
  }
  if (name == "force_tcp") {
    f.force_tcp = true;
    return no_args();
  }
  if (name == "prefer_udp") {
    f.prefer_udp = true;
    return no_args();
  }
  if (name == "insecure") {
    f.insecure = true;
    return no_args();
  }
  if (name == "failfast_all_unhealthy_upstreams") {
    f.failfast_all_unhealthy_upstreams = true;
    return no_args();
  }
  if (name == "expire") return duration(f.expire);
  if (name == "max_age") return duration(f.max_age);
  if (name == "read_timeout") {
    if (absl::Status s = duration(f.read_timeout); !s.ok()) return s;
    if (f.read_timeout <= absl::ZeroDuration()) {
      return ErrorAt(o.args[0], "read_timeout must be greater than 0");
    }
    return absl::OkStatus();
  }
  if (name == "max_idle_conns") return integer(f.max_idle_conns, 0, 1000000);
  if (name == "max_fails") return integer(f.max_fails, 0, 1000000);
  if (name == "max_connect_attempts") return integer(f.max_connect_attempts, 0, 1000000);
  if (name == "max_concurrent") return integer(f.max_concurrent, 0, 100000000);
  if (name == "next") return rcodes(f.next_rcodes);
  if (name == "failover") return rcodes(f.failover_rcodes);
  if (name == "tls") {
    if (absl::Status s = ExpectArgs(o, 0, 3, "tls [CERT KEY [CA]] or tls CA"); !s.ok()) return s;
    TlsFiles files;
    if (o.args.size() == 1) files.ca = o.args[0].text;
    if (o.args.size() >= 2) {
      files.cert = o.args[0].text;
      files.key = o.args[1].text;
    }
    if (o.args.size() == 3) files.ca = o.args[2].text;
    f.tls = files;
    return absl::OkStatus();
  }
  if (name == "tls_servername") {
    if (absl::Status s = ExpectArgs(o, 1, 1, "tls_servername NAME"); !s.ok()) return s;
    f.tls_servername = o.args[0].text;
    return absl::OkStatus();
  }
  if (name == "policy") {
    if (absl::Status s = ExpectArgs(o, 1, 1, "policy random|round_robin|sequential"); !s.ok()) {
      return s;
    }
    absl::StatusOr<Policy> policy = ParseKeyword<Policy>(o.args[0], "policy",
                                                         {{"random", Policy::kRandom},
                                                          {"round_robin", Policy::kRoundRobin},
                                                          {"sequential", Policy::kSequential}});
    if (!policy.ok()) return policy.status();
    f.policy = *policy;
    return absl::OkStatus();
  }
  if (name == "health_check") {
    constexpr char kHcUsage[] = "health_check DURATION [no_rec] [domain FQDN]";
    if (absl::Status s = ExpectArgs(o, 1, 4, kHcUsage); !s.ok()) return s;
    absl::StatusOr<absl::Duration> d = ParseDuration(o.args[0], "health_check interval");
    if (!d.ok()) return d.status();
    f.health_check.interval = *d;
    for (std::size_t i = 1; i < o.args.size(); ++i) {
      if (o.args[i].text == "no_rec") {
        f.health_check.recursion_desired = false;
      } else if (o.args[i].text == "domain" && i + 1 < o.args.size()) {
        absl::StatusOr<std::string> zone = ParseZone(o.args[++i]);
        if (!zone.ok()) return zone.status();
        f.health_check.domain = *zone;
      } else {
        return ErrorAt(o.args[i],
                       absl::StrCat("unexpected '", o.args[i].text, "', expected ", kHcUsage));
      }
    }
    return absl::OkStatus();
  }
  if (name == "source_address") {
    if (absl::Status s = ExpectArgs(o, 1, 1, "source_address IP"); !s.ok()) return s;
    const std::optional<IpAddress> ip = ParseIp(o.args[0].text);
    if (!ip)
      return ErrorAt(o.args[0], absl::StrCat("invalid source_address '", o.args[0].text,
                                             "', expected an IP address"));
    f.source_address = *ip;
    return absl::OkStatus();
  }
  return ErrorAt(o.name,
                 absl::StrCat("unknown forward option '", name,
                              "', expected one of except, force_tcp, prefer_udp, expire, "
                              "max_idle_conns, max_age, read_timeout, max_fails, "
                              "max_connect_attempts, tls, tls_servername, insecure, policy, "
                              "health_check, max_concurrent, next, "
                              "failfast_all_unhealthy_upstreams, failover, source_address"));
}

}  // namespace

absl::Status ParseForward(const Directive& d, bool read_files, Forward& f) {
  if (d.args.size() < 2) {
    return ErrorAt(d.name,
                   absl::StrCat("forward: expected ", kUsage, ", with at least one upstream"));
  }
  f.where = d.name.where;
  absl::StatusOr<std::string> from = ParseZone(d.args[0]);
  if (!from.ok()) return from.status();
  f.from = *from;
  for (std::size_t i = 1; i < d.args.size(); ++i) {
    const Token& t = d.args[i];
    if (t.text.empty()) {
      return ErrorAt(t,
                     "empty upstream address (is an environment variable in it unset?), "
                     "expected an IP address");
    }
    absl::StatusOr<Upstream> up = ParseUpstreamAddress(t);
    if (up.ok()) {
      f.to.push_back(*up);
    } else if (absl::IsNotFound(up.status()) && t.text.find("://") == std::string::npos &&
               read_files) {
      absl::StatusOr<std::vector<Upstream>> file = ReadResolvConf(t);
      if (!file.ok()) return file.status();
      f.to.insert(f.to.end(), file->begin(), file->end());
    } else if (absl::IsNotFound(up.status())) {
      return ErrorAt(t, absl::StrCat("'", t.text, "' does not hold an IP address; expected ",
                                     "dns://IP[:port] or tls://IP[%name][:port]"));
    } else {
      return up.status();
    }
    if (f.to.size() > kMaxUpstreams) {
      return ErrorAt(t, absl::StrCat("forward: more than ", kMaxUpstreams, " upstreams"));
    }
  }
  for (const Upstream& up : f.to) {
    if (up.transport != f.to.front().transport) {
      return ErrorAt(d.args[1],
                     "forward: all upstreams of one forward must use the same "
                     "transport (all dns:// or all tls://)");
    }
  }
  for (const Directive& option : d.block) {
    if (absl::Status s = ParseOption(option, f); !s.ok()) return s;
  }
  // A tls:// upstream must have a name to verify, unless the operator opts out out loud
  // (coredns/coredns#4992).
  if (f.to.front().transport == Transport::kTls) {
    if (!f.tls) f.tls = TlsFiles{};
    for (const Upstream& up : f.to) {
      if (up.tls_servername.empty() && f.tls_servername.empty() && !f.insecure) {
        return ErrorAt(d.name, absl::StrCat("forward: tls upstream ", up.address.ToString(),
                                            " has no server name to verify; write "
                                            "tls://IP%NAME, add 'tls_servername NAME', or "
                                            "add 'insecure' to skip verification"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace ringdns::core::config
