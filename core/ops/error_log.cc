#include "core/ops/error_log.h"

#include <unistd.h>

namespace ringdns::core {

void ErrorLog::Write(absl::string_view line) {
  std::string text = absl::StrCat("[ERROR] shard ", shard_, ": ", line);
  if (held_back_ > 0) absl::StrAppend(&text, " (and ", held_back_, " more in the last second)");
  text += "\n";
  held_back_ = 0;
  (void)::write(fd_, text.data(), text.size());
}

}  // namespace ringdns::core
