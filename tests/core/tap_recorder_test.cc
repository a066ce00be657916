// What a shard records for dnstap, without a socket: the protocol each record names (UDP,
// TCP, DoT, both ways), which address is the initiator and which the responder, the
// times, the message only with `full`, a client whose connection is gone, and a full
// queue that drops and counts.
#include "core/shard/tap_recorder.h"

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/loader.h"
#include "gtest/gtest.h"

namespace ringdns::core {
namespace {

using dnstap::MessageType;
using dnstap::Protocol;
using dnstap::TapRecord;

RouteTable RoutesOf(const std::string& corefile) {
  absl::StatusOr<config::Config> c = config::ParseCorefile(corefile, "Corefile", {});
  EXPECT_TRUE(c.ok()) << c.status();
  absl::StatusOr<RouteTable> routes = BuildRoutes(c.ok() ? *c : config::Config{});
  EXPECT_TRUE(routes.ok()) << routes.status();
  return routes.ok() ? std::move(*routes) : RouteTable{};
}

sockaddr_in6 V4(const char* ip, std::uint16_t port) {
  sockaddr_in6 storage{};
  auto* in = reinterpret_cast<sockaddr_in*>(&storage);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  inet_pton(AF_INET, ip, &in->sin_addr);
  return storage;
}

std::string Ip(const dnstap::TapAddress& a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.family == 0) return "unknown";
  inet_ntop(a.family, a.ip, text, sizeof(text));
  return std::string(text) + "#" + std::to_string(a.port);
}

class TapRecorderTest : public ::testing::Test {
 protected:
  void Load(const std::string& corefile) {
    routes = RoutesOf(corefile);
    recorder.Init();
    streams.Build({.clients = 2,
                   .upstreams = 1,
                   .client_writes = 2,
                   .upstream_writes = 2,
                   .client_buffer = 64,
                   .upstream_buffer = 64});
  }
  // Every record waiting, with its message copied out.
  std::vector<std::pair<TapRecord, std::vector<std::uint8_t>>> Drain() {
    std::vector<std::pair<TapRecord, std::vector<std::uint8_t>>> out;
    recorder.queue()->Drain([&](const TapRecord& r) {
      out.emplace_back(r, std::vector<std::uint8_t>(r.message().begin(), r.message().end()));
      return true;
    });
    return out;
  }
  // A client connection from 127.0.0.7#41000, open; kNoSlot when none is free.
  std::uint32_t OpenTcpClient() {
    const std::uint32_t conn = streams.TakeClient();
    if (conn == kNoSlot) return conn;
    streams[conn].state = StreamState::kOpen;
    streams[conn].peer = V4("127.0.0.7", 41000);
    streams[conn].peer_len = sizeof(sockaddr_in);
    return conn;
  }
  Client UdpClient() {
    return {.addr = reinterpret_cast<const sockaddr*>(&client_addr),
            .addr_len = sizeof(sockaddr_in),
            .block = 0,
            .start_us = 1000};
  }

  RouteTable routes;
  RelaxedCounter violations;
  RelaxedCounter dropped;
  StreamTable streams{violations};
  TapRecorder recorder{routes, streams, dropped};
  sockaddr_in6 client_addr = V4("127.0.0.9", 40000);
  const std::vector<std::uint8_t> message = {0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
};

TEST_F(TapRecorderTest, NoBlockTapsNoQueue) {
  Load(".:5353 {\n forward . 127.0.0.1:53\n}\n");
  EXPECT_EQ(recorder.queue(), nullptr);
  EXPECT_FALSE(recorder.Taps(0));
}

TEST_F(TapRecorderTest, AUdpClientIsTheInitiatorAndTheListenerTheResponder) {
  Load(".:5353 {\n dnstap /tmp/ringdns-none.sock full\n forward . 127.0.0.1:53\n}\n");
  ASSERT_NE(recorder.queue(), nullptr);
  ASSERT_TRUE(recorder.Taps(0));
  const SockAddr& local = routes.listeners[0].address;
  recorder.ClientQuery(UdpClient(), local, message);
  recorder.ClientResponse(UdpClient(), local, message, 7000);
  const auto records = Drain();
  ASSERT_EQ(records.size(), 2u);
  const TapRecord& query = records[0].first;
  EXPECT_EQ(query.type, MessageType::kClientQuery);
  EXPECT_EQ(query.protocol, Protocol::kUdp);
  EXPECT_EQ(query.query_time_us, 1000);
  EXPECT_EQ(query.response_time_us, 0);  // a query has none
  EXPECT_EQ(Ip(query.query_address), "127.0.0.9#40000");
  EXPECT_EQ(query.response_address.port, 5353);
  EXPECT_EQ(records[0].second, message);  // `full`
  const TapRecord& answer = records[1].first;
  EXPECT_EQ(answer.type, MessageType::kClientResponse);
  EXPECT_EQ(answer.query_time_us, 1000);
  EXPECT_EQ(answer.response_time_us, 7000);
  EXPECT_EQ(dropped.get(), 0u);
}

TEST_F(TapRecorderTest, WithoutFullTheMessageIsLeftOut) {
  Load(".:5353 {\n dnstap /tmp/ringdns-none.sock\n forward . 127.0.0.1:53\n}\n");
  recorder.ClientQuery(UdpClient(), routes.listeners[0].address, message);
  const auto records = Drain();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].second.empty());
}

TEST_F(TapRecorderTest, ATcpClientIsItsConnectionsPeerAndTlsMakesItDot) {
  Load(".:5353 {\n dnstap /tmp/ringdns-none.sock\n forward . 127.0.0.1:53\n}\n");
  const std::uint32_t conn = OpenTcpClient();
  ASSERT_NE(conn, kNoSlot);
  Client client = UdpClient();
  client.conn = conn;
  client.conn_generation = streams[conn].generation;
  const SockAddr& local = routes.listeners[0].address;
  recorder.ClientQuery(client, local, message);
  streams[conn].tls = 0;  // its session's slot
  recorder.ClientQuery(client, local, message);
  // The connection went away and its slot was taken again: its address is not this client's.
  streams[conn].tls = kNoTls;
  streams.Recycle(conn);
  recorder.ClientResponse(client, local, message, 6000);
  const auto records = Drain();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].first.protocol, Protocol::kTcp);
  EXPECT_EQ(Ip(records[0].first.query_address), "127.0.0.7#41000");
  EXPECT_EQ(records[1].first.protocol, Protocol::kDot);
  EXPECT_EQ(Ip(records[2].first.query_address), "unknown");
  EXPECT_EQ(violations.get(), 0u);
}

TEST_F(TapRecorderTest, AForwarderRecordNamesTheUpstreamAsResponderAndItsTransport) {
  Load(
      ".:5353 {\n dnstap /tmp/ringdns-none.sock full\n"
      " forward . 127.0.0.2:5300 127.0.0.3:5301\n}\n");
  InflightSlot slot;
  slot.forward = &routes.blocks[0].forwards[0];
  slot.client = client_addr;
  slot.client_len = sizeof(sockaddr_in);
  slot.upstream = 1;
  slot.sent_us = 1500;  // the attempt went out; the record is made a little after
  recorder.ForwarderQuery(slot, message, 2000);
  slot.tcp_upstream = true;
  // An answer counts from the upstream it came from, which need not be slot.upstream
  // (a hedge's first attempt answering late).
  recorder.ForwarderResponse(slot, 0, message, 2500);
  const auto records = Drain();
  ASSERT_EQ(records.size(), 2u);
  const TapRecord& query = records[0].first;
  EXPECT_EQ(query.type, MessageType::kForwarderQuery);
  EXPECT_EQ(query.protocol, Protocol::kUdp);
  EXPECT_EQ(query.query_time_us, 2000);
  EXPECT_EQ(query.response_time_us, 0);
  EXPECT_EQ(records[0].second, message);
  EXPECT_EQ(Ip(query.query_address), "127.0.0.9#40000");
  EXPECT_EQ(Ip(query.response_address), "127.0.0.3#5301");
  const TapRecord& answer = records[1].first;
  EXPECT_EQ(answer.type, MessageType::kForwarderResponse);
  EXPECT_EQ(answer.protocol, Protocol::kTcp);
  EXPECT_EQ(answer.query_time_us, 1500);  // when the attempt it answers went out
  EXPECT_EQ(answer.response_time_us, 2500);
  EXPECT_EQ(Ip(answer.response_address), "127.0.0.2#5300");
  EXPECT_EQ(records[1].second, message);
}

TEST_F(TapRecorderTest, ATcpClientsForwardedQueryNamesItsConnectionsPeerAndARefreshNobody) {
  Load(".:5353 {\n dnstap /tmp/ringdns-none.sock\n forward . 127.0.0.2:5300\n}\n");
  const std::uint32_t conn = OpenTcpClient();
  ASSERT_NE(conn, kNoSlot);
  InflightSlot slot;
  slot.forward = &routes.blocks[0].forwards[0];
  slot.conn = conn;
  slot.conn_generation = streams[conn].generation;
  recorder.ForwarderQuery(slot, message, 2000);
  InflightSlot refresh;  // ringdns's own query: no client, no connection
  refresh.forward = &routes.blocks[0].forwards[0];
  recorder.ForwarderQuery(refresh, message, 2000);
  const auto records = Drain();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(Ip(records[0].first.query_address), "127.0.0.7#41000");
  EXPECT_EQ(Ip(records[1].first.query_address), "unknown");
}

TEST_F(TapRecorderTest, EachBlockTapsByItsOwnDirective) {
  // Block 0 does not tap, block 1 taps with `full`, block 2 without: a record goes by
  // the block that took the client's query, or the block of the forward it went to.
  Load(
      "a.example.:5353 {\n forward . 127.0.0.2:5300\n}\n"
      "b.example.:5353 {\n dnstap /tmp/ringdns-none.sock full\n forward . 127.0.0.3:5300\n}\n"
      "c.example.:5353 {\n dnstap /tmp/ringdns-none.sock\n forward . 127.0.0.4:5300\n}\n");
  ASSERT_EQ(routes.blocks.size(), 3u);
  EXPECT_FALSE(recorder.Taps(0));
  EXPECT_TRUE(recorder.Taps(1));
  EXPECT_TRUE(recorder.Taps(2));
  InflightSlot untapped;
  untapped.forward = &routes.blocks[0].forwards[0];
  EXPECT_FALSE(recorder.TapsForward(untapped));
  InflightSlot to_full;
  to_full.forward = &routes.blocks[1].forwards[0];
  EXPECT_TRUE(recorder.TapsForward(to_full));
  InflightSlot to_plain;
  to_plain.forward = &routes.blocks[2].forwards[0];
  Client in_plain = UdpClient();
  in_plain.block = 2;
  recorder.ForwarderQuery(to_full, message, 2000);
  recorder.ForwarderQuery(to_plain, message, 2000);
  recorder.ClientQuery(in_plain, routes.listeners[0].address, message);
  const auto records = Drain();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].first.block, 1);
  EXPECT_EQ(records[0].second, message);
  EXPECT_EQ(records[1].first.block, 2);
  EXPECT_TRUE(records[1].second.empty());
  EXPECT_EQ(records[2].first.block, 2);
  EXPECT_TRUE(records[2].second.empty());
}

TEST_F(TapRecorderTest, AFullQueueDropsAndCountsAndTakesAgainOnceDrained) {
  Load(".:5353 {\n dnstap /tmp/ringdns-none.sock full\n forward . 127.0.0.1:53\n}\n");
  const std::vector<std::uint8_t> large(65535, 0x5a);
  const SockAddr& local = routes.listeners[0].address;
  const std::size_t fits = dnstap::kShardTapQueueBytes / dnstap::TapQueue::RecordSize(large.size());
  for (std::size_t i = 0; i < fits + 3; ++i) {
    recorder.ClientQuery(UdpClient(), local, large);
  }
  EXPECT_EQ(dropped.get(), 3u);
  EXPECT_EQ(Drain().size(), fits);
  recorder.ClientQuery(UdpClient(), local, large);
  EXPECT_EQ(dropped.get(), 3u);
  EXPECT_EQ(Drain().size(), 1u);
}

}  // namespace
}  // namespace ringdns::core
