#include "core/dnstap/encoder.h"

#include <sys/socket.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "dnstap.pb-c.h"

namespace ringdns::core::dnstap {
namespace {

// Dnstap.message: field 14, length-delimited.
constexpr std::uint8_t kMessageKey = (14 << 3) | 2;
// A Message's largest packing: a 65 535-octet wire message, two addresses, and the
// numbers, each with its key and length.
constexpr std::size_t kMaxMessageBytes = 65535 + 1024;

ProtobufCBinaryData Bytes(const void* data, std::size_t len) {
  // protobuf-c's binary fields are mutable pointers it only reads when packing.
  return ProtobufCBinaryData{len, static_cast<std::uint8_t*>(const_cast<void*>(data))};
}

ProtobufCBinaryData Bytes(const std::string& text) { return Bytes(text.data(), text.size()); }

void SetTime(std::int64_t monotonic_us, std::int64_t offset_us, protobuf_c_boolean& has_sec,
             std::uint64_t& sec, protobuf_c_boolean& has_nsec, std::uint32_t& nsec) {
  const std::int64_t unix_us = monotonic_us + offset_us;
  has_sec = has_nsec = 1;
  sec = static_cast<std::uint64_t>(unix_us / 1'000'000);
  nsec = static_cast<std::uint32_t>(unix_us % 1'000'000) * 1000u;
}

// Sets an address field and its port; the family is the message's.
void SetAddress(const TapAddress& a, protobuf_c_boolean& has_address, ProtobufCBinaryData& address,
                protobuf_c_boolean& has_port, std::uint32_t& port) {
  if (a.family == 0) return;
  has_address = 1;
  address = Bytes(a.ip, a.family == AF_INET ? 4 : 16);
  has_port = 1;
  port = a.port;
}

}  // namespace

Frame::Frame(std::size_t size)
    : block_(static_cast<std::uint8_t*>(std::malloc(kHeader + size))), size_(size) {
  if (!block_) throw std::bad_alloc();
  const std::uint64_t stored = size;
  std::memcpy(block_.get(), &stored, sizeof(stored));
}

void Frame::FreeBlock::operator()(std::uint8_t* block) const noexcept { std::free(block); }

std::size_t Frame::SizeOf(const void* payload) noexcept {
  std::uint64_t stored = 0;
  std::memcpy(&stored, static_cast<const std::uint8_t*>(payload) - kHeader, sizeof(stored));
  return static_cast<std::size_t>(stored);
}

void Frame::Free(void* payload) noexcept {
  std::free(static_cast<std::uint8_t*>(payload) - kHeader);
}

std::int64_t RealtimeOffsetUs() noexcept {
  timespec real{};
  timespec mono{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  return (real.tv_sec - mono.tv_sec) * 1'000'000 + (real.tv_nsec - mono.tv_nsec) / 1000;
}

FrameEncoder::FrameEncoder(const TapLabels& labels, bool full)
    : full_(full), scratch_(new std::uint8_t[kMaxMessageBytes]) {
  Dnstap__Dnstap top = DNSTAP__DNSTAP__INIT;
  top.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
  if (!labels.identity.empty()) {
    top.has_identity = 1;
    top.identity = Bytes(labels.identity);
  }
  if (!labels.version.empty()) {
    top.has_version = 1;
    top.version = Bytes(labels.version);
  }
  if (!labels.extra.empty()) {
    top.has_extra = 1;
    top.extra = Bytes(labels.extra);
  }
  labels_.resize(dnstap__dnstap__get_packed_size(&top));
  dnstap__dnstap__pack(&top, reinterpret_cast<std::uint8_t*>(labels_.data()));
}

Frame FrameEncoder::Encode(const TapRecord& record, std::int64_t realtime_offset_us) const {
  Dnstap__Message message = DNSTAP__MESSAGE__INIT;
  message.type = static_cast<Dnstap__Message__Type>(record.type);
  // The socket's family: the client's for client messages, the upstream's for forwarder
  // ones (as CoreDNS sets it), whichever is known otherwise.
  const bool forwarder =
      record.type == MessageType::kForwarderQuery || record.type == MessageType::kForwarderResponse;
  const TapAddress& preferred = forwarder ? record.response_address : record.query_address;
  const TapAddress& family_from = preferred.family != 0 ? preferred
                                  : forwarder           ? record.query_address
                                                        : record.response_address;
  if (family_from.family != 0) {
    message.has_socket_family = 1;
    message.socket_family =
        family_from.family == AF_INET ? DNSTAP__SOCKET_FAMILY__INET : DNSTAP__SOCKET_FAMILY__INET6;
  }
  message.has_socket_protocol = 1;
  message.socket_protocol = static_cast<Dnstap__SocketProtocol>(record.protocol);
  SetAddress(record.query_address, message.has_query_address, message.query_address,
             message.has_query_port, message.query_port);
  SetAddress(record.response_address, message.has_response_address, message.response_address,
             message.has_response_port, message.response_port);
  SetTime(record.query_time_us, realtime_offset_us, message.has_query_time_sec,
          message.query_time_sec, message.has_query_time_nsec, message.query_time_nsec);
  const bool response =
      record.type == MessageType::kClientResponse || record.type == MessageType::kForwarderResponse;
  if (response) {
    SetTime(record.response_time_us, realtime_offset_us, message.has_response_time_sec,
            message.response_time_sec, message.has_response_time_nsec, message.response_time_nsec);
  }
  if (full_ && record.message_len > 0) {
    const ProtobufCBinaryData wire = Bytes(record.message().data(), record.message_len);
    if (response) {
      message.has_response_message = 1;
      message.response_message = wire;
    } else {
      message.has_query_message = 1;
      message.query_message = wire;
    }
  }
  // The Message, packed in one pass where it surely fits (a record's wire message is at
  // most 65 535 octets; its other fields under a hundred)...
  std::uint8_t* packed = scratch_.get();
  const std::size_t message_size = dnstap__message__pack(&message, packed);
  // ... then the frame: the labels, and field 14 (message): its key, its length as a
  // varint, the Message.
  std::uint8_t key_and_length[1 + 10];
  std::size_t head = 0;
  key_and_length[head++] = kMessageKey;
  for (std::size_t v = message_size;; v >>= 7) {
    key_and_length[head++] = static_cast<std::uint8_t>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
    if (v < 0x80) break;
  }
  Frame frame(labels_.size() + head + message_size);
  std::uint8_t* out = frame.data();
  std::memcpy(out, labels_.data(), labels_.size());
  std::memcpy(out + labels_.size(), key_and_length, head);
  std::memcpy(out + labels_.size() + head, packed, message_size);
  return frame;
}

Frame Encode(const TapRecord& record, const TapLabels& labels, bool full,
             std::int64_t realtime_offset_us) {
  return FrameEncoder(labels, full).Encode(record, realtime_offset_us);
}

}  // namespace ringdns::core::dnstap
