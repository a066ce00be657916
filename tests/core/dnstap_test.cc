// dnstap without sockets: the shard's tap queue (records of any size, wrapping, full),
// the encoder against protobuf-c's own decoder, and the `dnstap` directive.
#include <arpa/inet.h>

#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/config/loader.h"
#include "core/descriptors.h"
#include "core/dnstap/encoder.h"
#include "core/dnstap/tap_queue.h"
#include "core/routes.h"
#include "core/shard/shard.h"
#include "dnstap.pb-c.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ringdns::core::dnstap {
namespace {

using ::testing::HasSubstr;

TapRecord RecordFor(std::uint16_t block) {
  TapRecord r;
  r.block = block;
  r.type = MessageType::kClientQuery;
  return r;
}

std::vector<std::uint8_t> Message(std::size_t len, std::uint8_t seed) {
  std::vector<std::uint8_t> m(len);
  for (std::size_t i = 0; i < len; ++i) m[i] = static_cast<std::uint8_t>(seed + i);
  return m;
}

TEST(TapQueue, RecordsOfEverySizeComeOutInOrderAcrossManyWraps) {
  // A small ring, so records wrap every few pushes and leave every size of gap at the
  // end (down to the 8 octets a padding record needs).
  TapQueue queue(4096);
  std::mt19937 rng(7);
  std::uint16_t pushed = 0;
  std::uint16_t drained = 0;
  for (int round = 0; round < 2000; ++round) {
    const int burst = static_cast<int>(rng() % 6);
    for (int i = 0; i < burst; ++i) {
      const std::vector<std::uint8_t> m = Message(rng() % 900, static_cast<std::uint8_t>(pushed));
      if (!queue.Push(RecordFor(pushed), m)) break;
      ++pushed;
    }
    queue.Drain([&](const TapRecord& r) {
      EXPECT_EQ(r.block, drained);
      const std::span<const std::uint8_t> m = r.message();
      for (std::size_t i = 0; i < m.size(); ++i) {
        if (m[i] != static_cast<std::uint8_t>(drained + i)) {
          ADD_FAILURE() << "record " << drained << " octet " << i;
          break;
        }
      }
      ++drained;
      return true;
    });
  }
  EXPECT_EQ(drained, pushed);
  EXPECT_GT(pushed, 3000);
}

TEST(TapQueue, AFullRingRefusesAndTakesAgainOnceDrained) {
  TapQueue queue(4096);
  const std::vector<std::uint8_t> m = Message(1000, 0);
  int taken = 0;
  while (queue.Push(RecordFor(static_cast<std::uint16_t>(taken)), m)) ++taken;
  EXPECT_EQ(taken, 3);  // 3 x 1 080 octets fit in 4 096, a fourth does not
  EXPECT_EQ(queue.Drain([](const TapRecord&) { return true; }), 3u);
  EXPECT_TRUE(queue.Push(RecordFor(9), m));
}

TEST(TapQueue, ARecordTheConsumerRefusesStaysForTheNextDrain) {
  TapQueue queue(4096);
  for (std::uint16_t b = 0; b < 3; ++b) ASSERT_TRUE(queue.Push(RecordFor(b), {}));
  std::vector<std::uint16_t> seen;
  EXPECT_EQ(queue.Drain([&](const TapRecord& r) {
    seen.push_back(r.block);
    return r.block != 1;
  }),
            1u);
  EXPECT_EQ(queue.Drain([&](const TapRecord& r) {
    seen.push_back(r.block);
    return true;
  }),
            2u);
  EXPECT_EQ(seen, (std::vector<std::uint16_t>{0, 1, 1, 2}));
}

TEST(TapQueue, ParkedConsumerIsWokenByThePush) {
  TapQueue queue(4096);
  ASSERT_GE(queue.doorbell(), 0);
  EXPECT_TRUE(queue.Park());  // nothing waits: it may sleep
  ASSERT_TRUE(queue.Push(RecordFor(0), {}));
  std::uint64_t rung = 0;
  EXPECT_EQ(::read(queue.doorbell(), &rung, sizeof(rung)), static_cast<ssize_t>(sizeof(rung)));
  EXPECT_FALSE(queue.Park());  // a record waits
}

TEST(TapQueue, AProducerAndAConsumerThreadAgreeOnEveryOctet) {
  // The shard and the writer thread: TSan checks the hand-over of every record.
  TapQueue queue(1 << 14);
  constexpr std::uint16_t kRecords = 20000;
  std::thread producer([&] {
    std::uint16_t next = 0;
    while (next < kRecords) {
      const std::vector<std::uint8_t> m = Message(next % 700, static_cast<std::uint8_t>(next));
      if (queue.Push(RecordFor(next), m)) ++next;
    }
  });
  std::uint16_t drained = 0;
  bool intact = true;
  while (drained < kRecords) {
    queue.Drain([&](const TapRecord& r) {
      intact = intact && r.block == drained && r.message_len == drained % 700u;
      const std::span<const std::uint8_t> m = r.message();
      for (std::size_t i = 0; i < m.size(); ++i)
        intact = intact && m[i] == static_cast<std::uint8_t>(drained + i);
      ++drained;
      return true;
    });
  }
  producer.join();
  EXPECT_TRUE(intact);
}

struct Decoded {
  explicit Decoded(const Frame& f) : top(dnstap__dnstap__unpack(nullptr, f.size(), f.data())) {}
  ~Decoded() {
    if (top != nullptr) dnstap__dnstap__free_unpacked(top, nullptr);
  }
  Dnstap__Dnstap* top;
};

TapAddress V4(const char* ip, std::uint16_t port) {
  TapAddress a;
  a.family = AF_INET;
  a.port = port;
  ::inet_pton(AF_INET, ip, a.ip);
  return a;
}

TEST(Encoder, ForwarderResponseCarriesEveryFieldDnstapReadShows) {
  alignas(8) std::uint8_t storage[sizeof(TapRecord) + 16] = {};
  auto* r = ::new (storage) TapRecord();
  r->type = MessageType::kForwarderResponse;
  r->protocol = Protocol::kTcp;
  r->query_time_us = 5'000'000;
  r->response_time_us = 5'000'250;
  r->query_address = V4("127.0.0.1", 40000);
  r->response_address = V4("10.1.17.2", 53);
  r->message_len = 16;
  for (int i = 0; i < 16; ++i)
    storage[sizeof(TapRecord) + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  const TapLabels labels{"node-1", "ringdns-test", "extra"};
  const Frame frame =
      Encode(*r, labels, /*full=*/true, /*realtime_offset_us=*/1'700'000'000'000'000);
  Decoded d(frame);
  ASSERT_NE(d.top, nullptr);
  EXPECT_EQ(d.top->type, DNSTAP__DNSTAP__TYPE__MESSAGE);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(d.top->identity.data), d.top->identity.len),
            "node-1");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(d.top->version.data), d.top->version.len),
            "ringdns-test");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(d.top->extra.data), d.top->extra.len), "extra");
  const Dnstap__Message* m = d.top->message;
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->type, DNSTAP__MESSAGE__TYPE__FORWARDER_RESPONSE);
  EXPECT_EQ(m->socket_family, DNSTAP__SOCKET_FAMILY__INET);
  EXPECT_EQ(m->socket_protocol, DNSTAP__SOCKET_PROTOCOL__TCP);
  ASSERT_EQ(m->query_address.len, 4u);
  EXPECT_EQ(m->query_address.data[0], 127);
  EXPECT_EQ(m->query_port, 40000u);
  ASSERT_EQ(m->response_address.len, 4u);
  EXPECT_EQ(m->response_address.data[0], 10);
  EXPECT_EQ(m->response_port, 53u);
  EXPECT_EQ(m->query_time_sec, 1'700'000'005u);
  EXPECT_EQ(m->query_time_nsec, 0u);
  EXPECT_EQ(m->response_time_sec, 1'700'000'005u);
  EXPECT_EQ(m->response_time_nsec, 250'000u);
  EXPECT_FALSE(m->has_query_message);
  ASSERT_TRUE(m->has_response_message);
  ASSERT_EQ(m->response_message.len, 16u);
  EXPECT_EQ(m->response_message.data[15], 15);
}

TEST(Encoder, WithoutFullTheMessageIsLeftOutAndAQueryHasNoResponseTime) {
  alignas(8) std::uint8_t storage[sizeof(TapRecord) + 8] = {};
  auto* r = ::new (storage) TapRecord();
  r->type = MessageType::kClientQuery;
  r->query_address = V4("192.0.2.1", 1);
  r->message_len = 8;
  Decoded d(Encode(*r, TapLabels{}, /*full=*/false, 0));
  ASSERT_NE(d.top, nullptr);
  EXPECT_FALSE(d.top->has_identity);
  EXPECT_FALSE(d.top->message->has_query_message);
  EXPECT_FALSE(d.top->message->has_response_time_sec);
  EXPECT_EQ(d.top->message->socket_protocol, DNSTAP__SOCKET_PROTOCOL__UDP);
  Decoded full(Encode(*r, TapLabels{}, /*full=*/true, 0));
  EXPECT_TRUE(full.top->message->has_query_message);
}

TEST(Encoder, TheLargestMessageFitsAndComesBackWhole) {
  std::vector<std::uint8_t> storage(sizeof(TapRecord) + 65535, 0x77);
  auto* r = ::new (storage.data()) TapRecord();
  r->type = MessageType::kClientResponse;
  r->query_address = V4("192.0.2.1", 1);
  r->response_address = V4("192.0.2.2", 53);
  r->message_len = 65535;
  Decoded d(Encode(*r, TapLabels{std::string(300, 'i'), "v", "e"}, /*full=*/true, 0));
  ASSERT_NE(d.top, nullptr);
  ASSERT_TRUE(d.top->message->has_response_message);
  EXPECT_EQ(d.top->message->response_message.len, 65535u);
  EXPECT_EQ(d.top->message->response_message.data[65534], 0x77);
  EXPECT_EQ(d.top->identity.len, 300u);
}

TEST(Encoder, Ipv6AddressesAreSixteenOctets) {
  TapRecord r;
  r.type = MessageType::kClientResponse;
  r.query_address.family = AF_INET6;
  r.query_address.ip[15] = 1;
  Decoded d(Encode(r, TapLabels{}, false, 0));
  EXPECT_EQ(d.top->message->socket_family, DNSTAP__SOCKET_FAMILY__INET6);
  EXPECT_EQ(d.top->message->query_address.len, 16u);
}

TEST(Encoder, AForwarderMessageHasTheUpstreamsFamilyWhateverTheClients) {
  TapRecord r;
  r.type = MessageType::kForwarderQuery;
  r.query_address.family = AF_INET6;         // the client
  r.response_address = V4("10.1.17.2", 53);  // the upstream
  Decoded d(Encode(r, TapLabels{}, false, 0));
  EXPECT_EQ(d.top->message->socket_family, DNSTAP__SOCKET_FAMILY__INET);
  r.type = MessageType::kClientQuery;  // a client message: the client's family
  Decoded c(Encode(r, TapLabels{}, false, 0));
  EXPECT_EQ(c.top->message->socket_family, DNSTAP__SOCKET_FAMILY__INET6);
}

config::Config MustParse(const std::string& text) {
  absl::StatusOr<config::Config> c = config::ParseCorefile(text, "Corefile", {});
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : config::Config{};
}

std::string ErrorOf(const std::string& text) {
  absl::StatusOr<config::Config> c = config::ParseCorefile(text, "Corefile", {});
  EXPECT_FALSE(c.ok()) << text;
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(DnstapDirective, CoreDnsReadmeExamplesParse) {
  config::Config c = MustParse(".:53 {\n dnstap /tmp/dnstap.sock\n forward . 127.0.0.1\n}\n");
  ASSERT_EQ(c.blocks[0].dnstaps.size(), 1u);
  EXPECT_EQ(c.blocks[0].dnstaps[0].unix_path, "/tmp/dnstap.sock");
  EXPECT_FALSE(c.blocks[0].dnstaps[0].full);
  c = MustParse(".:53 {\n dnstap unix:///tmp/dnstap.sock full\n}\n");
  EXPECT_EQ(c.blocks[0].dnstaps[0].unix_path, "/tmp/dnstap.sock");
  EXPECT_TRUE(c.blocks[0].dnstaps[0].full);
  c = MustParse(".:53 {\n dnstap tcp://127.0.0.1:6000 full\n}\n");
  EXPECT_EQ(c.blocks[0].dnstaps[0].tcp_address.ToString(), "127.0.0.1");
  EXPECT_EQ(c.blocks[0].dnstaps[0].tcp_port, 6000);
  c = MustParse(".:53 {\n dnstap /tmp/dnstap.sock full 1024 2048\n}\n");
  EXPECT_EQ(c.blocks[0].dnstaps[0].writebuffer, 1024u);
  EXPECT_EQ(c.blocks[0].dnstaps[0].queue, 2048u);
  c = MustParse(
      ".:53 {\n dnstap /tmp/dnstap.sock {\n  identity my-dns-server1\n  version MyDNSServer-1.2.3\n"
      "  extra \"some extra\"\n  skipverify\n }\n dnstap tcp://[::1]:6000\n}\n");
  ASSERT_EQ(c.blocks[0].dnstaps.size(), 2u);
  EXPECT_EQ(c.blocks[0].dnstaps[0].identity.value_or(""), "my-dns-server1");
  EXPECT_EQ(c.blocks[0].dnstaps[0].version.value_or(""), "MyDNSServer-1.2.3");
  EXPECT_EQ(c.blocks[0].dnstaps[0].extra, "some extra");
  EXPECT_TRUE(c.blocks[0].dnstaps[0].skipverify);
  EXPECT_EQ(c.blocks[0].dnstaps[1].tcp_address.family, AF_INET6);
}

TEST(DnstapDirective, WhatCoreDnsTakesAndIgnoresIsTakenAndSaid) {
  // CoreDNS's README: "Log to a remote endpoint by FQDN".
  config::Config c = MustParse(".:53 {\n dnstap tcp://Example.com:6000 full\n}\n");
  EXPECT_EQ(c.blocks[0].dnstaps[0].tcp_host, "example.com");
  EXPECT_EQ(c.blocks[0].dnstaps[0].SocketText(), "tcp://example.com:6000");
  EXPECT_TRUE(c.blocks[0].dnstaps[0].notes.empty());
  // Any second argument but `full` means "not full" there; a fifth one is ignored.
  c = MustParse(".:53 {\n dnstap /tmp/d.sock verbose 1 2 3\n}\n");
  EXPECT_FALSE(c.blocks[0].dnstaps[0].full);
  ASSERT_EQ(c.blocks[0].dnstaps[0].notes.size(), 3u);
  EXPECT_THAT(c.blocks[0].dnstaps[0].notes[0],
              HasSubstr("Corefile:2:21: dnstap: 'verbose' is not full"));
  EXPECT_THAT(c.blocks[0].dnstaps[0].notes[1],
              HasSubstr("Corefile:2:33: dnstap: arguments after QUEUE are ignored"));
  EXPECT_THAT(c.blocks[0].dnstaps[0].notes[2],
              HasSubstr("Corefile:2:29: dnstap: WRITEBUFFER and QUEUE are accepted"));
  // CoreDNS expands metadata in extra; ringdns sends it as written, and says so.
  c = MustParse(
      ".:53 {\n dnstap /tmp/d.sock {\n  extra {/forward/upstream}\n  identity \"\"\n }\n}\n");
  ASSERT_EQ(c.blocks[0].dnstaps[0].notes.size(), 1u);
  EXPECT_THAT(c.blocks[0].dnstaps[0].notes[0], HasSubstr("are not expanded"));
  EXPECT_EQ(c.blocks[0].dnstaps[0].identity,
            std::optional<std::string>(""));  // empty, not the host name
  absl::StatusOr<RouteTable> routes = BuildRoutes(c);
  ASSERT_TRUE(routes.ok());
  EXPECT_EQ(routes->warnings, c.blocks[0].dnstaps[0].notes);  // printed at start and reload
}

TEST(DnstapDirective, PrintedFormParsesBackToItself) {
  const config::Config c = MustParse(
      ".:53 {\n dnstap /tmp/d.sock full 8 16 {\n  identity \"a b\"\n  extra x\n }\n dnstap "
      "tcp://[::1]:6000\n"
      " dnstap tcp://dnstap.monitoring.svc:6000 {\n  version \"\"\n }\n dnstap /tmp/e.sock other "
      "4\n}\n");
  const std::string once = config::FormatCorefile(c);
  EXPECT_THAT(once, HasSubstr("dnstap unix:///tmp/d.sock full 8 16 {"));
  EXPECT_THAT(once, HasSubstr("dnstap tcp://[::1]:6000\n"));
  EXPECT_THAT(once, HasSubstr("dnstap tcp://dnstap.monitoring.svc:6000 {\n        version \"\"\n"));
  EXPECT_EQ(config::FormatCorefile(MustParse(once)), once);
}

TEST(DnstapDirective, MistakesSayWhereAndWhatWasExpected) {
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap\n}\n"), HasSubstr("Corefile:2:"));
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap tls://127.0.0.1:6000\n}\n"),
              HasSubstr("dnstap over tls:// is not supported by ringdns"));
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap tcp://bad..name:6000\n}\n"),
              HasSubstr("Corefile:2:9: dnstap: invalid collector host 'bad..name'"));
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap tcp://127.0.0.1\n}\n"), HasSubstr("expected tcp://IP:PORT"));
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap tcp://127.0.0.1:0\n}\n"), HasSubstr("Corefile:2:9:"));
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap https://127.0.0.1:6000\n}\n"),
              HasSubstr("is not supported"));
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap /tmp/d.sock full 0\n}\n"), HasSubstr("Corefile:2:"));
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap /tmp/d.sock full 1 4097\n}\n"), HasSubstr("Corefile:2:"));
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap /tmp/d.sock {\n  identiti x\n }\n}\n"),
              HasSubstr("Corefile:3:3: unknown dnstap option 'identiti'"));
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap /tmp/d.sock {\n  identity\n }\n}\n"),
              HasSubstr("Corefile:3:"));
  EXPECT_THAT(ErrorOf(".:53 {\n dnstap /" + std::string(120, 'x') + "\n}\n"),
              HasSubstr("invalid socket path"));
}

TEST(DnstapDirective, TheShardsBudgetsCountTheTapRing) {
  const std::string forward = " forward . 127.0.0.1:53\n}\n";
  absl::StatusOr<RouteTable> plain = BuildRoutes(MustParse(".:53 {\n" + forward));
  absl::StatusOr<RouteTable> tapped =
      BuildRoutes(MustParse(".:53 {\n dnstap /tmp/d.sock full\n" + forward));
  ASSERT_TRUE(plain.ok() && tapped.ok());
  const ShardOptions options;
  EXPECT_EQ(Shard::MemoryBound(options, *tapped) - Shard::MemoryBound(options, *plain),
            kShardTapQueueBytes);
  EXPECT_EQ(ShardDescriptors(options, *tapped),
            ShardDescriptors(options, *plain) + 1);  // the doorbell
}

}  // namespace
}  // namespace ringdns::core::dnstap
