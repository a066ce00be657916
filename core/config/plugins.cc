// The directives around forwarding: bind, acl, log, errors, health, ready, prometheus,
// reload, tls (server side) and loadbalance.
#include <algorithm>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"
#include "wire/edns.h"

namespace ringdns::core::config {
namespace {

absl::Status ParseIpList(const std::vector<Token>& tokens, std::size_t from,
                         std::vector<IpAddress>& out) {
  for (std::size_t i = from; i < tokens.size(); ++i) {
    const std::optional<IpAddress> ip = ParseIp(tokens[i].text);
    if (!ip) {
      return ErrorAt(tokens[i], absl::StrCat("bind: '", tokens[i].text,
                                             "' is not an IP address; interface names are not "
                                             "supported, expected an address such as 127.0.0.1"));
    }
    out.push_back(*ip);
  }
  return absl::OkStatus();
}

absl::StatusOr<Endpoint> ParseEndpointText(const Token& token) {
  const std::optional<HostPort> hp = SplitHostPort(token.text);
  if (!hp || !hp->port) {
    return ErrorAt(token, absl::StrCat("invalid address '", token.text,
                                       "', expected [HOST]:PORT such as :8080 or localhost:9153"));
  }
  if (!hp->host.empty() && hp->host != "localhost" && !ParseIp(hp->host)) {
    return ErrorAt(token, absl::StrCat("invalid host '", hp->host,
                                       "', expected an IP address, localhost or nothing"));
  }
  return Endpoint{hp->host, *hp->port};
}

// What RE2 (CoreDNS's Go regexp) refuses and libstdc++'s std::regex would take, with
// undefined behaviour on huge numbers (found by corefile_fuzz): back-references, and
// repeat counts over RE2's limit of 1000.
absl::Status CheckRe2Compatible(const Token& pattern) {
  constexpr int kMaxRepeat = 1000;
  const std::string& p = pattern.text;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\' && i + 1 < p.size()) {
      if (p[i + 1] >= '1' && p[i + 1] <= '9') {
        return ErrorAt(pattern, absl::StrCat("consolidate: invalid REGEXP '", p,
                                             "': back-references are not RE2 syntax"));
      }
      ++i;
      continue;
    }
    if (p[i] != '{') continue;
    int count = 0;
    for (std::size_t j = i + 1; j < p.size() && (p[j] == ',' || (p[j] >= '0' && p[j] <= '9'));
         ++j) {
      count = p[j] == ',' ? 0 : std::min(count * 10 + (p[j] - '0'), kMaxRepeat + 1);
      if (count > kMaxRepeat) {
        return ErrorAt(
            pattern, absl::StrCat("consolidate: invalid REGEXP '", p, "': repeat count over 1000"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseBind(const Directive& d, ServerBlock& out) {
  if (absl::Status s = ExpectArgs(d, 1, 1000, "bind ADDRESS... [{ except ADDRESS... }]"); !s.ok()) {
    return s;
  }
  if (absl::Status s = ParseIpList(d.args, 0, out.bind); !s.ok()) return s;
  for (const Directive& o : d.block) {
    if (o.name.text != "except") {
      return ErrorAt(o.name,
                     absl::StrCat("unknown bind option '", o.name.text, "', expected except"));
    }
    if (absl::Status s = ExpectArgs(o, 1, 1000, "except ADDRESS..."); !s.ok()) return s;
    if (absl::Status s = ParseIpList(o.args, 0, out.bind_except); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ParseAcl(const Directive& d, Acl& acl) {
  for (const Token& t : d.args) {
    absl::StatusOr<std::string> zone = ParseZone(t);
    if (!zone.ok()) return zone.status();
    acl.zones.push_back(*zone);
  }
  if (d.block.empty()) {
    return ErrorAt(d.name, "acl: expected a block with allow, block, filter or drop rules");
  }
  for (const Directive& o : d.block) {
    AclRule rule;
    const std::string& action = o.name.text;
    absl::StatusOr<AclAction> parsed = ParseKeyword<AclAction>(o.name, "acl action",
                                                               {{"allow", AclAction::kAllow},
                                                                {"block", AclAction::kBlock},
                                                                {"filter", AclAction::kFilter},
                                                                {"drop", AclAction::kDrop}});
    if (!parsed.ok()) return parsed.status();
    rule.action = *parsed;
    enum { kNone, kType, kNet } mode = kNone;
    for (const Token& t : o.args) {
      if (t.text == "type") {
        mode = kType;
      } else if (t.text == "net") {
        mode = kNet;
      } else if (mode == kType) {
        if (t.text == "*") continue;
        absl::StatusOr<std::uint16_t> qtype = ParseQtype(t);
        if (!qtype.ok()) return qtype.status();
        rule.qtypes.push_back(*qtype);
      } else if (mode == kNet) {
        if (t.text == "*") continue;
        const std::optional<Prefix> prefix = ParsePrefix(t.text);
        if (!prefix) {
          return ErrorAt(t, absl::StrCat("invalid acl source '", t.text,
                                         "', expected an IP address or CIDR such as 10.0.0.0/8"));
        }
        rule.sources.push_back(*prefix);
      } else {
        return ErrorAt(t, absl::StrCat("unexpected '", t.text, "', expected ", action,
                                       " [type QTYPE...] [net SOURCE...]"));
      }
    }
    acl.rules.push_back(std::move(rule));
  }
  return absl::OkStatus();
}

absl::Status ParseLog(const Directive& d, Log& log) {
  std::vector<Token> args = d.args;
  // The last argument is a format when it holds a {placeholder}.
  if (args.size() >= 2 && args.back().text.find('{') != std::string::npos) {
    log.format = args.back().text;
    args.pop_back();
  }
  if (!args.empty()) {
    log.names.clear();
    for (const Token& t : args) {
      absl::StatusOr<std::string> zone = ParseZone(t);
      if (!zone.ok()) return zone.status();
      log.names.push_back(*zone);
    }
  }
  for (const Directive& o : d.block) {
    if (o.name.text != "class") {
      return ErrorAt(o.name,
                     absl::StrCat("unknown log option '", o.name.text, "', expected class"));
    }
    if (absl::Status s = ExpectArgs(o, 1, 4, "class all|success|denial|error..."); !s.ok())
      return s;
    log.classes.clear();
    for (const Token& t : o.args) {
      absl::StatusOr<LogClass> cls = ParseKeyword<LogClass>(t, "log class",
                                                            {{"all", LogClass::kAll},
                                                             {"success", LogClass::kSuccess},
                                                             {"denial", LogClass::kDenial},
                                                             {"error", LogClass::kError}});
      if (!cls.ok()) return cls.status();
      log.classes.push_back(*cls);
    }
  }
  return absl::OkStatus();
}

absl::Status ParseErrors(const Directive& d, Errors& errors) {
  if (absl::Status s = ExpectArgs(d, 0, 0, "errors [{ stacktrace | consolidate ... }]"); !s.ok()) {
    return s;
  }
  for (const Directive& o : d.block) {
    if (o.name.text == "stacktrace") {
      if (absl::Status s = ExpectArgs(o, 0, 0, "stacktrace"); !s.ok()) return s;
      errors.stacktrace = true;
      continue;
    }
    if (o.name.text != "consolidate") {
      return ErrorAt(o.name, absl::StrCat("unknown errors option '", o.name.text,
                                          "', expected stacktrace or consolidate"));
    }
    if (absl::Status s = ExpectArgs(o, 2, 3, "consolidate DURATION REGEXP [LEVEL]"); !s.ok()) {
      return s;
    }
    Consolidate c;
    absl::StatusOr<absl::Duration> period = ParseDuration(o.args[0], "consolidate duration");
    if (!period.ok()) return period.status();
    c.period = *period;
    // CoreDNS's patterns are Go (RE2) syntax; ringdns matches them as ECMAScript
    // regular expressions, which agree on the usual ones.
    c.pattern = o.args[1].text;
    if (c.pattern.empty()) return ErrorAt(o.args[1], "consolidate: empty REGEXP");
    if (absl::Status s = CheckRe2Compatible(o.args[1]); !s.ok()) return s;
    try {
      std::regex compiled(c.pattern);
    } catch (const std::regex_error& e) {
      return ErrorAt(o.args[1],
                     absl::StrCat("consolidate: invalid REGEXP '", c.pattern, "': ", e.what()));
    }
    if (o.args.size() == 3) {
      c.level = o.args[2].text;
      if (c.level != "warning" && c.level != "error" && c.level != "info" && c.level != "debug") {
        return ErrorAt(o.args[2], absl::StrCat("invalid log level '", c.level,
                                               "', expected warning, error, info or debug"));
      }
    }
    errors.consolidate.push_back(std::move(c));
  }
  return absl::OkStatus();
}

absl::Status ParseHealth(const Directive& d, Health& health) {
  if (absl::Status s = ExpectArgs(d, 0, 1, "health [ADDRESS] [{ lameduck DURATION }]"); !s.ok()) {
    return s;
  }
  if (!d.args.empty()) {
    absl::StatusOr<Endpoint> e = ParseEndpointText(d.args[0]);
    if (!e.ok()) return e.status();
    health.address = *e;
  }
  for (const Directive& o : d.block) {
    if (o.name.text != "lameduck") {
      return ErrorAt(o.name,
                     absl::StrCat("unknown health option '", o.name.text, "', expected lameduck"));
    }
    if (absl::Status s = ExpectArgs(o, 1, 1, "lameduck DURATION"); !s.ok()) return s;
    absl::StatusOr<absl::Duration> dur = ParseDuration(o.args[0], "lameduck duration");
    if (!dur.ok()) return dur.status();
    health.lameduck = *dur;
  }
  return absl::OkStatus();
}

absl::Status ParseEndpoint(const Directive& d, Endpoint& endpoint) {
  if (absl::Status s = ExpectArgs(d, 0, 1, absl::StrCat(d.name.text, " [ADDRESS]")); !s.ok()) {
    return s;
  }
  if (absl::Status s = ExpectNoBlock(d); !s.ok()) return s;
  if (d.args.empty()) return absl::OkStatus();
  absl::StatusOr<Endpoint> e = ParseEndpointText(d.args[0]);
  if (!e.ok()) return e.status();
  endpoint = *e;
  return absl::OkStatus();
}

absl::Status ParseReload(const Directive& d, Reload& reload) {
  if (absl::Status s = ExpectArgs(d, 0, 2, "reload [INTERVAL] [JITTER]"); !s.ok()) return s;
  if (absl::Status s = ExpectNoBlock(d); !s.ok()) return s;
  if (d.args.size() >= 1) {
    absl::StatusOr<absl::Duration> i = ParseDuration(d.args[0], "reload interval");
    if (!i.ok()) return i.status();
    if (*i < absl::Seconds(2)) return ErrorAt(d.args[0], "reload interval must be at least 2s");
    reload.interval = *i;
  }
  if (d.args.size() == 2) {
    absl::StatusOr<absl::Duration> j = ParseDuration(d.args[1], "reload jitter");
    if (!j.ok()) return j.status();
    if (*j < absl::Seconds(1)) return ErrorAt(d.args[1], "reload jitter must be at least 1s");
    reload.jitter = *j;
  }
  // Like CoreDNS: jitter never exceeds half the interval.
  if (reload.jitter > reload.interval / 2) reload.jitter = reload.interval / 2;
  return absl::OkStatus();
}

absl::Status ParseServerTls(const Directive& d, ServerTls& tls) {
  if (absl::Status s = ExpectArgs(d, 2, 3, "tls CERT KEY [CA] [{ client_auth MODE }]"); !s.ok()) {
    return s;
  }
  tls.cert = d.args[0].text;
  tls.key = d.args[1].text;
  if (d.args.size() == 3) tls.ca = d.args[2].text;
  for (const Directive& o : d.block) {
    if (o.name.text != "client_auth") {
      return ErrorAt(o.name,
                     absl::StrCat("unknown tls option '", o.name.text, "', expected client_auth"));
    }
    constexpr char kModes[] = "nocert, request, require, verify_if_given or require_and_verify";
    if (absl::Status s = ExpectArgs(o, 1, 1, absl::StrCat("client_auth ", kModes)); !s.ok()) {
      return s;
    }
    absl::StatusOr<ClientAuth> mode =
        ParseKeyword<ClientAuth>(o.args[0], "client_auth",
                                 {{"nocert", ClientAuth::kNoCert},
                                  {"request", ClientAuth::kRequest},
                                  {"require", ClientAuth::kRequire},
                                  {"verify_if_given", ClientAuth::kVerifyIfGiven},
                                  {"require_and_verify", ClientAuth::kRequireAndVerify}});
    if (!mode.ok()) return mode.status();
    tls.client_auth = *mode;
  }
  return absl::OkStatus();
}

absl::Status ParseLoadbalance(const Directive& d, ServerBlock& block) {
  if (block.loadbalance) {
    return ErrorAt(d.name, "loadbalance is given twice in this server block, expected at most one");
  }
  if (!d.args.empty() && d.args[0].text == "weighted") {
    return ErrorAt(d.args[0],
                   "loadbalance weighted is not supported by ringdns; expected "
                   "round_robin (or keep this block on CoreDNS)");
  }
  if (absl::Status s = ExpectArgs(d, 0, 1, "loadbalance [round_robin]"); !s.ok()) return s;
  if (!d.args.empty() && d.args[0].text != "round_robin") {
    return ErrorAt(d.args[0], absl::StrCat("unknown loadbalance policy '", d.args[0].text,
                                           "', expected round_robin"));
  }
  block.loadbalance = true;
  return ExpectNoBlock(d);
}

absl::Status ParseChaos(const Directive& d, ServerBlock& block) {
  if (block.chaos)
    return ErrorAt(d.name, "chaos is given twice in this server block, expected at most one");
  Chaos& chaos = block.chaos.emplace();
  chaos.where = d.name.where;
  // What an answer can hold beside the question and an OPT, so authors.bind always fits.
  constexpr std::size_t kAuthorsRoom = 1000;
  std::size_t authors_octets = 0;
  for (std::size_t i = 0; i < d.args.size(); ++i) {
    // A TXT character-string holds 255 octets (RFC 1035 section 3.3); CoreDNS cuts there too.
    const std::string text(d.args[i].text.substr(0, 255));
    if (i == 0) {
      chaos.version = text;
      continue;
    }
    authors_octets += 2 + 10 + 1 + text.size();  // pointer, fixed fields, length octet
    if (authors_octets > kAuthorsRoom) {
      return ErrorAt(d.args[i], absl::StrCat("chaos: the authors take more than ", kAuthorsRoom,
                                             " octets, which is what one answer holds"));
    }
    chaos.authors.push_back(text);
  }
  return ExpectNoBlock(d);
}

absl::Status ParseNsid(const Directive& d, ServerBlock& block) {
  if (block.nsid)
    return ErrorAt(d.name, "nsid is given twice in this server block, expected at most one");
  Nsid& nsid = block.nsid.emplace();
  // CoreDNS joins the arguments with a space: `nsid my server` is "my server".
  if (!d.args.empty()) {
    nsid.data = absl::StrJoin(d.args, " ",
                              [](std::string* out, const Token& arg) { out->append(arg.text); });
  }
  return ExpectNoBlock(d);
}

absl::Status ParseBufsize(const Directive& d, ServerBlock& block) {
  if (block.bufsize)
    return ErrorAt(d.name, "bufsize is given twice in this server block, expected at most one");
  if (absl::Status s = ExpectArgs(d, 0, 1, "bufsize [SIZE]"); !s.ok()) return s;
  std::uint16_t size = wire::edns::kAdvertisedUdpSize;  // CoreDNS's default since 1.11
  if (!d.args.empty()) {
    // 512 is the least any EDNS payload size may be (RFC 6891 section 6.2.5); CoreDNS's range.
    absl::StatusOr<std::uint32_t> n = ParseUint(d.args[0], "bufsize SIZE", 512, 4096);
    if (!n.ok()) return n.status();
    size = static_cast<std::uint16_t>(*n);
  }
  block.bufsize = size;
  return ExpectNoBlock(d);
}

}  // namespace ringdns::core::config
