#include "core/config/loader.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"
#include "core/config/syntax.h"
#include "core/config/unknown_directive.h"

namespace ringdns::core::config {
namespace {

constexpr absl::string_view kSupported =
    "acl, any, bind, bufsize, cache, chaos, debug, dnstap, errors, forward, health, hosts, import, "
    "loadbalance, log, "
    "loop, minimal, nsid, prometheus, ready, reload, rewrite, root, template, tls, view, whoami";

// [scheme://]zone[:port], or a CIDR that becomes its reverse zones.
absl::Status ParseKey(const Token& key, const LoadOptions& options, std::vector<ServerKey>& out) {
  absl::string_view text = key.text;
  Transport transport = Transport::kDns;
  if (absl::Status s = RefuseUnsupportedScheme(key, "dns:// or tls://"); !s.ok()) return s;
  if (absl::ConsumePrefix(&text, "tls://")) {
    transport = Transport::kTls;
  } else {
    absl::ConsumePrefix(&text, "dns://");
  }
  // zone[:port], or NETWORK/LEN[:port] whose network may be IPv6 (colons before '/').
  std::string host(text);
  std::string port_text;
  const std::size_t slash = host.find('/');
  const std::size_t colon = host.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    port_text = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  std::uint16_t port = transport == Transport::kTls ? kDefaultTlsPort : options.dns_port;
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    Token port_token = key;
    port_token.text = port_text;
    absl::StatusOr<std::uint32_t> p = ParseUint(port_token, "port", 1, 65535);
    if (!p.ok()) {
      return ErrorAt(
          key, absl::StrCat("invalid port in '", key.text, "', expected a number from 1 to 65535"));
    }
    port = static_cast<std::uint16_t>(*p);
  }
  std::vector<std::string> zones;
  if (slash != std::string::npos) {
    const std::optional<Prefix> prefix = ParsePrefix(host);
    if (!prefix) {
      return ErrorAt(
          key, absl::StrCat("invalid network '", host, "', expected a CIDR such as 10.0.0.0/8"));
    }
    zones = ReverseZones(*prefix);
  } else {
    if (host.find(':') != std::string::npos) {
      return ErrorAt(key, absl::StrCat("invalid server block key '", key.text,
                                       "', expected [dns://|tls://]ZONE[:PORT]"));
    }
    Token zone_token = key;
    zone_token.text = host.empty() ? "." : host;
    absl::StatusOr<std::string> zone = ParseZone(zone_token);
    if (!zone.ok()) return zone.status();
    zones.push_back(*zone);
  }
  for (std::string& zone : zones) {
    out.push_back(ServerKey{transport, std::move(zone), port, key.where});
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status Once(const Directive& d, std::optional<T>& slot) {
  if (slot.has_value()) {
    return ErrorAt(d.name, absl::StrCat(d.name.text,
                                        " is given twice in this server block, "
                                        "expected at most one"));
  }
  slot.emplace();
  return absl::OkStatus();
}

absl::Status ApplyDirective(const Directive& d, const LoadOptions& options, ServerBlock& block) {
  const std::string& name = d.name.text;
  auto no_args = [&]() -> absl::Status {
    if (absl::Status s = ExpectArgs(d, 0, 0, name); !s.ok()) return s;
    return ExpectNoBlock(d);
  };
  if (name == "forward") return ParseForward(d, options.read_files, block.forwards.emplace_back());
  if (name == "cache") {
    if (absl::Status s = Once(d, block.cache); !s.ok()) return s;
    return ParseCache(d, *block.cache);
  }
  if (name == "bind") return ParseBind(d, block);
  if (name == "acl") return ParseAcl(d, block.acls.emplace_back());
  if (name == "log") return ParseLog(d, block.logs.emplace_back());
  if (name == "dnstap") return ParseDnstap(d, block.dnstaps.emplace_back());
  if (name == "errors") {
    if (absl::Status s = Once(d, block.errors); !s.ok()) return s;
    return ParseErrors(d, *block.errors);
  }
  if (name == "health") {
    if (absl::Status s = Once(d, block.health); !s.ok()) return s;
    return ParseHealth(d, *block.health);
  }
  if (name == "ready") {
    if (absl::Status s = Once(d, block.ready); !s.ok()) return s;
    block.ready = Endpoint{"", 8181};
    return ParseEndpoint(d, *block.ready);
  }
  if (name == "prometheus") {
    if (absl::Status s = Once(d, block.prometheus); !s.ok()) return s;
    block.prometheus = Endpoint{"localhost", 9153};
    return ParseEndpoint(d, *block.prometheus);
  }
  if (name == "reload") {
    if (absl::Status s = Once(d, block.reload); !s.ok()) return s;
    return ParseReload(d, *block.reload);
  }
  if (name == "tls") {
    if (absl::Status s = Once(d, block.tls); !s.ok()) return s;
    return ParseServerTls(d, *block.tls);
  }
  if (name == "loop") {
    block.loop = true;
    return no_args();
  }
  if (name == "any") {
    block.any = true;
    return no_args();
  }
  if (name == "loadbalance") return ParseLoadbalance(d, block);
  if (name == "chaos") return ParseChaos(d, block);
  if (name == "nsid") return ParseNsid(d, block);
  if (name == "template") return ParseTemplate(d, block.templates.emplace_back());
  if (name == "rewrite") return ParseRewrite(d, block.rewrites);
  if (name == "bufsize") return ParseBufsize(d, block);
  if (name == "view") return ParseView(d, block);
  if (name == "hosts") return ParseHosts(d, block);
  if (name == "minimal") {
    if (block.minimal)
      return ErrorAt(d.name, "minimal is given twice in this server block, expected at most one");
    block.minimal = true;
    return no_args();
  }
  if (name == "whoami") {
    if (block.whoami)
      return ErrorAt(d.name, "whoami is given twice in this server block, expected at most one");
    block.whoami = true;
    return no_args();
  }
  if (name == "debug") {
    block.debug = true;
    return no_args();
  }
  if (name == "root") {
    if (absl::Status s = ExpectArgs(d, 1, 1, "root PATH"); !s.ok()) return s;
    block.root = d.args[0].text;
    return ExpectNoBlock(d);
  }
  return ErrorAt(d.name, UnknownDirectiveMessage(name, kSupported));
}

absl::StatusOr<ServerBlock> BuildBlock(const ServerBlockSyntax& syntax,
                                       const LoadOptions& options) {
  ServerBlock block;
  block.where = syntax.keys.front().where;
  for (const Token& key : syntax.keys) {
    if (absl::Status s = ParseKey(key, options, block.keys); !s.ok()) return s;
  }
  for (const Directive& d : syntax.directives) {
    if (absl::Status s = ApplyDirective(d, options, block); !s.ok()) return s;
  }
  const bool tls_block = block.keys.front().transport == Transport::kTls;
  for (const ServerKey& key : block.keys) {
    if ((key.transport == Transport::kTls) != tls_block) {
      return absl::InvalidArgumentError(
          absl::StrCat(key.where.ToString(),
                       ": a server block mixes dns:// and tls:// keys; "
                       "expected one transport per block"));
    }
  }
  if (tls_block && !block.tls) {
    return ErrorAt(syntax.keys.front(),
                   "a tls:// server block needs a 'tls CERT KEY [CA]' "
                   "directive");
  }
  return block;
}

}  // namespace

absl::string_view SupportedDirectives() { return kSupported; }

const char* TransportScheme(Transport transport) {
  return transport == Transport::kTls ? "tls" : "dns";
}

absl::StatusOr<Config> ParseCorefile(absl::string_view text, const std::string& file,
                                     const LoadOptions& options) {
  absl::StatusOr<CorefileSyntax> syntax = ParseSyntax(text, file, options.read_files);
  if (!syntax.ok()) return syntax.status();
  Config config;
  config.file = file;
  // The same transport, zone and port twice is ambiguous where the blocks share an
  // address: as in CoreDNS, a listener is a zone, a bind address and a port, so blocks
  // that bind different addresses may serve the same zone (a block without `bind`
  // listens on every address, so it shares one with any other).
  // Blocks with a `view` may share a zone and port with each other and with one block
  // without a view, which must come after them (CoreDNS tries them in written order and
  // refuses a view after the default, validateZonesAndListeningAddresses).
  struct Served {
    std::vector<IpAddress> bind;
    Location where;
    bool view = false;
  };
  std::map<std::tuple<Transport, std::string, std::uint16_t>, std::vector<Served>> seen;
  auto every_address = [](const std::vector<IpAddress>& bind) {
    return bind.empty() || std::any_of(bind.begin(), bind.end(), [](const IpAddress& ip) {
             return ip.bytes == IpAddress{}.bytes;  // 0.0.0.0 or ::
           });
  };
  auto share_an_address = [&](const std::vector<IpAddress>& a, const std::vector<IpAddress>& b) {
    if (every_address(a) || every_address(b)) return true;
    for (const IpAddress& x : a) {
      if (std::find(b.begin(), b.end(), x) != b.end()) return true;
    }
    return false;
  };
  for (const ServerBlockSyntax& block_syntax : syntax->blocks) {
    absl::StatusOr<ServerBlock> block = BuildBlock(block_syntax, options);
    if (!block.ok()) return block.status();
    for (const ServerKey& key : block->keys) {
      std::vector<Served>& same = seen[std::make_tuple(key.transport, key.zone, key.port)];
      for (const Served& other : same) {
        if (other.view || !share_an_address(other.bind, block->bind)) continue;
        if (block->view) {
          return absl::InvalidArgumentError(absl::StrCat(
              key.where.ToString(), ": zone ", key.zone, " on ", TransportScheme(key.transport),
              " port ", key.port, " is already served by the block without a view at ",
              other.where.ToString(), "; expected the blocks with a view before the one without"));
        }
        return absl::InvalidArgumentError(absl::StrCat(
            key.where.ToString(), ": zone ", key.zone, " on ", TransportScheme(key.transport),
            " port ", key.port, " is already served by the block at ", other.where.ToString(),
            "; expected each zone and port once per address (blocks with different bind addresses, "
            "or "
            "with a view, may share them)"));
      }
      same.push_back({block->bind, key.where, block->view.has_value()});
    }
    config.blocks.push_back(std::move(*block));
  }
  if (config.blocks.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ":1:1: no server block (only snippets?), expected at least one such as .:53 { }"));
  }
  return config;
}

absl::StatusOr<Config> LoadCorefile(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path,
                                            ":0:0: cannot read the Corefile, expected a "
                                            "readable file"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseCorefile(text.str(), path, options);
}

}  // namespace ringdns::core::config
