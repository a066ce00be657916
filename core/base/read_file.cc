#include "core/base/read_file.h"

#include <cstdio>

namespace ringdns::core {

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return std::nullopt;
  std::string text;
  char chunk[4096];
  while (const std::size_t n = std::fread(chunk, 1, sizeof(chunk), f)) text.append(chunk, n);
  std::fclose(f);
  return text;
}

}  // namespace ringdns::core
