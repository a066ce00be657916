#include "core/pipeline/rewrite_edns0.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "wire/bytes.h"
#include "wire/edns.h"
#include "wire/message.h"

namespace ringdns::core {
namespace {

using config::EdnsOptionKind;
using config::EdnsVariable;

wire::OptionEdit EditOf(config::EdnsAction a) {
  switch (a) {
    case config::EdnsAction::kSet: return wire::OptionEdit::kSet;
    case config::EdnsAction::kReplace: return wire::OptionEdit::kReplace;
    case config::EdnsAction::kAppend: return wire::OptionEdit::kAppend;
    case config::EdnsAction::kUnset: break;
  }
  return wire::OptionEdit::kUnset;
}

// The client's address as 4 or 16 octets (an IPv4-mapped IPv6 address as IPv4, as Go's
// To4 reads it) and its port; 0 octets when there is none.
std::size_t ClientAddress(const sockaddr* client, std::uint8_t (&out)[16],
                          std::uint16_t& port) noexcept {
  if (client == nullptr) return 0;
  if (client->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(client);
    std::memcpy(out, &v4->sin_addr, 4);
    port = ntohs(v4->sin_port);
    return 4;
  }
  if (client->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(client);
    port = ntohs(v6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      std::memcpy(out, v6->sin6_addr.s6_addr + 12, 4);
      return 4;
    }
    std::memcpy(out, v6->sin6_addr.s6_addr, 16);
    return 16;
  }
  return 0;
}

}  // namespace

Edns0Rule::Edns0Rule(const config::Rewrite& c)
    : option_(c.edns_option),
      edit_(EditOf(c.edns_action)),
      code_(c.edns_option == EdnsOptionKind::kLocal  ? c.from_code
            : c.edns_option == EdnsOptionKind::kNsid ? wire::edns::kOptionNsid
                                                     : wire::edns::kOptionClientSubnet),
      data_(c.edns_data),
      variable_(c.edns_variable),
      v4_(c.subnet_v4),
      v6_(c.subnet_v6) {}

bool Edns0Rule::per_client() const noexcept {
  if (edit_ == wire::OptionEdit::kUnset) return false;
  return option_ == EdnsOptionKind::kSubnet || variable_ == EdnsVariable::kClientIp ||
         variable_ == EdnsVariable::kClientPort || variable_ == EdnsVariable::kProtocol;
}

bool Edns0Rule::Available(const QueryOrigin& origin) const noexcept {
  if (!per_client()) return true;
  std::uint8_t address[16];
  std::uint16_t port = 0;
  return ClientAddress(origin.client, address, port) > 0;
}

std::size_t Edns0Rule::Data(std::string_view qname, std::uint16_t qtype, const QueryOrigin& origin,
                            std::span<const std::uint8_t> existing,
                            std::span<std::uint8_t> out) const noexcept {
  std::uint8_t address[16];
  std::uint16_t port = 0;
  const std::size_t address_len = ClientAddress(origin.client, address, port);
  if (option_ == EdnsOptionKind::kNsid || edit_ == wire::OptionEdit::kUnset) return 0;
  if (option_ == EdnsOptionKind::kSubnet) {
    // RFC 7871 section 6: FAMILY, SOURCE PREFIX-LENGTH, SCOPE 0, the address cut to the
    // prefix. A subnet already there keeps the shorter prefix (CoreDNS's fillEcsData).
    std::uint8_t source = address_len == 4 ? v4_ : v6_;
    if (existing.size() >= 3) source = std::min(source, existing[2]);
    const std::size_t octets = (std::size_t{source} + 7) / 8;
    wire::StoreU16(out.data(), address_len == 4 ? 1 : 2);
    out[2] = source;
    out[3] = 0;
    std::memcpy(out.data() + 4, address, octets);
    if (source % 8 != 0) out[4 + octets - 1] &= static_cast<std::uint8_t>(0xff << (8 - source % 8));
    return 4 + octets;
  }
  switch (variable_) {
    case EdnsVariable::kNone:
      std::memcpy(out.data(), data_.data(), data_.size());
      return data_.size();
    case EdnsVariable::kQname: {
      const std::size_t n = std::min(qname.size(), out.size());
      std::memcpy(out.data(), qname.data(), n);
      return n;
    }
    case EdnsVariable::kQtype: wire::StoreU16(out.data(), qtype); return 2;
    case EdnsVariable::kClientIp: std::memcpy(out.data(), address, address_len); return address_len;
    case EdnsVariable::kClientPort: wire::StoreU16(out.data(), port); return 2;
    case EdnsVariable::kProtocol: std::memcpy(out.data(), origin.tcp ? "tcp" : "udp", 3); return 3;
  }
  return 0;
}

OptionsPresent::OptionsPresent(std::span<const std::uint8_t> query) noexcept : query_(query) {
  const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
  if (!q) return;
  opt_ = q->opt;
  usable_ = opt_.present() ? opt_.end() == query.size()
                           : wire::LoadU16(query.data() + wire::header::kArCount) == 0 &&
                                 q->size == query.size();
}

bool OptionsPresent::Has(std::uint16_t code) const noexcept {
  for (std::size_t i = noted_; i-- > 0;) {
    if (codes_[i] == code) return present_[i];
  }
  return opt_.present() && wire::HasOption(query_, opt_, code);
}

void OptionsPresent::Note(std::uint16_t code, bool present) noexcept {
  if (noted_ == codes_.size()) return;  // one note per rule: never reached
  codes_[noted_] = code;
  present_[noted_++] = present;
}

std::span<const std::uint8_t> OptionsPresent::Find(std::span<const std::uint8_t> query,
                                                   std::uint16_t code) noexcept {
  const wire::Result<wire::QueryView> q = wire::ParseQuery(query);
  std::span<const std::uint8_t> found;
  bool seen = false;
  if (q && q->opt.present()) {
    wire::ForEachOption(query, q->opt, [&](std::uint16_t c, std::span<const std::uint8_t> data) {
      if (c == code && !seen) {
        found = data;
        seen = true;
      }
    });
  }
  return found;
}

}  // namespace ringdns::core
