// fuzz/dns_mutator.h: a structure-aware mutator for DNS messages (libFuzzer's
// LLVMFuzzerCustomMutator). Byte flips rarely keep a message's counts, label lengths
// and record lengths in agreement, so most mutants die at the first check. Half of the
// time this one edits the structure a lenient walk finds instead: a section count, a
// label length, a compression pointer where a name starts (backwards, forwards, to
// itself, into the header), a record's RDLENGTH or TTL (0, 2^31 and above), or a whole
// record duplicated or removed. The other half is libFuzzer's own byte mutation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace ringdns::fuzz {

// Where a lenient walk finds each name and each record (start, type field, end).
struct DnsLayout {
  std::vector<std::size_t> names;
  struct Record {
    std::size_t start, fixed, end;
  };
  std::vector<Record> records;
};

inline unsigned Load16(const std::uint8_t* p) { return (unsigned{p[0]} << 8) | p[1]; }

inline std::size_t SkipName(const std::uint8_t* m, std::size_t n, std::size_t at) {
  while (at < n) {
    const std::uint8_t len = m[at];
    if (len == 0) return at + 1;
    if ((len & 0xc0) == 0xc0) return at + 2 <= n ? at + 2 : 0;
    at += 1 + len;
  }
  return 0;
}

inline DnsLayout ScanDns(const std::uint8_t* m, std::size_t n) {
  DnsLayout out;
  if (n < 12) return out;
  const auto count = [&](int i) { return static_cast<int>(Load16(m + 4 + 2 * i)); };
  std::size_t at = 12;
  for (int q = 0; q < count(0) && at < n; ++q) {
    out.names.push_back(at);
    at = SkipName(m, n, at);
    if (at == 0 || at + 4 > n) return out;
    at += 4;
  }
  const int records = count(1) + count(2) + count(3);
  for (int r = 0; r < records && at < n; ++r) {
    const std::size_t start = at;
    out.names.push_back(at);
    at = SkipName(m, n, at);
    if (at == 0 || at + 10 > n) return out;
    const std::size_t fixed = at;
    const std::size_t end = at + 10 + Load16(m + at + 8);
    if (end > n) return out;
    out.records.push_back({start, fixed, end});
    at = end;
  }
  return out;
}

// `prefix`: octets before the message that the target reads as parameters.
inline std::size_t MutateDns(std::uint8_t* data, std::size_t size, std::size_t max_size,
                             unsigned seed, std::size_t prefix) {
  std::minstd_rand rng(seed);
  if (size < prefix + 12 || rng() % 2 == 0) return LLVMFuzzerMutate(data, size, max_size);
  std::uint8_t* m = data + prefix;
  const std::size_t n = size - prefix;
  const DnsLayout layout = ScanDns(m, n);
  const auto pick = [&](std::size_t k) { return static_cast<std::size_t>(rng() % k); };
  const auto store16 = [](std::uint8_t* p, unsigned v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
  };
  switch (rng() % 6) {
    case 0: {  // a section count: off by one, zero, or a few
      std::uint8_t* c = m + 4 + 2 * pick(4);
      const unsigned v = Load16(c);
      const unsigned choices[] = {v + 1, v - 1, 0, 1, 2, 0xffff};
      store16(c, choices[pick(6)] & 0xffff);
      break;
    }
    case 1: {  // a label length at a name's start
      if (layout.names.empty()) break;
      const std::uint8_t lengths[] = {0, 1, 63, 64, 0x40, 0x80, 0xff};
      m[layout.names[pick(layout.names.size())]] = lengths[pick(7)];
      break;
    }
    case 2: {  // a compression pointer where a name starts
      if (layout.names.empty()) break;
      const std::size_t at = layout.names[pick(layout.names.size())];
      if (at + 2 > n) break;
      const std::size_t targets[] = {layout.names[pick(layout.names.size())], at, pick(12),
                                     pick(n + 8)};
      store16(m + at, 0xc000 | (targets[pick(4)] & 0x3fff));
      break;
    }
    case 3: {  // a record's RDLENGTH
      if (layout.records.empty()) break;
      const DnsLayout::Record& r = layout.records[pick(layout.records.size())];
      const unsigned len = static_cast<unsigned>(r.end - r.fixed - 10);
      const unsigned choices[] = {0, len + 1, len - 1, 0xffff, static_cast<unsigned>(pick(64))};
      store16(m + r.fixed + 8, choices[pick(5)] & 0xffff);
      break;
    }
    case 4: {  // a record's TTL
      if (layout.records.empty()) break;
      const std::uint32_t ttls[] = {0, 1, 0x7fffffff, 0x80000000u, 0xffffffffu};
      const std::uint32_t ttl = ttls[pick(5)];
      std::uint8_t* p = m + layout.records[pick(layout.records.size())].fixed + 4;
      store16(p, ttl >> 16);
      store16(p + 2, ttl & 0xffff);
      break;
    }
    default: {  // a whole record duplicated in place, or removed
      if (layout.records.empty()) break;
      const DnsLayout::Record& r = layout.records[pick(layout.records.size())];
      const std::size_t len = r.end - r.start;
      if (rng() % 2 == 0 && size + len <= max_size) {
        std::memmove(m + r.end + len, m + r.end, n - r.end);
        std::memcpy(m + r.end, m + r.start, len);
        return size + len;
      }
      std::memmove(m + r.start, m + r.end, n - r.end);
      return size - len;
    }
  }
  return size;
}

}  // namespace ringdns::fuzz
