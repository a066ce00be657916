#include "core/version.h"

namespace ringdns::core {

std::string_view Version() noexcept { return RINGDNS_VERSION; }

}  // namespace ringdns::core
