// tests/testing/message_builder.h: builds DNS messages for tests, benchmarks and seed
// corpora, with optional compression pointers, so each test states its message in a
// few readable lines instead of a wall of hex.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "testing/hex.h"

namespace ringdns::testing {

// The uncompressed wire form of a presentation-format name; aborts on bad text.
Bytes WireName(std::string_view text);

class MessageBuilder {
 public:
  MessageBuilder(std::uint16_t id, std::uint16_t flags);

  // Appends a question; counts are maintained automatically.
  MessageBuilder& Question(std::string_view qname, std::uint16_t qtype, std::uint16_t qclass = 1);
  // Appends a record whose owner is `owner` in full.
  MessageBuilder& Answer(std::string_view owner, std::uint16_t type, std::uint32_t ttl,
                         const Bytes& rdata);
  MessageBuilder& Authority(std::string_view owner, std::uint16_t type, std::uint32_t ttl,
                            const Bytes& rdata);
  MessageBuilder& Additional(std::string_view owner, std::uint16_t type, std::uint32_t ttl,
                             const Bytes& rdata);
  // Appends a record whose owner is a compression pointer to `offset`.
  MessageBuilder& AnswerAt(std::uint16_t offset, std::uint16_t type, std::uint32_t ttl,
                           const Bytes& rdata);
  // Appends an OPT record to the additional section.
  MessageBuilder& Opt(std::uint16_t udp_size, std::uint32_t ttl_field, const Bytes& options = {});

  // Current size: the offset the next appended byte will have.
  std::uint16_t size() const { return static_cast<std::uint16_t>(bytes_.size()); }
  const Bytes& bytes() const { return bytes_; }

 private:
  void Record(int section, const Bytes& owner, std::uint16_t type, std::uint16_t rclass,
              std::uint32_t ttl, const Bytes& rdata);
  void Bump(std::size_t count_offset);

  Bytes bytes_;
};

// RDATA helpers.
Bytes ARdata(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
Bytes SrvRdata(std::uint16_t priority, std::uint16_t weight, std::uint16_t port,
               std::string_view target);
Bytes SoaRdata(std::string_view mname, std::string_view rname, std::uint32_t serial,
               std::uint32_t refresh, std::uint32_t retry, std::uint32_t expire,
               std::uint32_t minimum);

}  // namespace ringdns::testing
