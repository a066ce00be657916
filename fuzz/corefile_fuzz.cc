// Fuzzes the Corefile lexer, parser (snippets and imports included) and every directive
// parser. Properties: it never crashes or hangs; an accepted Corefile prints as a
// normalised Corefile that parses again to the same text. File reads are off, so the
// fuzzer stays hermetic.
#include <cstdint>
#include <string>

#include "core/config/loader.h"
#include "fuzz_check.h"

using namespace ringdns::core::config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  LoadOptions options;
  options.read_files = false;
  const absl::StatusOr<Config> config = ParseCorefile(text, "fuzz/Corefile", options);
  if (!config.ok()) {
    FUZZ_CHECK(config.status().message().find("fuzz/Corefile:") == 0 ||
               config.status().message().find(':') != absl::string_view::npos);
    return 0;
  }
  const std::string once = FormatCorefile(*config);
  const absl::StatusOr<Config> again = ParseCorefile(once, "fuzz/Normalised", options);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(FormatCorefile(*again) == once);
  return 0;
}
