#include "core/dnstap/encoder.h"

#include <sys/socket.h>
#include <time.h>

#include <cstdlib>
#include <new>

#include "dnstap.pb-c.h"

namespace ringdns::core::dnstap {
namespace {

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

void FreeDeleter::operator()(void* p) const noexcept { std::free(p); }

std::int64_t RealtimeOffsetUs() noexcept {
  timespec real{};
  timespec mono{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  return (real.tv_sec - mono.tv_sec) * 1'000'000 + (real.tv_nsec - mono.tv_nsec) / 1000;
}

Frame Encode(const TapRecord& record, const TapLabels& labels, bool full, std::int64_t realtime_offset_us) {
  Dnstap__Message message = DNSTAP__MESSAGE__INIT;
  message.type = static_cast<Dnstap__Message__Type>(record.type);
  // The socket's family: the client's for client messages, the upstream's for forwarder
  // ones (as CoreDNS sets it), whichever is known otherwise.
  const bool forwarder = record.type == MessageType::kForwarderQuery || record.type == MessageType::kForwarderResponse;
  const TapAddress& preferred = forwarder ? record.response_address : record.query_address;
  const TapAddress& family_from = preferred.family != 0 ? preferred : forwarder ? record.query_address : record.response_address;
  if (family_from.family != 0) {
    message.has_socket_family = 1;
    message.socket_family = family_from.family == AF_INET ? DNSTAP__SOCKET_FAMILY__INET : DNSTAP__SOCKET_FAMILY__INET6;
  }
  message.has_socket_protocol = 1;
  message.socket_protocol = static_cast<Dnstap__SocketProtocol>(record.protocol);
  SetAddress(record.query_address, message.has_query_address, message.query_address, message.has_query_port,
             message.query_port);
  SetAddress(record.response_address, message.has_response_address, message.response_address,
             message.has_response_port, message.response_port);
  SetTime(record.query_time_us, realtime_offset_us, message.has_query_time_sec, message.query_time_sec,
          message.has_query_time_nsec, message.query_time_nsec);
  const bool response = record.type == MessageType::kClientResponse || record.type == MessageType::kForwarderResponse;
  if (response) {
    SetTime(record.response_time_us, realtime_offset_us, message.has_response_time_sec, message.response_time_sec,
            message.has_response_time_nsec, message.response_time_nsec);
  }
  if (full && record.message_len > 0) {
    const ProtobufCBinaryData wire = Bytes(record.message().data(), record.message_len);
    if (response) {
      message.has_response_message = 1;
      message.response_message = wire;
    } else {
      message.has_query_message = 1;
      message.query_message = wire;
    }
  }
  Dnstap__Dnstap top = DNSTAP__DNSTAP__INIT;
  top.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
  top.message = &message;
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
  Frame frame;
  frame.size = dnstap__dnstap__get_packed_size(&top);
  frame.data.reset(static_cast<std::uint8_t*>(std::malloc(frame.size)));
  if (!frame.data) throw std::bad_alloc();
  dnstap__dnstap__pack(&top, frame.data.get());
  return frame;
}

}  // namespace ringdns::core::dnstap
