// The control thread's reloads without a daemon: a Corefile and TLS files in a scratch
// folder, the clock passed in, and hooks that record what would have been applied.
#include "core/ops/reload_watch.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace ringdns::core {
namespace {

struct Line {
  std::string text;
  bool error;
};

class ReloadWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ringdns-reload-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    corefile_ = dir_ + "/Corefile";
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  // A Corefile forwarding to `upstream`, with `extra` directives in its block.
  void WriteCorefile(const std::string& upstream, const std::string& extra = "") {
    Write(corefile_, ".:5399 {\n  forward . " + upstream + "\n" + extra + "}\n");
  }
  std::unique_ptr<ReloadWatch> Start(bool unnamed = false) {
    absl::StatusOr<config::Config> config = config::LoadCorefile(corefile_);
    if (!config.ok() && !unnamed) ADD_FAILURE() << config.status();
    return std::make_unique<ReloadWatch>(
        ReloadWatch::Options{.corefile_path = corefile_, .unnamed = unnamed, .load = {}},
        config.ok() ? *config : config::Config{},
        ReloadWatch::Hooks{.apply =
                               [this](const config::Config& next) {
                                 applied_.push_back(next);
                                 return refuse_ ? absl::FailedPreconditionError("the daemon says no") : absl::OkStatus();
                               },
                           .count_failure = [this] { ++failures_; },
                           .log = [this](const std::string& text, bool error) { lines_.push_back({text, error}); }},
        t0_);
  }
  static int PortOf(const config::Config& c) { return c.blocks.at(0).forwards.at(0).to.at(0).port; }

  std::string dir_, corefile_;
  const absl::Time t0_ = absl::FromUnixSeconds(1'000'000);
  std::vector<config::Config> applied_;
  std::vector<Line> lines_;
  int failures_ = 0;
  bool refuse_ = false;
};

TEST_F(ReloadWatchTest, ASignalReloadsTheEditedCorefileAndNothingIsCheckedWithoutTheReloadPlugin) {
  WriteCorefile("127.0.0.1:5301");
  auto watch = Start();
  WriteCorefile("127.0.0.1:5302");
  watch->Tick(t0_ + absl::Hours(24));  // no `reload`: never checked
  EXPECT_TRUE(applied_.empty());
  watch->ReloadNow("SIGHUP", t0_ + absl::Hours(24));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(applied_[0]), 5302);
  EXPECT_EQ(PortOf(watch->running()), 5302);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].text, "SIGHUP: reloaded " + corefile_);
  EXPECT_FALSE(lines_[0].error);
}

TEST_F(ReloadWatchTest, TheReloadPluginChecksEachIntervalAndReloadsOnlyOnAChange) {
  WriteCorefile("127.0.0.1:5301", "  reload 10s 1s\n");
  auto watch = Start();
  watch->Tick(t0_ + absl::Seconds(60));  // due, unchanged
  EXPECT_TRUE(applied_.empty());
  WriteCorefile("127.0.0.1:5302", "  reload 10s 1s\n");
  watch->Tick(t0_ + absl::Seconds(61));  // changed, but the next check is 10 to 11 s on
  EXPECT_TRUE(applied_.empty());
  watch->Tick(t0_ + absl::Seconds(72));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(applied_[0]), 5302);
  EXPECT_EQ(lines_.back().text, "reload (the Corefile changed): reloaded " + corefile_);
  watch->Tick(t0_ + absl::Seconds(120));  // what was applied is the new baseline
  EXPECT_EQ(applied_.size(), 1u);
}

TEST_F(ReloadWatchTest, ABadCorefileIsReportedWithItsPositionAndTheRunningOneStays) {
  WriteCorefile("127.0.0.1:5301", "  reload 10s 1s\n");
  auto watch = Start();
  Write(corefile_, ".:5399 {\n  forward . 127.0.0.1:5302\n  reload 10s 1s\n  no_such_plugin\n}\n");
  watch->Tick(t0_ + absl::Seconds(30));
  EXPECT_TRUE(applied_.empty());
  EXPECT_EQ(failures_, 1);
  ASSERT_FALSE(lines_.empty());
  EXPECT_TRUE(lines_.back().error);
  EXPECT_NE(lines_.back().text.find("reload failed, still serving the previous configuration"), std::string::npos);
  EXPECT_NE(lines_.back().text.find("Corefile:4:"), std::string::npos) << lines_.back().text;
  EXPECT_EQ(PortOf(watch->running()), 5301);
  // Fixed: the next check sees it differ from the bad one it last saw, and applies it.
  WriteCorefile("127.0.0.1:5303", "  reload 10s 1s\n");
  watch->Tick(t0_ + absl::Seconds(60));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(watch->running()), 5303);
}

TEST_F(ReloadWatchTest, ACertificateRenewedInPlaceIsTakenUp) {
  Write(dir_ + "/tls.crt", "certificate 1");
  Write(dir_ + "/tls.key", "key 1");
  WriteCorefile("tls://127.0.0.1:853 {\n    tls " + dir_ + "/tls.crt " + dir_ + "/tls.key\n    tls_servername dns.example\n  }", "  reload 10s 1s\n");
  auto watch = Start();
  Write(dir_ + "/tls.key", "key 2");  // the Corefile is the same
  watch->Tick(t0_ + absl::Seconds(30));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(lines_.back().text, "reload (a certificate, key or CA file changed): reloaded " + corefile_);
}

TEST_F(ReloadWatchTest, ARefusedConfigurationIsLoggedAndNotTakenAsRunning) {
  WriteCorefile("127.0.0.1:5301");
  auto watch = Start();
  WriteCorefile("127.0.0.1:5302");
  refuse_ = true;
  watch->ReloadNow("SIGUSR1", t0_);
  EXPECT_EQ(applied_.size(), 1u);
  EXPECT_EQ(failures_, 0);  // counted by the daemon itself
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_TRUE(lines_[0].error);
  EXPECT_EQ(lines_[0].text,
            "SIGUSR1: reload failed, still serving the previous configuration: the daemon says no");
  EXPECT_EQ(PortOf(watch->running()), 5301);
}

TEST_F(ReloadWatchTest, OnTheBuiltInDefaultThereIsNothingToReloadUntilACorefileAppears) {
  auto watch = Start(/*unnamed=*/true);  // no ./Corefile
  watch->ReloadNow("SIGHUP", t0_);
  EXPECT_TRUE(applied_.empty());
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].text, "SIGHUP: running on the built-in default Corefile; nothing to reload");
  WriteCorefile("127.0.0.1:5302");
  watch->ReloadNow("SIGHUP", t0_);
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(watch->running()), 5302);
}

}  // namespace
}  // namespace ringdns::core
