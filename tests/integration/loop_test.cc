// `loop`: a forwarding loop is found at start-up and ringdns refuses to run, naming the
// zone and the query; without a loop it starts, its probe asked upstream once.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "integration/forwarder.h"
#include "testing/udp.h"

namespace ringdns::testing {
namespace {

TEST(Loop, ForwardingToItselfIsRefusedAtStartUp) {
  try {
    Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n loop\n forward . 127.0.0.1:{PORT}\n}\n");
    FAIL() << "started despite the loop";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("test/Corefile:1:1: forwarding loop detected for zone \".\""),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("HINFO"), std::string::npos) << message;
  }
}

TEST(Loop, WithoutALoopItStartsAndTheProbeWentUpstreamOnce) {
  FakeUpstream up(Behaviour::kAnswer);
  Forwarder fwd(".:{PORT} {\n bind 127.0.0.1\n loop\n forward . 127.0.0.1:" +
                std::to_string(up.port()) + "\n}\n");
  EXPECT_EQ(up.queries(), 1);
}

TEST(Loop, SeveralBlocksWithoutALoopStart) {
  // Regression: each block's probe was counted together, so two blocks with `loop`
  // looked like one probe received twice.
  FakeUpstream up(Behaviour::kAnswer);
  const std::string to = "127.0.0.1:" + std::to_string(up.port());
  Forwarder fwd("remote.test:{PORT} {\n bind 127.0.0.1\n loop\n forward . " + to +
                "\n}\n"
                ".:{PORT} {\n bind 127.0.0.1\n loop\n forward . " +
                to + "\n}\n");
  EXPECT_EQ(up.queries(), 2);
}

TEST(Loop, OnlyTheLoopingBlockIsNamed) {
  FakeUpstream up(Behaviour::kAnswer);
  try {
    Forwarder fwd("remote.test:{PORT} {\n bind 127.0.0.1\n loop\n forward . 127.0.0.1:" +
                  std::to_string(up.port()) +
                  "\n}\n.:{PORT} {\n bind 127.0.0.1\n loop\n forward . 127.0.0.1:{PORT}\n}\n");
    FAIL() << "started despite the loop";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("test/Corefile:6:1: forwarding loop detected for zone \".\""),
        std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ringdns::testing
