#include "core/base/version.h"

#include <unistd.h>

#include <climits>

namespace ringdns::core {

std::string_view Version() noexcept { return RINGDNS_VERSION; }

std::string HostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

}  // namespace ringdns::core
