// core/version.h: the build's version string, as `ringdns -version` prints it.
#pragma once

#include <string_view>

namespace ringdns::core {

std::string_view Version() noexcept;

}  // namespace ringdns::core
