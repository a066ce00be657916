// The default shard count follows the container's CPU limit (cgroup v2 cpu.max, v1
// cfs quota), never above the CPUs the process may use.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/daemon.h"
#include "testing/fake_cgroup.h"

namespace ringdns::core {
namespace {

using testing::FakeCgroup;

const int kCpus = static_cast<int>(UsableCpus().size());

TEST(DefaultShardCount, OnePerCpuWithoutALimit) {
  FakeCgroup none;
  EXPECT_EQ(DefaultShardCount(none.root()), kCpus);
  FakeCgroup unlimited;
  unlimited.Write("cpu.max", "max 100000\n");
  EXPECT_EQ(DefaultShardCount(unlimited.root()), kCpus);
}

TEST(DefaultShardCount, CgroupV2LimitRoundedUp) {
  FakeCgroup half;
  half.Write("cpu.max", "50000 100000\n");
  EXPECT_EQ(DefaultShardCount(half.root()), 1);
  FakeCgroup many;
  many.Write("cpu.max", "6400000 100000\n");  // 64 cores: capped by the usable CPUs
  EXPECT_EQ(DefaultShardCount(many.root()), std::min(kCpus, 64));
}

TEST(DefaultShardCount, CgroupV1Quota) {
  FakeCgroup v1;
  v1.Write("cpu/cpu.cfs_quota_us", "150000\n");
  v1.Write("cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(DefaultShardCount(v1.root()), std::min(kCpus, 2));
  FakeCgroup v1_unlimited;
  v1_unlimited.Write("cpu/cpu.cfs_quota_us", "-1\n");
  v1_unlimited.Write("cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(DefaultShardCount(v1_unlimited.root()), kCpus);
}

}  // namespace
}  // namespace ringdns::core
