// The `dnstap` directive, with CoreDNS's syntax:
//   dnstap SOCKET [full] [WRITEBUFFER [QUEUE]] { identity ID; version V; extra E; skipverify }
// SOCKET is unix:///path (or a bare path) or tcp://IP:PORT.
#include <sys/socket.h>
#include <sys/un.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"

namespace ringdns::core::config {
namespace {

// Letters, digits, '-' and '_' in labels of 1 to 63 octets, 253 in all.
bool IsHostName(absl::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    if (++label > 63) return false;
  }
  return true;
}

constexpr absl::string_view kUsage =
    "dnstap SOCKET [full] [WRITEBUFFER [QUEUE]] [{ identity | version | extra | skipverify }]";

absl::Status ParseSocket(const Token& token, Dnstap& out) {
  absl::string_view text = token.text;
  if (absl::ConsumePrefix(&text, "tcp://")) {
    const std::optional<HostPort> hp = SplitHostPort(text);
    if (!hp || !hp->port) {
      return ErrorAt(token, absl::StrCat("dnstap: invalid collector '", token.text,
                                         "', expected tcp://IP:PORT such as tcp://127.0.0.1:6000"));
    }
    out.tcp_port = *hp->port;
    if (out.tcp_port == 0) {
      return ErrorAt(
          token, absl::StrCat("dnstap: invalid port in '", token.text, "', expected 1 to 65535"));
    }
    if (const std::optional<IpAddress> ip = ParseIp(hp->host)) {
      out.tcp_address = *ip;
      return absl::OkStatus();
    }
    if (!IsHostName(hp->host)) {
      return ErrorAt(
          token,
          absl::StrCat("dnstap: invalid collector host '", hp->host,
                       "', expected an IP address or a host name such as dnstap.monitoring.svc"));
    }
    out.tcp_host = absl::AsciiStrToLower(hp->host);
    return absl::OkStatus();
  }
  if (absl::StartsWith(text, "tls://")) {
    return ErrorAt(
        token,
        absl::StrCat("dnstap over tls:// is not supported by ringdns; expected ",
                     "unix:///PATH or tcp://IP:PORT (a TLS relay on the node can carry it on)"));
  }
  if (!absl::ConsumePrefix(&text, "unix://") && absl::StrContains(text, "://")) {
    return ErrorAt(token,
                   absl::StrCat("dnstap: the transport of '", token.text,
                                "' is not supported; expected unix:///PATH or tcp://IP:PORT"));
  }
  if (text.empty() || text.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return ErrorAt(
        token, absl::StrCat("dnstap: invalid socket path '", text, "', expected a path of 1 to ",
                            sizeof(sockaddr_un{}.sun_path) - 1, " characters"));
  }
  out.unix_path = std::string(text);
  return absl::OkStatus();
}

}  // namespace

std::string Dnstap::SocketText() const {
  if (!unix_path.empty()) return absl::StrCat("unix://", unix_path);
  if (!tcp_host.empty()) return absl::StrCat("tcp://", tcp_host, ":", tcp_port);
  const bool v6 = tcp_address.family == AF_INET6;
  return absl::StrCat("tcp://", v6 ? "[" : "", tcp_address.ToString(), v6 ? "]" : "", ":",
                      tcp_port);
}

absl::Status ParseDnstap(const Directive& d, Dnstap& out) {
  out.where = d.name.where;
  if (absl::Status s = ExpectArgs(d, 1, 1000, kUsage); !s.ok()) return s;
  if (absl::Status s = ParseSocket(d.args[0], out); !s.ok()) return s;
  // CoreDNS takes any second argument but `full` as "not full", and ignores a fifth and
  // later ones: so does ringdns, saying so.
  if (d.args.size() >= 2) {
    out.full = d.args[1].text == "full";
    if (!out.full) {
      out.notes.push_back(
          absl::StrCat(d.args[1].where.ToString(), ": dnstap: '", d.args[1].text,
                       "' is not full, so the wire messages are left out (as CoreDNS does)"));
    }
  }
  if (d.args.size() > 4) {
    out.notes.push_back(
        absl::StrCat(d.args[4].where.ToString(), ": dnstap: arguments after QUEUE are ignored"));
  }
  if (d.args.size() >= 3) {
    absl::StatusOr<std::uint32_t> mib = ParseUint(d.args[2], "dnstap write buffer (MiB)", 1, 1024);
    if (!mib.ok()) return mib.status();
    out.writebuffer = *mib;
  }
  if (d.args.size() >= 4) {
    absl::StatusOr<std::uint32_t> queue =
        ParseUint(d.args[3], "dnstap queue (x10000 messages)", 1, 4096);
    if (!queue.ok()) return queue.status();
    out.queue = *queue;
  }
  if (d.args.size() >= 3) {
    out.notes.push_back(absl::StrCat(d.args[2].where.ToString(),
                                     ": dnstap: WRITEBUFFER and QUEUE are accepted ",
                                     "and ignored; ringdns sizes its own buffers"));
  }
  for (const Directive& o : d.block) {
    const std::string& name = o.name.text;
    if (name == "skipverify") {
      if (absl::Status s = ExpectArgs(o, 0, 0, "skipverify"); !s.ok()) return s;
      out.skipverify = true;
      continue;
    }
    if (name != "identity" && name != "version" && name != "extra") {
      return ErrorAt(o.name, absl::StrCat("unknown dnstap option '", name,
                                          "', expected identity, version, extra or skipverify"));
    }
    if (absl::Status s = ExpectArgs(o, 1, 1, absl::StrCat(name, " TEXT")); !s.ok()) return s;
    const std::string& text = o.args[0].text;
    if (name == "identity") out.identity = text;
    if (name == "version") out.version = text;
    if (name == "extra") {
      out.extra = text;
      if (absl::StrContains(text, "{")) {
        out.notes.push_back(absl::StrCat(o.args[0].where.ToString(),
                                         ": dnstap: extra is sent as written; ",
                                         "CoreDNS's {placeholders} are not expanded by ringdns"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace ringdns::core::config
