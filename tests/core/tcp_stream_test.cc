// DNS-over-TCP framing (RFC 7766 section 8): split and coalesced length prefixes, bad
// prefixes, and the in-order write queue, without allocation.
#include "core/stream/tcp_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/alloc_counter.h"

namespace ringdns::core {
namespace {

std::vector<std::uint8_t> Framed(const std::string& body) {
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(body.size() >> 8),
                                static_cast<std::uint8_t>(body.size())};
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// Feeds `bytes` in chunks of `chunk` and returns every message read, as text.
std::vector<std::string> Feed(FrameReader& reader, const std::vector<std::uint8_t>& bytes,
                              std::size_t chunk) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < bytes.size();) {
    std::span<std::uint8_t> tail = reader.Tail();
    const std::size_t n = std::min({chunk, tail.size(), bytes.size() - pos});
    std::memcpy(tail.data(), bytes.data() + pos, n);
    reader.Commit(n);
    pos += n;
    std::span<std::uint8_t> msg;
    while (reader.Next(msg) == FrameReader::Status::kMessage) {
      out.emplace_back(msg.begin(), msg.end());
      reader.Consume(msg);
    }
  }
  return out;
}

TEST(FrameReader, ReassemblesSplitMessagesAndSeparatesCoalescedOnes) {
  std::vector<std::uint8_t> stream;
  std::vector<std::string> sent;
  for (int i = 0; i < 50; ++i) {
    sent.push_back(
        std::string(static_cast<std::size_t>(1 + i * 7), static_cast<char>('a' + i % 26)));
    const std::vector<std::uint8_t> f = Framed(sent.back());
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u, 100000u}) {
    std::vector<std::uint8_t> storage(512);
    FrameReader reader(storage);
    EXPECT_EQ(Feed(reader, stream, chunk), sent) << "chunk " << chunk;
    EXPECT_FALSE(reader.partial());
  }
}

TEST(FrameReader, ReportsPartialZeroAndOversizedPrefixes) {
  std::vector<std::uint8_t> storage(64);
  FrameReader reader(storage);
  std::span<std::uint8_t> msg;
  reader.Tail()[0] = 0;
  reader.Commit(1);
  EXPECT_EQ(reader.Next(msg), FrameReader::Status::kNeedMore);
  EXPECT_TRUE(reader.partial());
  reader.Tail()[0] = 0;
  reader.Commit(1);
  EXPECT_EQ(reader.Next(msg), FrameReader::Status::kZeroLength);
  reader.Reset();
  reader.Tail()[0] = 0;
  reader.Tail()[1] = 63;  // 63 + 2 octets never fit 64
  reader.Commit(2);
  EXPECT_EQ(reader.Next(msg), FrameReader::Status::kTooLarge);
}

TEST(SendQueue, KeepsOrderAcrossWrapAround) {
  SendQueue queue(3);
  std::vector<std::uint16_t> popped;
  for (std::uint16_t i = 0; i < 10; ++i) {
    queue.Push({nullptr, 1, 0, 0, i});
    if (queue.full() || i == 9) {
      while (!queue.empty()) {
        popped.push_back(queue.Front().buffer);
        queue.Pop();
      }
    }
  }
  EXPECT_EQ(popped, (std::vector<std::uint16_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(FrameReader, AllocatesNothing) {
  std::vector<std::uint8_t> storage(256);
  FrameReader reader(storage);
  const std::vector<std::uint8_t> stream = Framed("query");
  EXPECT_EQ(testing::CountAllocations([&] {
              for (int i = 0; i < 100; ++i) {
                std::span<std::uint8_t> tail = reader.Tail();
                std::memcpy(tail.data(), stream.data(), stream.size());
                reader.Commit(stream.size());
                std::span<std::uint8_t> msg;
                if (reader.Next(msg) == FrameReader::Status::kMessage) reader.Consume(msg);
              }
            }),
            0u);
}

}  // namespace
}  // namespace ringdns::core
