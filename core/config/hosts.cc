// `hosts [FILE [ZONES...]] { ... }`, read as CoreDNS's plugin/hosts/setup.go reads it.
// The file itself is read when the pipeline is built (core/pipeline/hosts_stage.cc), so
// -validate reads no hosts file and a reload re-reads it.
#include <algorithm>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"

namespace ringdns::core::config {
namespace {

// A zone argument as CoreDNS normalises it: a name, or a CIDR that becomes its reverse zones.
absl::Status AddZones(const Token& token, std::vector<std::string>& out) {
  std::vector<std::string> zones;
  if (absl::StrContains(token.text, "/")) {
    const std::optional<Prefix> prefix = ParsePrefix(token.text);
    if (!prefix)
      return ErrorAt(token, absl::StrCat("invalid network '", token.text,
                                         "', expected a CIDR such as 10.0.0.0/8"));
    zones = ReverseZones(*prefix);
  } else {
    absl::StatusOr<std::string> zone = ParseZone(token);
    if (!zone.ok()) return zone.status();
    zones.push_back(*std::move(zone));
  }
  for (std::string& zone : zones) {
    if (std::find(out.begin(), out.end(), zone) == out.end()) out.push_back(std::move(zone));
  }
  return absl::OkStatus();
}

absl::Status ParseHostsLine(const Directive& line, Hosts& hosts) {
  const std::string& key = line.name.text;
  if (line.has_block) return ErrorAt(line.name, absl::StrCat("hosts: '", key, "' takes no block"));
  if (key == "fallthrough") {
    std::vector<std::string>& zones = hosts.fallthrough.emplace();
    for (const Token& arg : line.args) {
      if (absl::Status s = AddZones(arg, zones); !s.ok()) return s;
    }
    if (zones.empty()) zones.push_back(".");
    return absl::OkStatus();
  }
  if (key == "no_reverse") {
    hosts.no_reverse = true;
    return absl::OkStatus();
  }
  if (key == "ttl") {
    if (line.args.empty()) return ErrorAt(line.name, "ttl needs a time in second");
    // Go's strconv.Atoi, as CoreDNS reads it: a sign, then digits.
    std::string_view digits = line.args[0].text;
    const bool negative = !digits.empty() && digits.front() == '-';
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+'))
      digits.remove_prefix(1);
    if (digits.empty() || digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return ErrorAt(line.args[0],
                     absl::StrCat("ttl needs a number of second, got '", line.args[0].text, "'"));
    }
    const std::uint64_t ttl = std::stoull(std::string(digits));
    if (negative || ttl == 0 || ttl > 65535) {
      return ErrorAt(line.args[0], "ttl provided is invalid, expected 1 to 65535 seconds");
    }
    hosts.ttl = static_cast<std::uint32_t>(ttl);
    return absl::OkStatus();
  }
  if (key == "reload") {
    if (line.args.size() != 1)
      return ErrorAt(line.name, "reload needs a duration (zero seconds to disable)");
    if (absl::StartsWith(line.args[0].text, "-")) {
      return ErrorAt(line.args[0], absl::StrCat("invalid negative duration for reload '",
                                                line.args[0].text, "'"));
    }
    absl::StatusOr<absl::Duration> d = ParseDuration(line.args[0], "reload");
    if (!d.ok()) return d.status();
    hosts.reload = *d;
    return absl::OkStatus();
  }
  // CoreDNS takes any other line as an inline entry until a fallthrough was given.
  if (hosts.fallthrough) return ErrorAt(line.name, absl::StrCat("unknown property '", key, "'"));
  HostsLine& entry = hosts.inline_entries.emplace_back();
  entry.where = line.name.where;
  entry.fields.push_back(key);
  for (const Token& arg : line.args) entry.fields.push_back(arg.text);
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseHosts(const Directive& d, ServerBlock& block) {
  if (block.hosts)
    return ErrorAt(d.name, "hosts is given twice in this server block, expected at most one");
  Hosts& hosts = block.hosts.emplace();
  hosts.where = d.name.where;
  if (!d.args.empty()) hosts.path = d.args[0].text;
  for (std::size_t i = 1; i < d.args.size(); ++i) {
    if (absl::Status s = AddZones(d.args[i], hosts.zones); !s.ok()) return s;
  }
  if (hosts.zones.empty()) {
    for (const ServerKey& key : block.keys) {
      if (std::find(hosts.zones.begin(), hosts.zones.end(), key.zone) == hosts.zones.end()) {
        hosts.zones.push_back(key.zone);
      }
    }
  }
  for (const Directive& line : d.block) {
    if (absl::Status s = ParseHostsLine(line, hosts); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string HostsFilePath(const ServerBlock& block) {
  if (!block.hosts) return "";
  const std::string& path = block.hosts->path;
  if (block.root.empty() || absl::StartsWith(path, "/")) return path;
  return absl::StrCat(block.root, absl::EndsWith(block.root, "/") ? "" : "/", path);
}

}  // namespace ringdns::core::config
