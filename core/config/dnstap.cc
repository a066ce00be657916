// The `dnstap` directive, with CoreDNS's syntax:
//   dnstap SOCKET [full] [WRITEBUFFER [QUEUE]] { identity ID; version V; extra E; skipverify }
// SOCKET is unix:///path (or a bare path) or tcp://IP:PORT.
#include <sys/un.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"

namespace ringdns::core::config {
namespace {

constexpr absl::string_view kUsage = "dnstap SOCKET [full] [WRITEBUFFER [QUEUE]] [{ identity | version | extra | skipverify }]";

absl::Status ParseSocket(const Token& token, Dnstap& out) {
  absl::string_view text = token.text;
  if (absl::ConsumePrefix(&text, "tcp://")) {
    const std::optional<HostPort> hp = SplitHostPort(text);
    if (!hp || !hp->port) {
      return ErrorAt(token, absl::StrCat("dnstap: invalid collector '", token.text,
                                         "', expected tcp://IP:PORT such as tcp://127.0.0.1:6000"));
    }
    const std::optional<IpAddress> ip = ParseIp(hp->host);
    if (!ip) {
      return ErrorAt(token, absl::StrCat("dnstap: '", hp->host, "' is not an IP address; ringdns does not ",
                                         "resolve collector names, expected tcp://IP:PORT"));
    }
    out.tcp_address = *ip;
    out.tcp_port = *hp->port;
    return absl::OkStatus();
  }
  if (absl::StartsWith(text, "tls://")) {
    return ErrorAt(token, absl::StrCat("dnstap over tls:// is not supported by ringdns; expected ",
                                       "unix:///PATH or tcp://IP:PORT (a TLS relay on the node can carry it on)"));
  }
  if (!absl::ConsumePrefix(&text, "unix://") && absl::StrContains(text, "://")) {
    return ErrorAt(token, absl::StrCat("dnstap: the transport of '", token.text,
                                       "' is not supported; expected unix:///PATH or tcp://IP:PORT"));
  }
  if (text.empty() || text.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return ErrorAt(token, absl::StrCat("dnstap: invalid socket path '", text, "', expected a path of 1 to ",
                                       sizeof(sockaddr_un{}.sun_path) - 1, " characters"));
  }
  out.unix_path = std::string(text);
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseDnstap(const Directive& d, Dnstap& out) {
  out.where = d.name.where;
  if (absl::Status s = ExpectArgs(d, 1, 4, kUsage); !s.ok()) return s;
  if (absl::Status s = ParseSocket(d.args[0], out); !s.ok()) return s;
  if (d.args.size() >= 2) {
    if (d.args[1].text != "full") {
      return ErrorAt(d.args[1], absl::StrCat("dnstap: unknown argument '", d.args[1].text, "', expected full"));
    }
    out.full = true;
  }
  if (d.args.size() >= 3) {
    absl::StatusOr<std::uint32_t> mib = ParseUint(d.args[2], "dnstap write buffer (MiB)", 1, 1024);
    if (!mib.ok()) return mib.status();
    out.writebuffer = *mib;
  }
  if (d.args.size() >= 4) {
    absl::StatusOr<std::uint32_t> queue = ParseUint(d.args[3], "dnstap queue (x10000 messages)", 1, 4096);
    if (!queue.ok()) return queue.status();
    out.queue = *queue;
  }
  for (const Directive& o : d.block) {
    const std::string& name = o.name.text;
    if (name == "skipverify") {
      if (absl::Status s = ExpectArgs(o, 0, 0, "skipverify"); !s.ok()) return s;
      out.skipverify = true;
      continue;
    }
    std::string* field = name == "identity" ? &out.identity
                         : name == "version" ? &out.version
                         : name == "extra"   ? &out.extra
                                             : nullptr;
    if (field == nullptr) {
      return ErrorAt(o.name, absl::StrCat("unknown dnstap option '", name,
                                          "', expected identity, version, extra or skipverify"));
    }
    if (absl::Status s = ExpectArgs(o, 1, 1, absl::StrCat(name, " TEXT")); !s.ok()) return s;
    *field = o.args[0].text;
  }
  return absl::OkStatus();
}

}  // namespace ringdns::core::config
