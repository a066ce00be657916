// core/config/loader.h: Corefile text or file -> validated Config.
//
// Control thread only. Every error reads "FILE:LINE:COLUMN: what was wrong, what was
// expected"; the caller exits (start-up) or keeps the old Config (reload).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/config/config.h"

namespace ringdns::core::config {

struct LoadOptions {
  std::uint16_t dns_port = kDefaultDnsPort;  // -dns.port: the port of keys that name none
  // Whether `import` may read files and `forward` may read resolv.conf files. The fuzzer
  // turns this off so it stays hermetic; such references then fail with an error.
  bool read_files = true;
};

// What ringdns serves when started without any Corefile (it says so in its log).
inline constexpr char kDefaultCorefile[] =
    ".:5353 {\n    forward . /etc/resolv.conf\n    cache\n}\n";

absl::StatusOr<Config> ParseCorefile(absl::string_view text, const std::string& file,
                                     const LoadOptions& options = {});
absl::StatusOr<Config> LoadCorefile(const std::string& path, const LoadOptions& options = {});

// The configuration as a normalised Corefile (every value explicit), for -validate.
std::string FormatCorefile(const Config& config);

// What a forward's cached answers depend on, normalised: its block's keys, the forward
// and the block's cache directive. A reload keeps the cache of a forward whose identity
// has not changed.
std::string FormatForwardIdentity(const ServerBlock& block, const Forward& forward);

// The directives ringdns understands, comma separated, for error messages.
absl::string_view SupportedDirectives();

}  // namespace ringdns::core::config
