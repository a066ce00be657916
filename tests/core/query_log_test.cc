// `log` and `errors` lines as CoreDNS prints them, the response classes `log { class }`
// filters on, the shard-to-logger queue's full and wrap-around behaviour and its doorbell,
// and the health table's signal to the prober.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <cstring>
#include <string>

#include "core/health.h"
#include "core/log_queue.h"
#include "core/query_logger.h"
#include "testing/message_builder.h"

namespace ringdns::core {
namespace {

LogRecord Record(const std::string& name, std::uint16_t qtype, std::uint16_t flags,
                 std::uint16_t answers) {
  LogRecord r;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&r.remote);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(40812);
  ::inet_pton(AF_INET, "10.0.0.7", &v4->sin_addr);
  const testing::Bytes wire = testing::WireName(name);
  r.qname_len = static_cast<std::uint8_t>(wire.size());
  std::memcpy(r.qname, wire.data(), wire.size());
  r.qtype = qtype;
  r.qclass = 1;
  r.id = 28683;
  r.size = 41;
  r.bufsize = 1232;
  r.do_bit = false;
  r.flags = flags;
  r.answers = answers;
  r.rsize = 68;
  r.duration_us = 211;
  return r;
}

constexpr std::uint16_t kQrRdRa = 0x8180;

TEST(QueryLog, CommonFormatMatchesCoreDns) {
  const config::Log defaults;
  EXPECT_EQ(FormatLogLine(defaults.format, Record("example.org.", 1, kQrRdRa, 1)),
            "10.0.0.7:40812 - 28683 \"A IN example.org. udp 41 false 1232\" NOERROR qr,rd,ra 68 "
            "0.000211s");
  EXPECT_EQ(FormatLogLine("{common}", Record("example.org.", 1, kQrRdRa, 1)),
            FormatLogLine(defaults.format, Record("example.org.", 1, kQrRdRa, 1)));
}

TEST(QueryLog, CombinedAddsTheOpcodeAndUnknownPlaceholdersPrintDash) {
  LogRecord r = Record("Cb-Example-Srv.remote.svc.cluster.local.", 33, kQrRdRa | 3, 0);
  r.tcp = true;
  r.duration_us = 1'500'000;
  EXPECT_EQ(FormatLogLine("{combined}", r),
            "10.0.0.7:40812 - 28683 \"SRV IN Cb-Example-Srv.remote.svc.cluster.local. tcp 41 false "
            "1232\" "
            "NXDOMAIN qr,rd,ra 68 1.5s \"0\"");
  EXPECT_EQ(FormatLogLine("{name} {/meta} {>id", r),
            "Cb-Example-Srv.remote.svc.cluster.local. - {>id");
}

TEST(QueryLog, IPv6ClientsInBracketsAndUnknownTypesByNumber) {
  LogRecord r = Record("x.", 65280, kQrRdRa, 1);
  r.remote = {};
  r.remote.sin6_family = AF_INET6;
  r.remote.sin6_port = htons(53);
  ::inet_pton(AF_INET6, "::1", &r.remote.sin6_addr);
  EXPECT_EQ(FormatLogLine("{remote}:{port} {type} {>rflags}", r), "[::1]:53 TYPE65280 qr,rd,ra");
}

TEST(QueryLog, ErrorMessagesName) {
  LogRecord r = Record("example.org.", 1, kQrRdRa | 2, 0);
  r.error = LogError::kNoHealthyUpstreams;
  EXPECT_EQ(FormatErrorMessage(r), "2 example.org. A: no healthy upstreams");
}

TEST(QueryLog, ClassesFollowCoreDns) {
  using C = config::LogClass;
  const LogRecord answer = Record("a.", 1, kQrRdRa, 1);
  const LogRecord nodata = Record("a.", 1, kQrRdRa, 0);
  const LogRecord nxdomain = Record("a.", 1, kQrRdRa | 3, 0);
  const LogRecord servfail = Record("a.", 1, kQrRdRa | 2, 0);
  EXPECT_TRUE(LogClassTakes({C::kSuccess}, answer));
  EXPECT_FALSE(LogClassTakes({C::kSuccess}, nodata));
  EXPECT_TRUE(LogClassTakes({C::kDenial}, nodata));
  EXPECT_TRUE(LogClassTakes({C::kDenial}, nxdomain));
  EXPECT_FALSE(LogClassTakes({C::kDenial, C::kSuccess}, servfail));
  EXPECT_TRUE(LogClassTakes({C::kError}, servfail));
  EXPECT_TRUE(LogClassTakes({C::kAll}, servfail));
}

TEST(LogQueue, FullRingDropsAndDrainingMakesRoomAcrossTheWrap) {
  LogQueue queue(4);
  for (std::uint16_t i = 0; i < 4; ++i) {
    LogRecord* r = queue.Reserve();
    ASSERT_NE(r, nullptr);
    r->id = i;
    queue.Commit();
  }
  EXPECT_EQ(queue.Reserve(), nullptr);
  std::uint16_t expected = 0;
  EXPECT_EQ(queue.Drain([&](const LogRecord& r) { EXPECT_EQ(r.id, expected++); }), 4u);
  for (std::uint16_t i = 4; i < 7; ++i) {
    LogRecord* r = queue.Reserve();
    ASSERT_NE(r, nullptr);
    r->id = i;
    queue.Commit();
  }
  EXPECT_EQ(queue.Drain([&](const LogRecord& r) { EXPECT_EQ(r.id, expected++); }), 3u);
  EXPECT_EQ(queue.Drain([](const LogRecord&) { FAIL(); }), 0u);
}

// Whether `fd` is readable right now.
bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(LogQueue, AParkedConsumerIsRungOnceByTheNextRecordAndNotWhileRecordsWait) {
  LogQueue queue(4);
  ASSERT_GE(queue.doorbell(), 0);
  queue.Reserve();
  queue.Commit();  // nobody parked: no ring
  EXPECT_FALSE(Readable(queue.doorbell()));
  EXPECT_FALSE(queue.Park());  // a record waits: do not sleep
  queue.Drain([](const LogRecord&) {});
  queue.Unring();
  ASSERT_TRUE(queue.Park());  // empty: sleep, and be rung
  EXPECT_FALSE(Readable(queue.doorbell()));
  queue.Reserve();
  queue.Commit();
  EXPECT_TRUE(Readable(queue.doorbell()));
  queue.Unring();
  EXPECT_FALSE(Readable(queue.doorbell()));
  queue.Reserve();
  queue.Commit();  // rung once per park, not per record
  EXPECT_FALSE(Readable(queue.doorbell()));
}

TEST(HealthTable, MarkingAnUpstreamDownWakesThePoller) {
  HealthTable health(2);
  ASSERT_GE(health.marked_down_fd(), 0);
  EXPECT_FALSE(health.Failure(0, 2));
  EXPECT_FALSE(health.Failure(0, 2));
  EXPECT_FALSE(Readable(health.marked_down_fd()));  // not yet down
  EXPECT_TRUE(health.Failure(0, 2));
  EXPECT_TRUE(Readable(health.marked_down_fd()));
  health.DrainMarkedDown();
  EXPECT_FALSE(health.Failure(0, 2));  // already down: no second signal
  EXPECT_FALSE(Readable(health.marked_down_fd()));
  health.Restore(1, 3, true);  // a reload's (or a test's) marking signals too
  EXPECT_TRUE(Readable(health.marked_down_fd()));
}

}  // namespace
}  // namespace ringdns::core
