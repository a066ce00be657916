// core/pipeline/rewrite_edns0.h: rewrite's `edns0` rules (CoreDNS's edns0.go): an EDNS
// option of the query set, replaced, appended or removed before it goes on.
//
// RewriteStage runs them in its rule list. Whether a rule "did its rewrite" (which is
// when its `stop` ends the list) is decided first, from which options the query has;
// the edits are made after the question's, in written order (wire/edns_edit.h).
//
// Differences from CoreDNS (README row): an OPT ringdns adds says UDP size 1232 (CoreDNS:
// 4096) and is taken out of the answer again, as RFC 6891 section 7 asks; {qname} is
// the name in lower case as all the rules leave it; {server_ip}, {server_port} and
// metadata labels are refused at load; an option that finds no room in the query is left
// out, its rule still counting as done; `replace` and `unset` on a query without EDNS add
// no OPT.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/config/config.h"
#include "wire/edns.h"
#include "wire/edns_edit.h"

namespace ringdns::core {

// Who asked: a refresh of a cached answer has no client, and rules that need one do nothing.
struct QueryOrigin {
  const sockaddr* client = nullptr;
  bool tcp = false;
};

// The longest option data a rule makes (local's is bounded at load).
inline constexpr std::size_t kMaxEdns0Data = 512;

class Edns0Rule {
 public:
  explicit Edns0Rule(const config::Rewrite& c);

  std::uint16_t code() const noexcept { return code_; }
  wire::OptionEdit edit() const noexcept { return edit_; }
  // Its data differs from client to client (a subnet, the client's address, port or
  // protocol): an answer to the query is the client's alone, neither cached nor shared.
  bool per_client() const noexcept;
  // Whether the rule can make its data for this query (false: it is ignored).
  bool Available(const QueryOrigin& origin) const noexcept;
  // The option's data into `out` (kMaxEdns0Data octets): `qname` as text, the query's
  // type, and `existing`, the data of the option the query has (for subnet's prefix).
  std::size_t Data(std::string_view qname, std::uint16_t qtype, const QueryOrigin& origin,
                   std::span<const std::uint8_t> existing,
                   std::span<std::uint8_t> out) const noexcept;

 private:
  config::EdnsOptionKind option_;
  wire::OptionEdit edit_;
  std::uint16_t code_;
  std::string data_;
  config::EdnsVariable variable_;
  std::uint8_t v4_, v6_;
};

// Which options a query has as its edns0 rules go: its OPT read once, then what each
// rule that applies leaves.
class OptionsPresent {
 public:
  explicit OptionsPresent(std::span<const std::uint8_t> query) noexcept;
  // Whether the query's options can be edited at all (wire::EditOption's conditions).
  bool usable() const noexcept { return usable_; }
  bool Has(std::uint16_t code) const noexcept;
  void Note(std::uint16_t code, bool present) noexcept;
  // The data of the query's first option `code`; empty when it has none.
  static std::span<const std::uint8_t> Find(std::span<const std::uint8_t> query,
                                            std::uint16_t code) noexcept;

 private:
  std::span<const std::uint8_t> query_;
  wire::OptView opt_{};
  bool usable_ = false;
  std::array<std::uint16_t, config::kMaxRewriteRules> codes_{};  // noted by rules, latest last
  std::array<bool, config::kMaxRewriteRules> present_{};
  std::size_t noted_ = 0;
};

}  // namespace ringdns::core
