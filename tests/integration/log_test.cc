// `log` and `errors` seen from the log a running ringdns writes: one CoreDNS line per
// answer of a logged block (names and classes filtered), an errors line for failures
// ringdns answered itself, and consolidation of repeated errors into one summary.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/udp.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

std::string Upstream(const FakeUpstream& u) { return "127.0.0.1:" + std::to_string(u.port()); }

// A scratch file the forwarder logs into.
class LogFile {
 public:
  LogFile() : file_(std::tmpfile()) {}
  ~LogFile() { std::fclose(file_); }
  int fd() const { return fileno(file_); }
  std::string Read() const {
    std::rewind(file_);
    std::string text;
    char chunk[4096];
    while (const std::size_t n = std::fread(chunk, 1, sizeof(chunk), file_)) text.append(chunk, n);
    return text;
  }

 private:
  std::FILE* file_;
};

int CountLines(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  int n = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it)
    ++n;
  return n;
}

void Ask(std::uint16_t port, const std::string& name, std::uint16_t id) {
  UdpClient client;
  client.SendTo(port, MessageBuilder(id, 0x0100).Question(name, 1).bytes());
  ASSERT_TRUE(client.Receive(3s).has_value()) << name;
}

TEST(Log, OneCoreDnsLinePerAnswerOfALoggedName) {
  FakeUpstream up(Behaviour::kAnswer);
  LogFile log;
  {
    Forwarder fwd(
        ".:{PORT} {\n bind 127.0.0.1\n log logged.test\n forward . " + Upstream(up) + "\n}\n", 1,
        1024, log.fd());
    Ask(fwd.port(), "www.Logged.test.", 4660);
    Ask(fwd.port(), "www.other.test.", 4661);
  }
  const std::string text = log.Read();
  EXPECT_EQ(
      CountLines(
          text,
          R"(\[INFO\] 127\.0\.0\.1:\d+ - 4660 "A IN www\.Logged\.test\. udp \d+ false 512" NOERROR qr[a-z,]* \d+ [0-9.]+s\n)"),
      1)
      << text;
  EXPECT_EQ(text.find("other.test"), std::string::npos) << text;
}

TEST(Log, ClassFilterAndErrorsWithConsolidation) {
  FakeUpstream dead(Behaviour::kDrop);
  LogFile log;
  {
    Forwarder fwd(
        ".:{PORT} {\n bind 127.0.0.1\n log . \"{name} {rcode}\" {\n  class error\n }\n"
        " errors {\n  consolidate 1h \"^2 .*timed out\"\n }\n"
        " forward . " +
            Upstream(dead) +
            " {\n  read_timeout 50ms\n  max_connect_attempts 1\n }\n}\n"
            "other.test:{PORT} {\n bind 127.0.0.1\n errors\n forward . " +
            Upstream(dead) + " {\n  read_timeout 50ms\n  max_connect_attempts 1\n }\n}\n",
        1, 1024, log.fd());
    for (std::uint16_t id = 1; id <= 3; ++id)
      Ask(fwd.port(), "q" + std::to_string(id) + ".example.", id);
    Ask(fwd.port(), "x.other.test.", 9);
  }
  const std::string text = log.Read();
  EXPECT_EQ(CountLines(text, R"(\[INFO\] q\d\.example\. SERVFAIL\n)"), 3) << text;
  // Consolidated in the first block, one line each in the second.
  EXPECT_EQ(
      CountLines(
          text,
          R"(\[ERROR\] plugin/errors: 3 errors like '\^2 \.\*timed out' occurred in last 1h\n)"),
      1)
      << text;
  EXPECT_EQ(
      CountLines(
          text,
          R"(\[ERROR\] plugin/errors: 2 x\.other\.test\. A: every attempt to the upstreams timed out or failed\n)"),
      1)
      << text;
  EXPECT_EQ(text.find("plugin/errors: 2 q"), std::string::npos) << text;
}

}  // namespace
}  // namespace ringdns::testing
