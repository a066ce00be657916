// Evaluating a compiled view expression: a walk over the node array with every string
// a function returns written into a stack buffer of its own. Never allocates.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

#include "core/view/expr.h"
#include "re2/re2.h"
#include "wire/name.h"
#include "wire/rr_names.h"

namespace ringdns::core::view {

namespace {

struct Value {
  std::int64_t number = 0;  // int, or bool as 0/1
  std::string_view text;
};

// An address as client_ip() spells it: IPv6 in brackets, as CoreDNS does.
std::string_view AddressText(const sockaddr* sa, std::array<char, 64>& out) noexcept {
  if (sa == nullptr) return {};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    if (inet_ntop(AF_INET, &in->sin_addr, out.data(), static_cast<socklen_t>(out.size())) ==
        nullptr)
      return {};
    return std::string_view(out.data());
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    out[0] = '[';
    if (inet_ntop(AF_INET6, &in6->sin6_addr, out.data() + 1,
                  static_cast<socklen_t>(out.size() - 2)) == nullptr)
      return {};
    const std::size_t n = std::strlen(out.data());
    out[n] = ']';
    return std::string_view(out.data(), n + 1);
  }
  return {};
}

std::uint16_t PortOf(const sockaddr* sa) noexcept {
  if (sa == nullptr) return 0;
  if (sa->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
  if (sa->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  return 0;
}

std::string_view PortText(std::uint16_t port, std::array<char, 8>& out) noexcept {
  char digits[8];
  std::size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + port % 10);
    port = static_cast<std::uint16_t>(port / 10);
  } while (port != 0);
  for (std::size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  return std::string_view(out.data(), n);
}

// The address in `text` (IPv6 possibly in brackets) as family and bytes.
bool ParseAddress(std::string_view text, int& family, std::uint8_t (&bytes)[16]) noexcept {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  char z[64];
  if (text.empty() || text.size() >= sizeof(z)) return false;
  std::memcpy(z, text.data(), text.size());
  z[text.size()] = '\0';
  if (inet_pton(AF_INET, z, bytes) == 1) {
    family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, z, bytes) == 1) {
    family = AF_INET6;
    return true;
  }
  return false;
}

bool PrefixContains(int family, const std::uint8_t* prefix, int length, int addr_family,
                    const std::uint8_t* addr) noexcept {
  if (family != addr_family) return false;
  const int whole = length / 8;
  if (std::memcmp(prefix, addr, static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = length % 8;
  if (rest == 0) return true;
  const std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (prefix[whole] & mask) == (addr[whole] & mask);
}

}  // namespace

class Evaluator {
 public:
  Evaluator(const Program& p, const Request& r) noexcept : p_(p), r_(r) {}

  Value Eval(std::uint32_t index) noexcept {
    const Node& n = p_.nodes_[index];
    switch (n.op) {
      case Op::kBool:
      case Op::kInt: return {n.number, {}};
      case Op::kString: return {0, std::string_view(p_.text_).substr(n.first, n.count)};
      case Op::kCall: return Call(n);
      case Op::kNot: return Bool(Eval(n.a).number == 0);
      case Op::kAnd: return Bool(Eval(n.a).number != 0 && Eval(n.b).number != 0);
      case Op::kOr: return Bool(Eval(n.a).number != 0 || Eval(n.b).number != 0);
      case Op::kEq:
      case Op::kNe: {
        const bool eq = Equal(p_.nodes_[n.a].type, Eval(n.a), Eval(n.b));
        return Bool(n.op == Op::kEq ? eq : !eq);
      }
      case Op::kLt: return Bool(Eval(n.a).number < Eval(n.b).number);
      case Op::kLe: return Bool(Eval(n.a).number <= Eval(n.b).number);
      case Op::kGt: return Bool(Eval(n.a).number > Eval(n.b).number);
      case Op::kGe: return Bool(Eval(n.a).number >= Eval(n.b).number);
      case Op::kIn: {
        const Type t = p_.nodes_[n.a].type;
        const Value v = Eval(n.a);
        bool found = false;
        for (std::uint32_t i = 0; i < n.count && !found; ++i)
          found = Equal(t, v, Eval(n.first + i));
        return Bool(found != n.negate);
      }
      case Op::kContains:
        return Bool(Eval(n.a).text.find(Eval(n.b).text) != std::string_view::npos);
      case Op::kStartsWith: return Bool(Eval(n.a).text.starts_with(Eval(n.b).text));
      case Op::kEndsWith: return Bool(Eval(n.a).text.ends_with(Eval(n.b).text));
      case Op::kMatches: {
        const Value v = Eval(n.a);
        const bool m = re2::RE2::PartialMatch(re2::StringPiece(v.text.data(), v.text.size()),
                                              *p_.regexes_[n.first]);
        return Bool(m != n.negate);
      }
    }
    return {};
  }

 private:
  static Value Bool(bool b) noexcept { return {b ? 1 : 0, {}}; }
  static bool Equal(Type t, const Value& a, const Value& b) noexcept {
    return t == Type::kString ? a.text == b.text : a.number == b.number;
  }

  Value Call(const Node& n) noexcept {
    switch (n.fn) {
      case Fn::kName: {
        const wire::Result<std::size_t> len = wire::NameToText(r_.qname, name_);
        if (!len) return {};
        // CoreDNS's name() is lower case.
        for (std::size_t i = 0; i < *len; ++i)
          name_[i] = static_cast<char>(wire::ToLowerAscii(static_cast<std::uint8_t>(name_[i])));
        return {0, std::string_view(name_.data(), *len)};
      }
      case Fn::kType: return {0, wire::TypeName(r_.qtype, type_)};
      case Fn::kClass: return {0, wire::ClassName(r_.qclass, class_)};
      case Fn::kClientIp: return {0, AddressText(r_.client, client_ip_)};
      case Fn::kServerIp: return {0, AddressText(r_.server, server_ip_)};
      case Fn::kPort: return {0, PortText(PortOf(r_.client), port_)};
      case Fn::kServerPort: return {0, PortText(PortOf(r_.server), server_port_)};
      case Fn::kProto: return {0, r_.tcp ? std::string_view("tcp") : std::string_view("udp")};
      case Fn::kBufsize: {
        // CoreDNS's request.Size(): 65535 over TCP, else the OPT's size but at least 512.
        if (r_.tcp) return {65535, {}};
        return {r_.has_opt && r_.opt_udp_size > 512 ? r_.opt_udp_size : 512, {}};
      }
      case Fn::kDo: return Bool(r_.do_bit);
      case Fn::kSize: return {r_.size, {}};
      case Fn::kOpcode: return {r_.opcode, {}};
      case Fn::kId: return {r_.id, {}};
      case Fn::kInCidr: return Bool(InCidr(n));
    }
    return {};
  }

  bool InCidr(const Node& n) noexcept {
    int family = 0;
    std::uint8_t bytes[16] = {};
    const Node& ip = p_.nodes_[n.a];
    if (ip.op == Op::kCall && (ip.fn == Fn::kClientIp || ip.fn == Fn::kServerIp)) {
      // The address as received, not printed and parsed again.
      const sockaddr* sa = ip.fn == Fn::kClientIp ? r_.client : r_.server;
      if (sa == nullptr) return false;
      family = sa->sa_family;
      if (family == AF_INET) {
        std::memcpy(bytes, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
      } else if (family == AF_INET6) {
        std::memcpy(bytes, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
      } else {
        return false;
      }
    } else if (!ParseAddress(Eval(n.a).text, family, bytes)) {
      return false;
    }
    if (n.cidr_literal)
      return PrefixContains(n.cidr_family, n.cidr_bytes, n.cidr_length, family, bytes);
    // A CIDR computed at run time (rare): parsed here, and false when it is not one.
    const std::string_view cidr = Eval(n.b).text;
    const std::size_t slash = cidr.find('/');
    if (slash == std::string_view::npos) return false;
    int cidr_family = 0;
    std::uint8_t prefix[16] = {};
    if (!ParseAddress(cidr.substr(0, slash), cidr_family, prefix)) return false;
    int length = 0;
    const std::string_view len_text = cidr.substr(slash + 1);
    if (len_text.empty() || len_text.size() > 3) return false;
    for (char c : len_text) {
      if (c < '0' || c > '9') return false;
      length = length * 10 + (c - '0');
    }
    if (length > (cidr_family == AF_INET ? 32 : 128)) return false;
    return PrefixContains(cidr_family, prefix, length, family, bytes);
  }

  const Program& p_;
  const Request& r_;
  std::array<char, wire::kMaxNameTextLen> name_;
  wire::MnemonicBuffer type_;
  wire::MnemonicBuffer class_;
  std::array<char, 64> client_ip_;
  std::array<char, 64> server_ip_;
  std::array<char, 8> port_;
  std::array<char, 8> server_port_;
};

bool Program::Evaluate(const Request& request) const noexcept {
  if (nodes_.empty()) return false;
  Evaluator e(*this, request);
  return e.Eval(root_).number != 0;
}

}  // namespace ringdns::core::view
