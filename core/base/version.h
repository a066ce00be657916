// core/base/version.h: who this server says it is: the build's version string, as `ringdns
// -version` prints it, and the host's name (dnstap's identity, chaos's hostname.bind).
#pragma once

#include <string>
#include <string_view>

namespace ringdns::core {

std::string_view Version() noexcept;

// The host's name; empty when it cannot be read.
std::string HostName();

}  // namespace ringdns::core
