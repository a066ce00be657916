// Fuzzes DNS-over-TCP reassembly (core/stream/tcp_stream.h) the way a shard drives it: the
// input's first bytes choose the receive sizes and the storage size, the rest is the
// byte stream a client sends. Properties: the messages FrameReader hands out, in order,
// are exactly those a plain reference parser finds in the whole stream; a zero or
// oversized length is reported where the reference finds it; nothing is read or written
// outside the storage; Tail() is never empty unless a too-large message is pending.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "core/stream/tcp_stream.h"
#include "fuzz_check.h"

using ringdns::core::FrameReader;

namespace {

struct Reference {
  std::vector<std::vector<std::uint8_t>> messages;
  bool zero = false;       // a zero length stopped the stream
  bool too_large = false;  // a length over the storage stopped it
};

Reference Parse(std::span<const std::uint8_t> stream, std::size_t storage) {
  Reference ref;
  std::size_t at = 0;
  while (stream.size() - at >= 2) {
    const std::size_t len = std::size_t{stream[at]} << 8 | stream[at + 1];
    if (len == 0) {
      ref.zero = true;
      break;
    }
    if (len + 2 > storage) {
      ref.too_large = true;
      break;
    }
    if (stream.size() - at < len + 2) break;
    ref.messages.emplace_back(stream.begin() + static_cast<std::ptrdiff_t>(at + 2),
                              stream.begin() + static_cast<std::ptrdiff_t>(at + 2 + len));
    at += len + 2;
  }
  return ref;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  // Storage from 16 octets to 64 KiB + 2 (a shard's client buffer holds one full message).
  const std::size_t storage_size = 16 + ((std::size_t{data[0]} << 8 | data[1]) % (65538 - 16 + 1));
  const std::uint8_t chunk_seed = data[2];
  const std::span<const std::uint8_t> stream(data + 3, size - 3);
  const Reference ref = Parse(stream, storage_size);

  std::vector<std::uint8_t> storage(storage_size);
  FrameReader reader(storage);
  std::vector<std::vector<std::uint8_t>> got;
  bool zero = false;
  bool too_large = false;
  std::size_t fed = 0;
  std::size_t step = 0;
  while (!zero && !too_large) {
    std::span<std::uint8_t> message;
    const FrameReader::Status status = reader.Next(message);
    if (status == FrameReader::Status::kMessage) {
      FUZZ_CHECK(message.data() >= storage.data() &&
                 message.data() + message.size() <= storage.data() + storage.size());
      got.emplace_back(message.begin(), message.end());
      reader.Consume(message);
      continue;
    }
    if (status == FrameReader::Status::kZeroLength) zero = true;
    if (status == FrameReader::Status::kTooLarge) too_large = true;
    if (zero || too_large || fed == stream.size()) break;
    // A receive of 1..256 octets (the seed varies the pattern), at most what fits.
    const std::span<std::uint8_t> tail = reader.Tail();
    FUZZ_CHECK(!tail.empty());
    FUZZ_CHECK(tail.data() >= storage.data() &&
               tail.data() + tail.size() <= storage.data() + storage.size());
    const std::size_t want = 1 + (chunk_seed * 31 + step++ * 17) % 256;
    const std::size_t n = std::min({want, tail.size(), stream.size() - fed});
    std::memcpy(tail.data(), stream.data() + fed, n);
    reader.Commit(n);
    fed += n;
  }
  FUZZ_CHECK(got == ref.messages);
  FUZZ_CHECK(zero == ref.zero);
  FUZZ_CHECK(too_large == ref.too_large);
  return 0;
}
