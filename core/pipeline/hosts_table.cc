#include "core/pipeline/hosts_table.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <optional>

#include "core/config/lexer.h"

namespace ringdns::core {
namespace {

struct Address {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;
};

// Go's net.ParseIP, as CoreDNS's parseIP calls it: a zone after '%' dropped; an
// IPv4-mapped IPv6 address is an IPv4 one. inet_pton refuses leading zeros in IPv4, as Go does.
std::optional<Address> ParseAddress(std::string_view text) {
  text = text.substr(0, text.find('%'));
  if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Address out;
  if (::inet_pton(AF_INET, buf, out.bytes.data()) == 1) {
    out.v4 = true;
    return out;
  }
  if (::inet_pton(AF_INET6, buf, out.bytes.data()) != 1) return std::nullopt;
  constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out.bytes.data(), kMapped, 12) == 0) {
    std::memmove(out.bytes.data(), out.bytes.data() + 12, 4);
    out.v4 = true;
  }
  return out;
}

void AppendLabel(std::string& name, std::string_view label) {
  name.push_back(static_cast<char>(label.size()));
  name.append(label);
}

// 4.3.2.1.in-addr.arpa for 1.2.3.4.
std::string ReverseV4(const std::uint8_t* a) {
  std::string name;
  for (int i = 3; i >= 0; --i) AppendLabel(name, std::to_string(a[i]));
  AppendLabel(name, "in-addr");
  AppendLabel(name, "arpa");
  return name.append(1, '\0');
}

// The 32 nibbles, lowest first, then ip6.arpa (RFC 3596 section 2.5).
std::string ReverseV6(const std::uint8_t* a) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string name;
  for (int i = 15; i >= 0; --i) {
    AppendLabel(name, std::string_view(&kHex[a[i] & 0xf], 1));
    AppendLabel(name, std::string_view(&kHex[a[i] >> 4], 1));
  }
  AppendLabel(name, "ip6");
  AppendLabel(name, "arpa");
  return name.append(1, '\0');
}

// What the text lists, before it is laid out as records.
struct Collected {
  struct Name {
    std::vector<std::array<std::uint8_t, 4>> a;
    std::vector<std::array<std::uint8_t, 16>> aaaa;
  };
  absl::flat_hash_map<std::string, Name> names;
  absl::flat_hash_map<std::string, std::vector<std::string>> reverse;  // reverse name -> names
  std::size_t records = 0;
  std::size_t rdata = 0;
};

void CollectLine(std::string_view line, const HostsTableOptions& options, Collected& out) {
  line = line.substr(0, line.find('#'));
  // Fields apart by white space as Go's bytes.Fields sees it (unicode.IsSpace: a
  // non-breaking space too), the Corefile lexer's rule.
  const absl::string_view text(line.data(), line.size());
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < line.size()) {
    if (const std::size_t space = config::SpaceAt(text, pos); space > 0) {
      pos += space;
      continue;
    }
    std::size_t end = pos;
    while (end < line.size() && config::SpaceAt(text, end) == 0) ++end;
    fields.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  if (fields.size() < 2) return;
  const std::optional<Address> address = ParseAddress(fields[0]);
  if (!address) return;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    wire::NameStorage text_name;
    const wire::Result<std::size_t> len = wire::NameFromText(fields[i], text_name);
    if (!len) continue;
    wire::NameStorage lower;
    const std::size_t lower_len = wire::WriteLookupKey({text_name.data(), *len}, lower);
    const std::span<const std::uint8_t> name(lower.data(), lower_len);
    bool in_zone = false;
    for (const WireZone& zone : options.zones) in_zone = in_zone || InZone(name, zone.view());
    if (!in_zone) continue;
    std::string key(reinterpret_cast<const char*>(name.data()), name.size());
    Collected::Name& entry = out.names[key];
    if (address->v4) {
      std::memcpy(entry.a.emplace_back().data(), address->bytes.data(), 4);
    } else {
      entry.aaaa.emplace_back(address->bytes);
    }
    out.records += 1;
    out.rdata += address->v4 ? 4u : 16u;
    if (!options.reverse) continue;
    // An IPv4 address is also found under ip6.arpa as ::ffff:a.b.c.d: CoreDNS looks
    // reverse names up by the address's text, which is the same for both.
    std::vector<std::string> reverse_names;
    if (address->v4) {
      std::array<std::uint8_t, 16> mapped{};
      mapped[10] = mapped[11] = 0xff;
      std::memcpy(mapped.data() + 12, address->bytes.data(), 4);
      reverse_names = {ReverseV4(address->bytes.data()), ReverseV6(mapped.data())};
    } else {
      reverse_names = {ReverseV6(address->bytes.data())};
    }
    for (const std::string& reverse : reverse_names) {
      out.reverse[reverse].push_back(key);
      out.records += 1;
      out.rdata += key.size();
    }
  }
}

void CollectText(std::string_view text, const HostsTableOptions& options, Collected& out) {
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    CollectLine(text.substr(0, end), options, out);
    text.remove_prefix(std::min(end + 1, text.size()));
  }
}

}  // namespace

std::shared_ptr<const HostsTable> HostsTable::Build(std::string_view file,
                                                    std::span<const std::string> inline_lines,
                                                    const HostsTableOptions& options) {
  Collected collected;
  CollectText(file, options, collected);
  for (const std::string& line : inline_lines) CollectLine(line, options, collected);

  std::shared_ptr<HostsTable> table(new HostsTable());
  // Sized once, so the spans taken below stay valid.
  table->rdata_.reserve(collected.rdata);
  table->records_.reserve(collected.records);
  const auto add = [&](std::uint16_t type, const std::uint8_t* rdata, std::size_t len) {
    const std::size_t at = table->rdata_.size();
    table->rdata_.insert(table->rdata_.end(), rdata, rdata + len);
    table->records_.push_back(
        {.type = type, .ttl = options.ttl, .rdata = {table->rdata_.data() + at, len}});
  };
  const auto span_since = [&](std::size_t first) {
    return std::span<const wire::LocalRecord>(table->records_.data() + first,
                                              table->records_.size() - first);
  };
  table->names_.reserve(collected.names.size());
  for (const auto& [name, entry] : collected.names) {
    Addresses addresses;
    std::size_t first = table->records_.size();
    for (const auto& a : entry.a) add(wire::rrtype::kA, a.data(), a.size());
    addresses.a = span_since(first);
    first = table->records_.size();
    for (const auto& aaaa : entry.aaaa) add(wire::rrtype::kAaaa, aaaa.data(), aaaa.size());
    addresses.aaaa = span_since(first);
    table->names_.emplace(name, addresses);
  }
  table->reverse_.reserve(collected.reverse.size());
  for (const auto& [reverse, names] : collected.reverse) {
    const std::size_t first = table->records_.size();
    for (const std::string& name : names) {
      add(wire::rrtype::kPtr, reinterpret_cast<const std::uint8_t*>(name.data()), name.size());
    }
    table->reverse_.emplace(reverse, span_since(first));
  }
  return table;
}

const HostsTable::Addresses* HostsTable::Find(std::span<const std::uint8_t> name) const noexcept {
  const auto it = names_.find(Key(name));
  return it == names_.end() ? nullptr : &it->second;
}

std::span<const wire::LocalRecord> HostsTable::FindPtr(
    std::span<const std::uint8_t> reverse_name) const noexcept {
  const auto it = reverse_.find(Key(reverse_name));
  return it == reverse_.end() ? std::span<const wire::LocalRecord>() : it->second;
}

}  // namespace ringdns::core
