// A shard's error lines, read back from a pipe: a limited line at most once a second, the
// lines held back counted into the next line written, rare events always written.
#include "core/ops/error_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <string>

namespace ringdns::core {
namespace {

class ErrorLogTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::pipe2(fds_, O_NONBLOCK), 0); }
  void TearDown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  std::string Written() {
    std::string out;
    char chunk[512];
    for (ssize_t n; (n = ::read(fds_[0], chunk, sizeof chunk)) > 0;)
      out.append(chunk, static_cast<std::size_t>(n));
    return out;
  }
  int fds_[2] = {-1, -1};
};

TEST_F(ErrorLogTest, ALimitedLineAtMostOnceASecondTheRestCountedIntoTheNext) {
  ErrorLog log(3, fds_[1]);
  log.Limited(5000, "handshake failed: ", 1);
  log.Limited(5100, "handshake failed: ", 2);
  log.Limited(5999, "handshake failed: ", 3);
  EXPECT_EQ(Written(), "[ERROR] shard 3: handshake failed: 1\n");
  EXPECT_EQ(log.held_back(), 2u);
  log.Limited(6000, "handshake failed: ", 4);
  EXPECT_EQ(Written(), "[ERROR] shard 3: handshake failed: 4 (and 2 more in the last second)\n");
  EXPECT_EQ(log.held_back(), 0u);
}

TEST_F(ErrorLogTest, ARareEventIsAlwaysWrittenAndCarriesTheCountHeldBack) {
  ErrorLog log(0, fds_[1]);
  log.Limited(0, "first");
  log.Limited(10, "second");
  log.Write("upstream 127.0.0.1:53 answers FORMERR to a DNS cookie");
  log.Write("upstream 127.0.0.1:54 answers FORMERR to a DNS cookie");
  EXPECT_EQ(Written(),
            "[ERROR] shard 0: first\n"
            "[ERROR] shard 0: upstream 127.0.0.1:53 answers FORMERR to a DNS cookie (and 1 more "
            "in the last second)\n"
            "[ERROR] shard 0: upstream 127.0.0.1:54 answers FORMERR to a DNS cookie\n");
  log.Limited(500, "third");  // the limit still counts from the last limited line
  EXPECT_EQ(Written(), "");
  EXPECT_EQ(log.held_back(), 1u);
}

}  // namespace
}  // namespace ringdns::core
