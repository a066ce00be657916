// core/config/directives.h: one parser per directive, each filling its part of a
// ServerBlock from a Directive line. Internal to core/config.
#pragma once

#include "absl/status/status.h"
#include "core/config/config.h"
#include "core/config/syntax.h"

namespace ringdns::core::config {

// With `read_files` false, a TO that is not an address is an error.
absl::Status ParseForward(const Directive& d, bool read_files, Forward& out);
absl::Status ParseCache(const Directive& d, Cache& out);
absl::Status ParseBind(const Directive& d, ServerBlock& out);
absl::Status ParseAcl(const Directive& d, Acl& out);
absl::Status ParseLog(const Directive& d, Log& out);
absl::Status ParseErrors(const Directive& d, Errors& out);
absl::Status ParseHealth(const Directive& d, Health& out);
absl::Status ParseEndpoint(const Directive& d, Endpoint& out);  // ready, prometheus
absl::Status ParseReload(const Directive& d, Reload& out);
absl::Status ParseServerTls(const Directive& d, ServerTls& out);
absl::Status ParseLoadbalance(const Directive& d, ServerBlock& out);
absl::Status ParseChaos(const Directive& d, ServerBlock& out);
absl::Status ParseNsid(const Directive& d, ServerBlock& out);
absl::Status ParseBufsize(const Directive& d, ServerBlock& out);
absl::Status ParseHosts(const Directive& d, ServerBlock& out);
absl::Status ParseDnstap(const Directive& d, Dnstap& out);
absl::Status ParseTemplate(const Directive& d, Template& out);
absl::Status ParseRewrite(const Directive& d, std::vector<Rewrite>& out);
// A rewrite rule's `edns0 ...` from args[at] on (rewrite_edns0.cc).
absl::Status ParseEdns0Rule(const Token& field, const std::vector<Token>& args, std::size_t at,
                            Rewrite& out);
absl::Status ParseView(const Directive& d, ServerBlock& out);

}  // namespace ringdns::core::config
