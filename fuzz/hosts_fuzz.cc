// Fuzzes the hosts file parser (HostsTable::Build): the file's bytes are whatever sits in
// /etc/hosts or a mounted ConfigMap. Properties: it never crashes or hangs; what a lookup of
// any field of the text finds is sound: A records of 4 octets, AAAA of 16 and
// PTR records holding a valid lower-case wire name; an inline line gives what the same
// line in the file gives.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/pipeline/hosts_table.h"
#include "fuzz_check.h"
#include "wire/name.h"

using namespace ringdns;

namespace {

void CheckRecords(std::span<const wire::LocalRecord> records, std::uint16_t type) {
  for (const wire::LocalRecord& r : records) {
    FUZZ_CHECK(r.type == type);
    if (type == wire::rrtype::kA) FUZZ_CHECK(r.rdata.size() == 4);
    if (type == wire::rrtype::kAaaa) FUZZ_CHECK(r.rdata.size() == 16);
    if (type == wire::rrtype::kPtr) {
      const wire::Result<std::size_t> len = wire::ScanUncompressedName(r.rdata, 0);
      FUZZ_CHECK(len && *len == r.rdata.size());
      for (std::uint8_t c : r.rdata) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    }
  }
}

// Looks up every field of `text` as a name, and checks what comes back.
std::size_t LookUpFields(const core::HostsTable& table, std::string_view text) {
  std::size_t found = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find_first_of(" \t\r\n#", pos), text.size());
    wire::NameStorage name;
    if (const wire::Result<std::size_t> len =
            wire::NameFromText(text.substr(pos, end - pos), name)) {
      wire::NameStorage lower;
      const std::span<const std::uint8_t> key(lower.data(),
                                              wire::WriteLookupKey({name.data(), *len}, lower));
      if (const core::HostsTable::Addresses* a = table.Find(key)) {
        FUZZ_CHECK(!a->a.empty() || !a->aaaa.empty());
        CheckRecords(a->a, wire::rrtype::kA);
        CheckRecords(a->aaaa, wire::rrtype::kAaaa);
        ++found;
      }
      CheckRecords(table.FindPtr(key), wire::rrtype::kPtr);
    }
    pos = end + 1;
  }
  return found;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const core::WireZone root = *core::ToWireZone(".");
  const core::HostsTableOptions options{.zones = {&root, 1}, .ttl = 3600, .reverse = true};
  const auto from_file = core::HostsTable::Build(text, {}, options);
  FUZZ_CHECK(LookUpFields(*from_file, text) <= text.size());
  // The same text as inline lines (one per line) reads the same.
  std::vector<std::string> lines;
  for (std::size_t pos = 0; pos <= text.size();) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  const auto from_lines = core::HostsTable::Build("", lines, options);
  FUZZ_CHECK(from_lines->name_count() == from_file->name_count());
  return 0;
}
