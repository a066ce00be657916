// FormatCorefile: a Config printed back as a Corefile with every value explicit, so an
// operator sees exactly what ringdns understood (-validate).
#include <sys/socket.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/config/lexer.h"
#include "core/config/loader.h"
#include "core/config/parse_util.h"
#include "wire/rr_names.h"

namespace ringdns::core::config {
namespace {

// Quotes a token only when it must be: it is empty, holds white space (Unicode's too) or
// a '#', which would start a comment, starts a quoted string, or is a lone brace. Inside
// quotes only \" is an escape (as in CoreDNS's lexer); any other backslash stays.
std::string Quote(absl::string_view text) {
  bool needs = text.empty() || text.front() == '"' || text == "{" || text == "}";
  for (std::size_t i = 0; i < text.size() && !needs; ++i)
    needs = text[i] == '#' || SpaceAt(text, i) > 0;
  if (!needs) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A view expression as Corefile tokens that join back to it: one token, quoted when it
// holds a space; or its words, which `expr` joins with one space, when one quoted token
// would read back as something else: a \" in it reads as an escaped quote, and a '{$'
// or '{%' whose '}' was in another word would become one environment variable.
std::string ExpressionTokens(absl::string_view source) {
  const bool quotable = source.find("\\\"") == absl::string_view::npos &&
                        !absl::StrContains(source, "{$") && !absl::StrContains(source, "{%");
  if (quotable) return Quote(source);
  std::vector<std::string> words;
  for (absl::string_view word : absl::StrSplit(source, ' ')) words.push_back(Quote(word));
  return absl::StrJoin(words, " ");
}

// Names and other token lists, each quoted when it must be (a zone may start with '#').
std::string JoinQuoted(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& item : items) quoted.push_back(Quote(item));
  return absl::StrJoin(quoted, " ");
}

// A server block key. Zones are kept in presentation form; escapes in them stay as
// they are, and any other octet outside letters, digits and "-_.*" is written \DDD
// (corefile_fuzz: a zone holding ',' printed raw split into two keys when parsed back).
std::string KeyText(const ServerKey& k) {
  std::string zone;
  const std::string& z = k.zone;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const auto u = static_cast<unsigned char>(z[i]);
    if (u == '\\' && i + 1 < z.size()) {
      const bool decimal =
          i + 3 < z.size() && absl::ascii_isdigit(static_cast<unsigned char>(z[i + 1]));
      const std::size_t len = decimal ? 4 : 2;
      zone.append(z, i, len);
      i += len - 1;
    } else if (absl::ascii_isalnum(u) || u == '-' || u == '_' || u == '.' || u == '*') {
      zone += z[i];
    } else {
      absl::StrAppend(&zone, "\\", absl::Dec(u, absl::kZeroPad3));
    }
  }
  return absl::StrCat(TransportScheme(k.transport), "://", zone, ":", k.port);
}

// `template`, every value explicit: the zones, the regexes (".*" when none was given),
// each section, the rcode.
std::string TemplateText(const Template& t) {
  wire::MnemonicBuffer class_buffer;
  std::string out =
      absl::StrCat("    template ", std::string(wire::ClassName(t.qclass, class_buffer)), " ",
                   QtypeName(t.qtype), t.zones.empty() ? "" : " ", JoinQuoted(t.zones), " {\n");
  absl::StrAppend(&out, "        match ", t.matches.empty() ? ".*" : JoinQuoted(t.matches), "\n");
  for (const auto& [section, records] : {std::pair{"answer", &t.answer},
                                         {"additional", &t.additional},
                                         {"authority", &t.authority}}) {
    for (const std::string& record : *records)
      absl::StrAppend(&out, "        ", section, " ", Quote(record), "\n");
  }
  absl::StrAppend(&out, "        rcode ", RcodeName(t.rcode), "\n");
  if (t.ederror) {
    absl::StrAppend(&out, "        ederror ", *t.ederror, t.ederror_reason.empty() ? "" : " ",
                    t.ederror_reason.empty() ? "" : Quote(t.ederror_reason), "\n");
  }
  if (t.fallthrough) {
    absl::StrAppend(&out, "        fallthrough", t.fallthrough->empty() ? "" : " ",
                    JoinQuoted(*t.fallthrough), "\n");
  }
  return out + "    }\n";
}

const char* MatchName(NameMatch m) {
  switch (m) {
    case NameMatch::kExact: return "exact";
    case NameMatch::kPrefix: return "prefix";
    case NameMatch::kSuffix: return "suffix";
    case NameMatch::kSubstring: return "substring";
    case NameMatch::kRegex: return "regex";
  }
  return "exact";
}

// `edns0 ...` as ParseEdns0Rule reads it back: codes and data in hex.
std::string Edns0RuleText(const Rewrite& r) {
  static constexpr const char* kActions[] = {"set", "replace", "append", "unset"};
  static constexpr const char* kVariables[] = {
      "", "{qname}", "{qtype}", "{client_ip}", "{client_port}", "{protocol}"};
  const char* action = kActions[static_cast<int>(r.edns_action)];
  const bool unset = r.edns_action == EdnsAction::kUnset;
  switch (r.edns_option) {
    case EdnsOptionKind::kLocal: {
      std::string out =
          absl::StrCat("edns0 local ", action, " 0x", absl::Hex(r.from_code, absl::kZeroPad4));
      if (unset) return out;
      if (r.edns_variable != EdnsVariable::kNone)
        return absl::StrCat(out, " ", kVariables[static_cast<int>(r.edns_variable)]);
      return absl::StrCat(out, " 0x", absl::BytesToHexString(r.edns_data));
    }
    case EdnsOptionKind::kNsid: return absl::StrCat("edns0 nsid ", action);
    case EdnsOptionKind::kSubnet:
      if (unset) return absl::StrCat("edns0 subnet ", action);
      return absl::StrCat("edns0 subnet ", action, " ", r.subnet_v4, " ", r.subnet_v6);
  }
  return {};
}

// One rule per line, every value explicit (the match type, the mode, a TTL as MIN-MAX).
std::string RewriteText(const Rewrite& r) {
  std::string out = absl::StrCat("    rewrite ", r.stop ? "stop" : "continue", " ");
  wire::MnemonicBuffer class_buffer;
  switch (r.field) {
    case RewriteField::kName:
      absl::StrAppend(&out, "name ", MatchName(r.match), " ", Quote(r.from), " ", Quote(r.to));
      if (r.answer_auto) absl::StrAppend(&out, " answer auto");
      for (const RewriteAnswer& a : r.answers) {
        absl::StrAppend(&out, " answer ", a.value ? "value " : "name ", Quote(a.pattern), " ",
                        Quote(a.replacement));
      }
      break;
    case RewriteField::kTtl:
      absl::StrAppend(&out, "ttl ", MatchName(r.match), " ", Quote(r.from), " ", r.ttl_min, "-",
                      r.ttl_max);
      break;
    case RewriteField::kType:
      absl::StrAppend(&out, "type ", QtypeName(r.from_code), " ", QtypeName(r.to_code));
      break;
    case RewriteField::kClass:
      absl::StrAppend(&out, "class ", std::string(wire::ClassName(r.from_code, class_buffer)), " ");
      absl::StrAppend(&out, std::string(wire::ClassName(r.to_code, class_buffer)));
      break;
    case RewriteField::kEdns0: out += Edns0RuleText(r); break;
  }
  return out + "\n";
}

// Inline entries before `fallthrough`: after it, CoreDNS reads an entry as an error.
void FormatHosts(const Hosts& h, std::string& out) {
  absl::StrAppend(&out, "    hosts ", Quote(h.path), " ", JoinQuoted(h.zones), " {\n");
  for (const HostsLine& line : h.inline_entries)
    absl::StrAppend(&out, "        ", JoinQuoted(line.fields), "\n");
  absl::StrAppend(&out, "        ttl ", h.ttl, "\n        reload ", DurationText(h.reload), "\n");
  if (h.no_reverse) absl::StrAppend(&out, "        no_reverse\n");
  if (h.fallthrough)
    absl::StrAppend(&out, "        fallthrough ", JoinQuoted(*h.fallthrough), "\n");
  absl::StrAppend(&out, "    }\n");
}

// An IPv6 host in brackets, so that the text parses back ("[::]:8181", not ":::8181").
std::string EndpointText(const Endpoint& e) {
  if (e.host.find(':') != std::string::npos) return absl::StrCat("[", e.host, "]:", e.port);
  return absl::StrCat(e.host, ":", e.port);
}

const char* PolicyName(Policy p) {
  switch (p) {
    case Policy::kRandom: return "random";
    case Policy::kRoundRobin: return "round_robin";
    case Policy::kSequential: return "sequential";
  }
  return "random";
}

const char* ClientAuthName(ClientAuth a) {
  switch (a) {
    case ClientAuth::kNoCert: return "nocert";
    case ClientAuth::kRequest: return "request";
    case ClientAuth::kRequire: return "require";
    case ClientAuth::kVerifyIfGiven: return "verify_if_given";
    case ClientAuth::kRequireAndVerify: return "require_and_verify";
  }
  return "nocert";
}

std::string Rcodes(const std::vector<std::uint16_t>& rcodes) {
  std::vector<std::string> names;
  for (std::uint16_t r : rcodes) names.emplace_back(RcodeName(r));
  return absl::StrJoin(names, " ");
}

void FormatForward(const Forward& f, std::string& out) {
  std::vector<std::string> to;
  for (const Upstream& up : f.to) {
    std::string text =
        absl::StrCat(TransportScheme(up.transport), "://",
                     up.address.family == AF_INET6 ? absl::StrCat("[", up.address.ToString(), "]")
                                                   : up.address.ToString());
    if (!up.tls_servername.empty()) absl::StrAppend(&text, "%", up.tls_servername);
    absl::StrAppend(&text, ":", up.port);
    to.push_back(text);
  }
  absl::StrAppend(&out, "    forward ", Quote(f.from), " ", JoinQuoted(to), " {\n");
  if (!f.except.empty()) absl::StrAppend(&out, "        except ", JoinQuoted(f.except), "\n");
  if (f.force_tcp) absl::StrAppend(&out, "        force_tcp\n");
  if (f.prefer_udp) absl::StrAppend(&out, "        prefer_udp\n");
  absl::StrAppend(&out, "        expire ", DurationText(f.expire), "\n");
  absl::StrAppend(&out, "        max_idle_conns ", f.max_idle_conns, "\n");
  absl::StrAppend(&out, "        max_age ", DurationText(f.max_age), "\n");
  absl::StrAppend(&out, "        read_timeout ", DurationText(f.read_timeout), "\n");
  absl::StrAppend(&out, "        max_fails ", f.max_fails, "\n");
  absl::StrAppend(&out, "        max_connect_attempts ", f.max_connect_attempts, "\n");
  if (f.tls) {
    std::vector<std::string> args;
    if (!f.tls->cert.empty()) {
      args.push_back(Quote(f.tls->cert));
      args.push_back(Quote(f.tls->key));
    }
    if (!f.tls->ca.empty()) args.push_back(Quote(f.tls->ca));
    absl::StrAppend(&out, "        tls", args.empty() ? "" : " ", absl::StrJoin(args, " "), "\n");
  }
  if (!f.tls_servername.empty())
    absl::StrAppend(&out, "        tls_servername ", Quote(f.tls_servername), "\n");
  if (f.insecure) absl::StrAppend(&out, "        insecure\n");
  absl::StrAppend(&out, "        policy ", PolicyName(f.policy), "\n");
  absl::StrAppend(&out, "        health_check ", DurationText(f.health_check.interval),
                  f.health_check.recursion_desired ? "" : " no_rec", " domain ",
                  Quote(f.health_check.domain), "\n");
  absl::StrAppend(&out, "        max_concurrent ", f.max_concurrent, "\n");
  if (!f.next_rcodes.empty()) absl::StrAppend(&out, "        next ", Rcodes(f.next_rcodes), "\n");
  if (f.failfast_all_unhealthy_upstreams) {
    absl::StrAppend(&out, "        failfast_all_unhealthy_upstreams\n");
  }
  if (!f.failover_rcodes.empty()) {
    absl::StrAppend(&out, "        failover ", Rcodes(f.failover_rcodes), "\n");
  }
  if (f.source_address) {
    absl::StrAppend(&out, "        source_address ", f.source_address->ToString(), "\n");
  }
  absl::StrAppend(&out, "    }\n");
}

void FormatCache(const Cache& c, std::string& out) {
  absl::StrAppend(&out, "    cache", c.zones.empty() ? "" : " ", JoinQuoted(c.zones), " {\n");
  for (const auto& [name, cls] :
       {std::pair{"success", &c.success}, std::pair{"denial", &c.denial}}) {
    absl::StrAppend(&out, "        ", name, " ", cls->capacity, " ",
                    absl::ToInt64Seconds(cls->max_ttl), " ", absl::ToInt64Seconds(cls->min_ttl),
                    "\n");
  }
  if (c.prefetch_amount > 0) {
    absl::StrAppend(&out, "        prefetch ", c.prefetch_amount, " ",
                    DurationText(c.prefetch_duration), " ", c.prefetch_percentage, "%\n");
  }
  if (c.serve_stale) {
    absl::StrAppend(&out, "        serve_stale ", DurationText(c.serve_stale_duration), " ",
                    c.serve_stale_refresh == StaleRefresh::kVerify ? "verify" : "immediate", "\n");
  }
  absl::StrAppend(&out, "        servfail ", DurationText(c.servfail_ttl), "\n");
  if (!c.disable_success.empty()) {
    absl::StrAppend(&out, "        disable success ", JoinQuoted(c.disable_success), "\n");
  }
  if (!c.disable_denial.empty()) {
    absl::StrAppend(&out, "        disable denial ", JoinQuoted(c.disable_denial), "\n");
  }
  if (c.keepttl) absl::StrAppend(&out, "        keepttl\n");
  absl::StrAppend(&out, "    }\n");
}

const char* AclActionName(AclAction a) {
  switch (a) {
    case AclAction::kAllow: return "allow";
    case AclAction::kBlock: return "block";
    case AclAction::kFilter: return "filter";
    case AclAction::kDrop: return "drop";
  }
  return "allow";
}

const char* LogClassName(LogClass c) {
  switch (c) {
    case LogClass::kAll: return "all";
    case LogClass::kSuccess: return "success";
    case LogClass::kDenial: return "denial";
    case LogClass::kError: return "error";
  }
  return "all";
}

void FormatBlock(const ServerBlock& b, std::string& out) {
  std::vector<std::string> keys;
  for (const ServerKey& k : b.keys) {
    keys.push_back(KeyText(k));
  }
  absl::StrAppend(&out, absl::StrJoin(keys, " "), " {\n");
  if (b.view) {
    absl::StrAppend(&out, "    view ", Quote(b.view->name), " {\n");
    for (const ViewExpr& e : b.view->exprs)
      absl::StrAppend(&out, "        expr ", ExpressionTokens(e.source), "\n");
    absl::StrAppend(&out, "    }\n");
  }
  if (!b.bind.empty()) {
    std::vector<std::string> ips;
    for (const IpAddress& ip : b.bind) ips.push_back(ip.ToString());
    absl::StrAppend(&out, "    bind ", absl::StrJoin(ips, " "));
    if (!b.bind_except.empty()) {
      std::vector<std::string> except;
      for (const IpAddress& ip : b.bind_except) except.push_back(ip.ToString());
      absl::StrAppend(&out, " {\n        except ", absl::StrJoin(except, " "), "\n    }");
    }
    absl::StrAppend(&out, "\n");
  }
  if (b.tls) {
    absl::StrAppend(&out, "    tls ", Quote(b.tls->cert), " ", Quote(b.tls->key),
                    b.tls->ca.empty() ? "" : " ", b.tls->ca.empty() ? "" : Quote(b.tls->ca),
                    " {\n        client_auth ", ClientAuthName(b.tls->client_auth), "\n    }\n");
  }
  if (b.errors) {
    absl::StrAppend(&out, "    errors");
    if (b.errors->stacktrace || !b.errors->consolidate.empty()) {
      absl::StrAppend(&out, " {\n");
      if (b.errors->stacktrace) absl::StrAppend(&out, "        stacktrace\n");
      for (const Consolidate& c : b.errors->consolidate) {
        absl::StrAppend(&out, "        consolidate ", DurationText(c.period), " ", Quote(c.pattern),
                        " ", c.level, "\n");
      }
      absl::StrAppend(&out, "    }");
    }
    absl::StrAppend(&out, "\n");
  }
  for (const Log& l : b.logs) {
    std::vector<std::string> classes;
    for (LogClass c : l.classes) classes.emplace_back(LogClassName(c));
    absl::StrAppend(&out, "    log ", JoinQuoted(l.names), " ", Quote(l.format),
                    " {\n        class ", absl::StrJoin(classes, " "), "\n    }\n");
  }
  for (const Dnstap& t : b.dnstaps) {
    absl::StrAppend(&out, "    dnstap ", Quote(t.SocketText()), t.full ? " full" : "");
    if (t.writebuffer != 0) absl::StrAppend(&out, t.full ? "" : " nofull", " ", t.writebuffer);
    if (t.queue != 0) absl::StrAppend(&out, " ", t.queue);
    if (t.identity || t.version || !t.extra.empty() || t.skipverify) {
      absl::StrAppend(&out, " {\n");
      if (t.identity) absl::StrAppend(&out, "        identity ", Quote(*t.identity), "\n");
      if (t.version) absl::StrAppend(&out, "        version ", Quote(*t.version), "\n");
      if (!t.extra.empty()) absl::StrAppend(&out, "        extra ", Quote(t.extra), "\n");
      if (t.skipverify) absl::StrAppend(&out, "        skipverify\n");
      absl::StrAppend(&out, "    }");
    }
    absl::StrAppend(&out, "\n");
  }
  if (b.health) {
    absl::StrAppend(&out, "    health ", EndpointText(b.health->address), " {\n        lameduck ",
                    DurationText(b.health->lameduck), "\n    }\n");
  }
  if (b.ready) absl::StrAppend(&out, "    ready ", EndpointText(*b.ready), "\n");
  if (b.prometheus) absl::StrAppend(&out, "    prometheus ", EndpointText(*b.prometheus), "\n");
  if (b.reload) {
    absl::StrAppend(&out, "    reload ", DurationText(b.reload->interval), " ",
                    DurationText(b.reload->jitter), "\n");
  }
  if (b.loop) absl::StrAppend(&out, "    loop\n");
  if (b.any) absl::StrAppend(&out, "    any\n");
  if (b.loadbalance) absl::StrAppend(&out, "    loadbalance round_robin\n");
  if (b.chaos) {
    absl::StrAppend(&out, "    chaos");
    if (b.chaos->version) absl::StrAppend(&out, " ", Quote(*b.chaos->version));
    if (!b.chaos->authors.empty()) absl::StrAppend(&out, " ", JoinQuoted(b.chaos->authors));
    absl::StrAppend(&out, "\n");
  }
  for (const Rewrite& r : b.rewrites) out += RewriteText(r);
  if (b.nsid) {
    absl::StrAppend(&out, "    nsid");
    if (b.nsid->data) absl::StrAppend(&out, " ", Quote(*b.nsid->data));
    absl::StrAppend(&out, "\n");
  }
  for (const Template& t : b.templates) out += TemplateText(t);
  if (b.bufsize) absl::StrAppend(&out, "    bufsize ", *b.bufsize, "\n");
  if (b.whoami) absl::StrAppend(&out, "    whoami\n");
  if (b.hosts) FormatHosts(*b.hosts, out);
  if (b.minimal) absl::StrAppend(&out, "    minimal\n");
  if (b.debug) absl::StrAppend(&out, "    debug\n");
  if (!b.root.empty()) absl::StrAppend(&out, "    root ", Quote(b.root), "\n");
  for (const Acl& acl : b.acls) {
    absl::StrAppend(&out, "    acl", acl.zones.empty() ? "" : " ", JoinQuoted(acl.zones), " {\n");
    for (const AclRule& rule : acl.rules) {
      absl::StrAppend(&out, "        ", AclActionName(rule.action));
      if (!rule.qtypes.empty()) {
        std::vector<std::string> types;
        for (std::uint16_t t : rule.qtypes) types.push_back(QtypeName(t));
        absl::StrAppend(&out, " type ", absl::StrJoin(types, " "));
      }
      if (!rule.sources.empty()) {
        std::vector<std::string> nets;
        for (const Prefix& p : rule.sources) nets.push_back(p.ToString());
        absl::StrAppend(&out, " net ", absl::StrJoin(nets, " "));
      }
      absl::StrAppend(&out, "\n");
    }
    absl::StrAppend(&out, "    }\n");
  }
  if (b.cache) FormatCache(*b.cache, out);
  for (const Forward& f : b.forwards) FormatForward(f, out);
  absl::StrAppend(&out, "}\n");
}

}  // namespace

std::string FormatForwardIdentity(const ServerBlock& block, const Forward& forward) {
  std::vector<std::string> keys;
  for (const ServerKey& k : block.keys) {
    keys.push_back(KeyText(k));
  }
  std::string out = absl::StrJoin(keys, " ");
  out += "\n";
  // What decides which queries reach the forward and what their answers hold: blocks
  // with views share their keys, and a changed rewrite makes other answers.
  if (block.view) {
    absl::StrAppend(&out, "view ", Quote(block.view->name), "\n");
    for (const ViewExpr& e : block.view->exprs)
      absl::StrAppend(&out, "expr ", Quote(e.source), "\n");
  }
  for (const Rewrite& r : block.rewrites) out += RewriteText(r);
  FormatForward(forward, out);
  if (block.cache) FormatCache(*block.cache, out);
  return out;
}

std::string FormatCorefile(const Config& config) {
  std::string out;
  for (std::size_t i = 0; i < config.blocks.size(); ++i) {
    if (i > 0) out += "\n";
    FormatBlock(config.blocks[i], out);
  }
  return out;
}

}  // namespace ringdns::core::config
