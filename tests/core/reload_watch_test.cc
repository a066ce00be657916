// The control thread's reloads without a daemon: a Corefile and TLS files in a scratch
// folder, the clock passed in, and hooks that record what would have been applied.
#include "core/ops/reload_watch.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
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
                                 now_ += apply_takes_;
                                 if (on_apply_) on_apply_();
                                 return refuse_
                                            ? absl::FailedPreconditionError("the daemon says no")
                                            : absl::OkStatus();
                               },
                           .count_failure = [this] { ++failures_; },
                           .log =
                               [this](const std::string& text, bool error) {
                                 lines_.push_back({text, error});
                               },
                           .now = [this] { return now_; }});
  }
  // The control loop's tick, or a signal, at `since` past the start.
  void Tick(ReloadWatch& watch, absl::Duration since) {
    now_ = t0_ + since;
    watch.Tick();
  }
  void Signal(ReloadWatch& watch, const char* why, absl::Duration since) {
    now_ = t0_ + since;
    watch.ReloadNow(why);
  }
  static int PortOf(const config::Config& c) { return c.blocks.at(0).forwards.at(0).to.at(0).port; }

  std::string dir_, corefile_;
  const absl::Time t0_ = absl::FromUnixSeconds(1'000'000);
  absl::Time now_ = t0_;
  absl::Duration apply_takes_ = absl::ZeroDuration();
  std::function<void()> on_apply_;  // while the daemon applies a configuration
  std::vector<config::Config> applied_;
  std::vector<Line> lines_;
  int failures_ = 0;
  bool refuse_ = false;
};

TEST_F(ReloadWatchTest, ASignalReloadsTheEditedCorefileAndNothingIsCheckedWithoutTheReloadPlugin) {
  WriteCorefile("127.0.0.1:5301");
  auto watch = Start();
  WriteCorefile("127.0.0.1:5302");
  Tick(*watch, absl::Hours(24));  // no `reload`: never checked
  EXPECT_TRUE(applied_.empty());
  Signal(*watch, "SIGHUP", absl::Hours(24));
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
  Tick(*watch, absl::Seconds(60));  // due, unchanged
  EXPECT_TRUE(applied_.empty());
  WriteCorefile("127.0.0.1:5302", "  reload 10s 1s\n");
  Tick(*watch, absl::Seconds(61));  // changed, but the next check is 10 to 11 s on
  EXPECT_TRUE(applied_.empty());
  Tick(*watch, absl::Seconds(72));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(applied_[0]), 5302);
  EXPECT_EQ(lines_.back().text, "reload (the Corefile changed): reloaded " + corefile_);
  Tick(*watch, absl::Seconds(120));  // what was applied is the new baseline
  EXPECT_EQ(applied_.size(), 1u);
}

TEST_F(ReloadWatchTest, ABadCorefileIsReportedWithItsPositionAndTheRunningOneStays) {
  WriteCorefile("127.0.0.1:5301", "  reload 10s 1s\n");
  auto watch = Start();
  Write(corefile_, ".:5399 {\n  forward . 127.0.0.1:5302\n  reload 10s 1s\n  no_such_plugin\n}\n");
  Tick(*watch, absl::Seconds(30));
  EXPECT_TRUE(applied_.empty());
  EXPECT_EQ(failures_, 1);
  ASSERT_FALSE(lines_.empty());
  EXPECT_TRUE(lines_.back().error);
  EXPECT_NE(lines_.back().text.find("reload failed, still serving the previous configuration"),
            std::string::npos);
  EXPECT_NE(lines_.back().text.find("Corefile:4:"), std::string::npos) << lines_.back().text;
  EXPECT_EQ(PortOf(watch->running()), 5301);
  // Fixed: the next check sees it differ from the bad one it last saw, and applies it.
  // Unchanged since: not loaded (nor reported) again each interval.
  const std::size_t reported = lines_.size();
  Tick(*watch, absl::Seconds(45));
  EXPECT_EQ(failures_, 1);
  EXPECT_EQ(lines_.size(), reported);
  WriteCorefile("127.0.0.1:5303", "  reload 10s 1s\n");
  Tick(*watch, absl::Seconds(60));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(watch->running()), 5303);
}

TEST_F(ReloadWatchTest, ASignalledReloadThatAddsTheReloadPluginStartsItsChecks) {
  WriteCorefile("127.0.0.1:5301");
  auto watch = Start();
  WriteCorefile("127.0.0.1:5302", "  reload 10s 1s\n");
  Signal(*watch, "SIGHUP", absl::Seconds(1));
  ASSERT_EQ(applied_.size(), 1u);
  Tick(*watch, absl::Seconds(13));  // due; what the signal loaded is the baseline
  EXPECT_EQ(applied_.size(), 1u);
  WriteCorefile("127.0.0.1:5303", "  reload 10s 1s\n");
  Tick(*watch, absl::Seconds(25));
  ASSERT_EQ(applied_.size(), 2u);
  EXPECT_EQ(PortOf(watch->running()), 5303);
}

TEST_F(ReloadWatchTest, AReloadThatNamesOtherTlsFilesIsNotFollowedByASecondOne) {
  WriteCorefile("127.0.0.1:5301", "  reload 10s 1s\n");
  auto watch = Start();
  Write(dir_ + "/tls.crt", "certificate");
  Write(dir_ + "/tls.key", "key");
  WriteCorefile("tls://127.0.0.1:853 {\n    tls " + dir_ + "/tls.crt " + dir_ +
                    "/tls.key\n    tls_servername dns.example\n  }",
                "  reload 10s 1s\n");
  Tick(*watch, absl::Seconds(12));
  ASSERT_EQ(applied_.size(), 1u);
  Tick(*watch, absl::Seconds(30));  // nothing changed since the reload
  EXPECT_EQ(applied_.size(), 1u) << lines_.back().text;
}

TEST_F(ReloadWatchTest, ACorefileWrittenWhileAReloadIsAppliedIsReloadedAtTheNextCheck) {
  WriteCorefile("127.0.0.1:5301", "  reload 10s 1s\n");
  auto watch = Start();
  WriteCorefile("127.0.0.1:5302", "  reload 10s 1s\n");
  on_apply_ = [this] { WriteCorefile("127.0.0.1:5304", "  reload 10s 1s\n"); };
  Tick(*watch, absl::Seconds(12));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(applied_[0]), 5302);
  on_apply_ = nullptr;
  Tick(*watch, absl::Seconds(30));
  ASSERT_EQ(applied_.size(), 2u);
  EXPECT_EQ(PortOf(watch->running()), 5304);
}

TEST_F(ReloadWatchTest, TheNextCheckIsAnIntervalAfterASlowReloadEnds) {
  WriteCorefile("127.0.0.1:5301", "  reload 10s 1s\n");
  auto watch = Start();
  apply_takes_ = absl::Seconds(15);  // a reload that waits for shards to stop
  WriteCorefile("127.0.0.1:5302", "  reload 10s 1s\n");
  Tick(*watch, absl::Seconds(12));  // reloads until 27 s
  ASSERT_EQ(applied_.size(), 1u);
  WriteCorefile("127.0.0.1:5303", "  reload 10s 1s\n");
  Tick(*watch, absl::Seconds(30));
  EXPECT_EQ(applied_.size(), 1u);  // not before 37 s
  Tick(*watch, absl::Seconds(39));
  EXPECT_EQ(applied_.size(), 2u);
}

TEST_F(ReloadWatchTest, ACertificateRenewedInPlaceIsTakenUp) {
  Write(dir_ + "/tls.crt", "certificate 1");
  Write(dir_ + "/tls.key", "key 1");
  WriteCorefile("tls://127.0.0.1:853 {\n    tls " + dir_ + "/tls.crt " + dir_ +
                    "/tls.key\n    tls_servername dns.example\n  }",
                "  reload 10s 1s\n");
  auto watch = Start();
  Write(dir_ + "/tls.key", "key 2");  // the Corefile is the same
  Tick(*watch, absl::Seconds(30));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(lines_.back().text,
            "reload (a certificate, key or CA file changed): reloaded " + corefile_);
}

TEST_F(ReloadWatchTest, ARefusedConfigurationIsLoggedAndNotTakenAsRunning) {
  WriteCorefile("127.0.0.1:5301");
  auto watch = Start();
  WriteCorefile("127.0.0.1:5302");
  refuse_ = true;
  Signal(*watch, "SIGUSR1", absl::ZeroDuration());
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
  Signal(*watch, "SIGHUP", absl::ZeroDuration());
  EXPECT_TRUE(applied_.empty());
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].text, "SIGHUP: running on the built-in default Corefile; nothing to reload");
  WriteCorefile("127.0.0.1:5302");
  Signal(*watch, "SIGHUP", absl::ZeroDuration());
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(watch->running()), 5302);
}

TEST_F(ReloadWatchTest, AnEditedHostsFileReappliesTheRunningConfigurationAfterItsInterval) {
  const std::string hosts = dir_ + "/hosts";
  Write(hosts, "10.0.0.1 a.example.\n");
  WriteCorefile("127.0.0.1:5301", "  hosts " + hosts + " {\n    reload 2s\n  }\n");
  auto watch = Start();
  EXPECT_EQ(watch->next_check(), t0_ + absl::Seconds(2));
  Tick(*watch, absl::Seconds(2));  // due, unchanged
  EXPECT_TRUE(applied_.empty());
  Write(hosts, "10.0.0.2 a.example.\n");
  Tick(*watch, absl::Seconds(3));  // changed, the next check is at 4 s
  EXPECT_TRUE(applied_.empty());
  Tick(*watch, absl::Seconds(4));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(applied_[0]), 5301);  // the running configuration, again
  EXPECT_EQ(lines_.back().text, "hosts file " + hosts + " changed: reloading");
  Tick(*watch, absl::Seconds(6));  // what was applied is the new baseline
  EXPECT_EQ(applied_.size(), 1u);
  // A file that goes away keeps its entries, as in CoreDNS (a ConfigMap's files are
  // swapped); once back with other bytes it is taken up.
  std::remove(hosts.c_str());
  Tick(*watch, absl::Seconds(8));
  EXPECT_EQ(applied_.size(), 1u);
  Write(hosts, "10.0.0.3 a.example.\n");
  Tick(*watch, absl::Seconds(10));
  EXPECT_EQ(applied_.size(), 2u);
}

TEST_F(ReloadWatchTest, AHostsReapplyThatFailsIsTriedAgainAtTheNextCheck) {
  // The daemon refused the re-apply (a descriptor limit, a half-rotated key): the edit
  // is not taken as served, so the next check applies it again.
  const std::string hosts = dir_ + "/hosts";
  Write(hosts, "10.0.0.1 a.example.\n");
  WriteCorefile("127.0.0.1:5301", "  hosts " + hosts + " {\n    reload 2s\n  }\n");
  auto watch = Start();
  Write(hosts, "10.0.0.2 a.example.\n");
  refuse_ = true;
  Tick(*watch, absl::Seconds(2));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_TRUE(lines_.back().error);
  refuse_ = false;
  Tick(*watch, absl::Seconds(4));  // the file is as it was at the failed try
  EXPECT_EQ(applied_.size(), 2u);
  Tick(*watch, absl::Seconds(6));
  EXPECT_EQ(applied_.size(), 2u);
}

TEST_F(ReloadWatchTest, AHostsCheckNeverTakesUpAnEditedCorefileWithoutTheReloadPlugin) {
  const std::string hosts = dir_ + "/hosts";
  Write(hosts, "10.0.0.1 a.example.\n");
  const std::string block = "  hosts " + hosts + " {\n    reload 1s\n  }\n";
  WriteCorefile("127.0.0.1:5301", block);
  auto watch = Start();
  WriteCorefile("127.0.0.1:5302", block);
  Tick(*watch, absl::Seconds(1));
  EXPECT_TRUE(applied_.empty());
  Write(hosts, "10.0.0.2 a.example.\n");
  Tick(*watch, absl::Seconds(2));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(applied_[0]), 5301);  // the running one, not the edited Corefile
  EXPECT_EQ(PortOf(watch->running()), 5301);
}

TEST_F(ReloadWatchTest, WithTheReloadPluginAnEditedCorefileIsReloadedAtItsOwnInterval) {
  const std::string hosts = dir_ + "/hosts";
  Write(hosts, "10.0.0.1 a.example.\n");
  const std::string block = "  reload 10s 1s\n  hosts " + hosts + " {\n    reload 1s\n  }\n";
  WriteCorefile("127.0.0.1:5301", block);
  auto watch = Start();
  EXPECT_EQ(watch->next_check(), t0_ + absl::Seconds(1));
  WriteCorefile("127.0.0.1:5302", block);
  Tick(*watch, absl::Seconds(1));  // a hosts check: the Corefile waits for its own
  Tick(*watch, absl::Seconds(5));
  EXPECT_TRUE(applied_.empty());
  Tick(*watch, absl::Seconds(12));
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(applied_[0]), 5302);
  EXPECT_EQ(lines_.back().text, "reload (the Corefile changed): reloaded " + corefile_);
  Tick(*watch, absl::Seconds(13));  // the hosts file did not change meanwhile
  EXPECT_EQ(applied_.size(), 1u);
}

TEST_F(ReloadWatchTest, AHostsReloadOfZeroIsNeverChecked) {
  const std::string hosts = dir_ + "/hosts";
  Write(hosts, "10.0.0.1 a.example.\n");
  WriteCorefile("127.0.0.1:5301", "  hosts " + hosts + " {\n    reload 0\n  }\n");
  auto watch = Start();
  EXPECT_EQ(watch->next_check(), absl::InfiniteFuture());
  Write(hosts, "10.0.0.2 a.example.\n");
  Tick(*watch, absl::Hours(1));
  EXPECT_TRUE(applied_.empty());
}

TEST_F(ReloadWatchTest, AHostsFileEditedWithABadCorefileIsStillTakenUpAfterTheFailedReload) {
  const std::string hosts = dir_ + "/hosts";
  Write(hosts, "10.0.0.1 a.example.\n");
  const std::string block = "  reload 10s 1s\n  hosts " + hosts + " {\n    reload 1s\n  }\n";
  WriteCorefile("127.0.0.1:5301", block);
  auto watch = Start();
  Write(corefile_, ".:5399 {\n  forward . 127.0.0.1:5302\n" + block + "  no_such_plugin\n}\n");
  Write(hosts, "10.0.0.2 a.example.\n");
  Tick(*watch, absl::Seconds(12));  // both due: the Corefile's reload fails
  EXPECT_TRUE(applied_.empty());
  EXPECT_EQ(failures_, 1);
  Tick(*watch, absl::Seconds(13));  // the hosts change was not taken: it is now
  ASSERT_EQ(applied_.size(), 1u);
  EXPECT_EQ(PortOf(applied_[0]), 5301);
  EXPECT_EQ(lines_.back().text, "hosts file " + hosts + " changed: reloading");
}

}  // namespace
}  // namespace ringdns::core
