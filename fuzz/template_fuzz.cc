// Fuzzes what the template plugin reads: the zone-file text of one record
// (wire::RecordFromText), and a Go template (TemplateText) rendered for a name and
// then read as a record, as a query's name does on the packet path. Properties: nothing
// is written past its room; a record that reads is a record the answer walk accepts,
// of the length reported; a rendering fits its buffer and is the same each time.
// Input: TEMPLATE '\n' NAME; the whole input is also read as one record.
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/config/template_text.h"
#include "fuzz_check.h"
#include "wire/bytes.h"
#include "wire/response.h"
#include "wire/rr_text.h"

namespace {

// Reads `text` as a record into a room with a guard after it, and checks it.
void CheckRecord(std::string_view text) {
  constexpr std::size_t kRoom = 2048, kGuard = 16;
  std::vector<std::uint8_t> out(ringdns::wire::header::kSize + kRoom + kGuard, 0xa5);
  const std::span<std::uint8_t> room(out.data() + ringdns::wire::header::kSize, kRoom);
  const ringdns::wire::Result<std::size_t> len = ringdns::wire::RecordFromText(text, room);
  for (std::size_t i = out.size() - kGuard; i < out.size(); ++i) FUZZ_CHECK(out[i] == 0xa5);
  if (!len) return;
  FUZZ_CHECK(*len <= kRoom);
  // One answer record after a header with no question: the walk must accept it whole.
  std::memset(out.data(), 0, ringdns::wire::header::kSize);
  ringdns::wire::StoreU16(out.data() + ringdns::wire::header::kFlags, ringdns::wire::flag::kQr);
  ringdns::wire::StoreU16(out.data() + ringdns::wire::header::kAnCount, 1);
  const ringdns::wire::Result<ringdns::wire::ResponseInfo> info =
      ringdns::wire::WalkResponse(std::span(out.data(), ringdns::wire::header::kSize + *len));
  FUZZ_CHECK(info.has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckRecord(input);
  const std::size_t newline = input.find('\n');
  const std::string_view text = input.substr(0, newline);
  const std::string_view name =
      newline == std::string_view::npos ? "example." : input.substr(newline + 1);
  const absl::StatusOr<ringdns::core::TemplateText> compiled =
      ringdns::core::TemplateText::Compile(text);
  if (!compiled.ok()) return 0;
  const std::string_view match[] = {name, name.substr(0, name.size() / 2)};
  const std::pair<std::string, int> groups[] = {{"a", 1}};
  const ringdns::core::TemplateData td{.name = name,
                                       .zone = "example.",
                                       .qclass = "IN",
                                       .qtype = "A",
                                       .regex = ".*",
                                       .remote = "192.0.2.1",
                                       .match = match,
                                       .group_names = groups};
  std::vector<char> first(1024 + 16, 'Z'), second(1024);
  const std::optional<std::size_t> len = compiled->Render(td, std::span(first).first(1024));
  for (std::size_t i = 1024; i < first.size(); ++i) FUZZ_CHECK(first[i] == 'Z');
  const std::optional<std::size_t> again = compiled->Render(td, second);
  FUZZ_CHECK(len.has_value() == again.has_value());
  if (!len) return 0;
  FUZZ_CHECK(*len <= 1024 && *again == *len && std::memcmp(first.data(), second.data(), *len) == 0);
  CheckRecord(std::string_view(first.data(), *len));
  return 0;
}
