// core/base/read_file.h: a whole file's bytes, for the control thread (the Corefile's
// watch, TLS files, hosts files). Never on a shard.
#pragma once

#include <optional>
#include <string>

namespace ringdns::core {

// nullopt when the file cannot be opened (errno says why).
std::optional<std::string> ReadWholeFile(const std::string& path);

}  // namespace ringdns::core
