#include "testing/message_builder.h"

#include <cstdio>
#include <cstdlib>

#include "wire/bytes.h"
#include "wire/name.h"

namespace ringdns::testing {
namespace {

void Put16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void Put32(Bytes& out, std::uint32_t v) {
  Put16(out, static_cast<std::uint16_t>(v >> 16));
  Put16(out, static_cast<std::uint16_t>(v));
}

}  // namespace

Bytes WireName(std::string_view text) {
  wire::NameStorage storage;
  const wire::Result<std::size_t> len = wire::NameFromText(text, storage);
  if (!len) {
    std::fprintf(stderr, "bad name '%.*s'\n", static_cast<int>(text.size()), text.data());
    std::abort();
  }
  return Bytes(storage.begin(), storage.begin() + static_cast<std::ptrdiff_t>(*len));
}

MessageBuilder::MessageBuilder(std::uint16_t id, std::uint16_t flags) {
  Put16(bytes_, id);
  Put16(bytes_, flags);
  for (int i = 0; i < 4; ++i) Put16(bytes_, 0);
}

void MessageBuilder::Bump(std::size_t count_offset) {
  wire::StoreU16(bytes_.data() + count_offset,
                 static_cast<std::uint16_t>(wire::LoadU16(bytes_.data() + count_offset) + 1));
}

MessageBuilder& MessageBuilder::Question(std::string_view qname, std::uint16_t qtype,
                                         std::uint16_t qclass) {
  const Bytes name = WireName(qname);
  bytes_.insert(bytes_.end(), name.begin(), name.end());
  Put16(bytes_, qtype);
  Put16(bytes_, qclass);
  Bump(wire::header::kQdCount);
  return *this;
}

void MessageBuilder::Record(int section, const Bytes& owner, std::uint16_t type,
                            std::uint16_t rclass, std::uint32_t ttl, const Bytes& rdata) {
  bytes_.insert(bytes_.end(), owner.begin(), owner.end());
  Put16(bytes_, type);
  Put16(bytes_, rclass);
  Put32(bytes_, ttl);
  Put16(bytes_, static_cast<std::uint16_t>(rdata.size()));
  bytes_.insert(bytes_.end(), rdata.begin(), rdata.end());
  Bump(wire::header::kAnCount + 2 * static_cast<std::size_t>(section));
}

MessageBuilder& MessageBuilder::Answer(std::string_view owner, std::uint16_t type,
                                       std::uint32_t ttl, const Bytes& rdata) {
  Record(0, WireName(owner), type, wire::rrclass::kIn, ttl, rdata);
  return *this;
}
MessageBuilder& MessageBuilder::Authority(std::string_view owner, std::uint16_t type,
                                          std::uint32_t ttl, const Bytes& rdata) {
  Record(1, WireName(owner), type, wire::rrclass::kIn, ttl, rdata);
  return *this;
}
MessageBuilder& MessageBuilder::Additional(std::string_view owner, std::uint16_t type,
                                           std::uint32_t ttl, const Bytes& rdata) {
  Record(2, WireName(owner), type, wire::rrclass::kIn, ttl, rdata);
  return *this;
}
MessageBuilder& MessageBuilder::AnswerAt(std::uint16_t offset, std::uint16_t type,
                                         std::uint32_t ttl, const Bytes& rdata) {
  const Bytes pointer{static_cast<std::uint8_t>(0xC0 | (offset >> 8)),
                      static_cast<std::uint8_t>(offset)};
  Record(0, pointer, type, wire::rrclass::kIn, ttl, rdata);
  return *this;
}
MessageBuilder& MessageBuilder::Opt(std::uint16_t udp_size, std::uint32_t ttl_field,
                                    const Bytes& options) {
  Record(2, Bytes{0}, wire::rrtype::kOpt, udp_size, ttl_field, options);
  return *this;
}

Bytes ARdata(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return Bytes{a, b, c, d};
}

Bytes SrvRdata(std::uint16_t priority, std::uint16_t weight, std::uint16_t port,
               std::string_view target) {
  Bytes out;
  Put16(out, priority);
  Put16(out, weight);
  Put16(out, port);
  const Bytes name = WireName(target);
  out.insert(out.end(), name.begin(), name.end());
  return out;
}

Bytes SoaRdata(std::string_view mname, std::string_view rname, std::uint32_t serial,
               std::uint32_t refresh, std::uint32_t retry, std::uint32_t expire,
               std::uint32_t minimum) {
  Bytes out = WireName(mname);
  const Bytes r = WireName(rname);
  out.insert(out.end(), r.begin(), r.end());
  for (std::uint32_t v : {serial, refresh, retry, expire, minimum}) Put32(out, v);
  return out;
}

}  // namespace ringdns::testing
