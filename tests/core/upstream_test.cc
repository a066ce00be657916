// Choosing an upstream and timing an attempt, without a socket: the RFC 6298 estimator's
// arithmetic, the selector's policies around upstreams that are down, and how upstream
// connections are pooled and back off, and each shard's share of max_concurrent.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <vector>

#include "core/base/random.h"
#include "core/health.h"
#include "core/routes.h"
#include "core/upstream/case_randomization.h"
#include "core/upstream/connection_pools.h"
#include "core/upstream/forward_concurrency.h"
#include "core/upstream/port_rotation.h"
#include "core/upstream/rtt_estimator.h"
#include "core/upstream/selector.h"

namespace ringdns::core {
namespace {

using Cases = CaseRandomization;
using Fold = CaseRandomization::Fold;

TEST(CaseRandomization, TwoFoldsForOneQuerySendItOverTcpAndANeverEchoingUpstreamPlainForAWhile) {
  Cases cases(true, 3);
  CaseFolds folds;
  EXPECT_TRUE(cases.Randomizes(1, 1000));
  EXPECT_EQ(cases.Folded(1, folds, 1000), Fold::kAskAgain);  // one fold proves nothing
  EXPECT_TRUE(cases.Randomizes(1, 1000));
  EXPECT_EQ(cases.Folded(1, folds, 1000), Fold::kAskOverTcpFellBack);  // the caller logs it
  EXPECT_FALSE(cases.Randomizes(1, 1000));                             // every query to it
  EXPECT_TRUE(cases.Randomizes(0, 1000));                              // the others keep it
  // Another query's two folds find it plain already: nothing new to log.
  CaseFolds other;
  cases.Folded(1, other, 2000);
  EXPECT_EQ(cases.Folded(1, other, 2000), Fold::kAskOverTcp);
  EXPECT_FALSE(cases.Randomizes(1, 1000 + Cases::kPlainForMs - 1));
  EXPECT_TRUE(cases.Randomizes(1, 1000 + Cases::kPlainForMs));  // tried again
}

TEST(CaseRandomization, FoldsByDifferentUpstreamsOfOneQueryDoNotAddUp) {
  // A forger racing a query's attempt to one upstream, then its retry to another, lands
  // one fold on each: neither falls back, and both are asked spelled again.
  Cases cases(true, 3);
  CaseFolds folds;
  EXPECT_EQ(cases.Folded(0, folds, 1000), Fold::kAskAgain);
  EXPECT_EQ(cases.Folded(2, folds, 1100), Fold::kAskAgain);
  EXPECT_EQ(cases.Folded(0, folds, 1200), Fold::kAskAgain);
  EXPECT_TRUE(cases.Randomizes(0, 1200));
  EXPECT_TRUE(cases.Randomizes(2, 1200));
}

TEST(CaseRandomization, AnUpstreamThatEchoedLatelyKeepsIt) {
  Cases cases(true, 2);
  cases.Echoed(1, 1000);
  CaseFolds folds;
  EXPECT_EQ(cases.Folded(1, folds, 1000 + Cases::kTrustEchoMs - 1), Fold::kAskAgain);
  EXPECT_EQ(cases.Folded(1, folds, 1000 + Cases::kTrustEchoMs - 1), Fold::kAskOverTcpStillTrusted);
  EXPECT_TRUE(cases.Randomizes(1, 1000 + Cases::kTrustEchoMs - 1));
  // An upstream that stopped echoing falls back once its last echo is a minute old.
  CaseFolds later;
  cases.Folded(1, later, 1000 + Cases::kTrustEchoMs);
  EXPECT_EQ(cases.Folded(1, later, 1000 + Cases::kTrustEchoMs), Fold::kAskOverTcpFellBack);
}

TEST(CaseRandomization, OneTableServesEveryShardAndOnlyOneReportsTheFallBack) {
  // Two shards' queries fold twice each at once: the upstream falls back once.
  Cases cases(true, 2);
  CaseFolds first_shard, second_shard;
  cases.Folded(0, first_shard, 1000);
  cases.Folded(0, second_shard, 1000);
  EXPECT_EQ(cases.Folded(0, first_shard, 1000), Fold::kAskOverTcpFellBack);
  EXPECT_EQ(cases.Folded(0, second_shard, 1000), Fold::kAskOverTcp);
  // An echo one shard saw protects the upstream on every shard.
  cases.Echoed(1, 2000);
  CaseFolds other;
  cases.Folded(1, other, 2500);
  EXPECT_EQ(cases.Folded(1, other, 2500), Fold::kAskOverTcpStillTrusted);
}

TEST(CaseRandomization, AReloadCarriesWhatWasLearnedAboutAnUpstream) {
  Cases old_table(true, 2);
  old_table.Echoed(0, 1000);
  CaseFolds folds;
  old_table.Folded(1, folds, 1000);
  old_table.Folded(1, folds, 1000);  // upstream 1 falls back
  Cases new_table(true, 3);
  new_table.CarryFrom(old_table, 0, 2);  // the upstreams' ids change with the routes
  new_table.CarryFrom(old_table, 1, 0);
  EXPECT_FALSE(new_table.Randomizes(0, 2000));
  EXPECT_TRUE(new_table.Randomizes(2, 2000));
  CaseFolds later;
  new_table.Folded(2, later, 2000);
  EXPECT_EQ(new_table.Folded(2, later, 2000), Fold::kAskOverTcpStillTrusted);
  CaseFolds fresh;  // upstream 1 is new: no echo known
  new_table.Folded(1, fresh, 2000);
  EXPECT_EQ(new_table.Folded(1, fresh, 2000), Fold::kAskOverTcpFellBack);
}

TEST(CaseRandomization, OffMeansPlainNamesToEveryone) {
  const CaseRandomization cases(false, 2);
  EXPECT_FALSE(cases.Randomizes(0, 0));
  EXPECT_FALSE(cases.Randomizes(1, 1 << 30));
}

// Four IPv4 sockets, a lifetime of 400 ms (one retires every 100 ms), replaced 1 s
// after retiring.
PortRotation FourSockets() { return PortRotation({0, 0, 0, 0}, 400, 1000); }

TEST(PortRotation, SocketsRetireInTurnAndAtMostHalfAtOnce) {
  PortRotation rotation = FourSockets();
  std::vector<std::uint32_t> asked;
  const auto never = [&](std::uint32_t s) {
    asked.push_back(s);
    return PortRotation::Step::kLater;
  };
  rotation.Tick(0, never);  // starts the clock
  rotation.Tick(100, never);
  EXPECT_FALSE(rotation.Serving(0));
  rotation.Tick(200, never);
  EXPECT_FALSE(rotation.Serving(1));
  rotation.Tick(300, never);  // half retiring: no third
  EXPECT_TRUE(rotation.Serving(2));
  EXPECT_TRUE(rotation.Serving(3));
  EXPECT_EQ(rotation.retiring(), 2u);
  EXPECT_TRUE(asked.empty());  // nobody's wait is over yet
}

TEST(PortRotation, TurnsMissedWhileTheOwnerSleptAreTakenTogether) {
  // Eight sockets, one retiring every 100 ms: a loop that slept 250 ms retires two at
  // once, and one that slept a minute no more than half.
  PortRotation rotation({0, 0, 0, 0, 0, 0, 0, 0}, 800, 1000);
  const auto later = [](std::uint32_t) { return PortRotation::Step::kLater; };
  rotation.Tick(0, later);
  rotation.Tick(250, later);
  EXPECT_EQ(rotation.retiring(), 2u);
  rotation.Tick(320, later);  // the third turn came at 300
  EXPECT_EQ(rotation.retiring(), 3u);
  rotation.Tick(399, later);
  EXPECT_EQ(rotation.retiring(), 3u);
  rotation.Tick(60'000, later);
  EXPECT_EQ(rotation.retiring(), 4u);
  std::uint32_t serving = 0;
  for (std::uint32_t s = 0; s < 8; ++s) serving += rotation.Serving(s) ? 1u : 0u;
  EXPECT_EQ(serving, 4u);
}

TEST(PortRotation, AReplacedSocketServesAgainAndTheNextTakesItsTurn) {
  PortRotation rotation = FourSockets();
  std::vector<std::uint32_t> replaced;
  const auto replace = [&](std::uint32_t s) {
    replaced.push_back(s);
    return PortRotation::Step::kReplaced;
  };
  for (std::int64_t now = 0; now <= 6000; now += 50) rotation.Tick(now, replace);
  // Each retires 1 s after its turn and is replaced at once; turns go round in order.
  ASSERT_GE(replaced.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(replaced[i], i % 4) << i;
  EXPECT_LE(rotation.retiring(), 2u);
}

TEST(PortRotation, AReplacementUnderWayWaitsForReplacedAndAFailedOneKeepsTheSocket) {
  PortRotation rotation = FourSockets();
  int calls = 0;
  rotation.Tick(0, [](std::uint32_t) { return PortRotation::Step::kReplacing; });
  rotation.Tick(100, [](std::uint32_t) { return PortRotation::Step::kReplacing; });  // 0 retires
  rotation.Tick(1100, [&](std::uint32_t s) {
    ++calls;
    EXPECT_EQ(s, 0u);
    return PortRotation::Step::kReplacing;
  });
  rotation.Tick(1150, [&](std::uint32_t) { return ++calls, PortRotation::Step::kReplacing; });
  EXPECT_EQ(calls, 1);  // asked once: the cancel is under way
  EXPECT_FALSE(rotation.Serving(0));
  rotation.Replaced(0);
  EXPECT_TRUE(rotation.Serving(0));
  // No fresh socket to be had: the old one serves on.
  PortRotation other = FourSockets();
  other.Tick(0, [](std::uint32_t) { return PortRotation::Step::kKeep; });
  other.Tick(100, [](std::uint32_t) { return PortRotation::Step::kKeep; });
  other.Tick(1100, [](std::uint32_t) { return PortRotation::Step::kKeep; });
  EXPECT_TRUE(other.Serving(0));
}

TEST(PortRotation, ManyRoundsOfCancelledReceivesKeepTheBooksStraight) {
  // Two sockets: each replacement under way (kReplacing) completes a little later, as
  // a cancelled receive does; over many rounds one retires at a time, and each is
  // asked for once per retirement.
  PortRotation rotation({0, 0}, 200, 300);
  std::vector<std::uint32_t> asked;
  std::int64_t pending_since = -1;
  std::uint32_t pending = 0;
  for (std::int64_t now = 0; now <= 20000; now += 10) {
    if (pending_since >= 0 && now - pending_since >= 30) {
      rotation.Replaced(pending);
      pending_since = -1;
    }
    rotation.Tick(now, [&](std::uint32_t s) {
      asked.push_back(s);
      pending = s;
      pending_since = now;
      return PortRotation::Step::kReplacing;
    });
    ASSERT_LE(rotation.retiring(), 1u) << now;
  }
  ASSERT_GE(asked.size(), 40u);
  for (std::size_t i = 1; i < asked.size(); ++i) EXPECT_NE(asked[i], asked[i - 1]) << i;
}

TEST(PortRotation, AReplacementReportedTwiceKeepsTheCountAndTheHalfLimit) {
  // A socket with no receive armed is replaced at once; reporting it both ways (Replaced
  // and kReplaced) must not count it back twice, or the half limit would wrap away.
  PortRotation rotation = FourSockets();
  for (std::int64_t now = 0; now <= 20000; now += 50) {
    rotation.Tick(now, [&](std::uint32_t s) {
      rotation.Replaced(s);
      return PortRotation::Step::kReplaced;
    });
    ASSERT_LE(rotation.retiring(), 2u) << now;
  }
  EXPECT_GT(rotation.retiring(), 0u);  // still rotating
}

TEST(PortRotation, ZeroLifetimeNeverRotatesAndFamiliesKeepTheirOwnHalf) {
  PortRotation off({0, 0}, 0, 1000);
  for (std::int64_t now = 0; now < 10000; now += 100)
    off.Tick(now, [](std::uint32_t) { return PortRotation::Step::kReplaced; });
  EXPECT_TRUE(off.Serving(0));
  EXPECT_TRUE(off.Serving(1));
  // Two IPv4 sockets and two IPv6: one of each may retire, not two of one family.
  PortRotation mixed({0, 0, 1, 1}, 400, 100000);
  for (std::int64_t now = 0; now <= 1000; now += 100)
    mixed.Tick(now, [](std::uint32_t) { return PortRotation::Step::kLater; });
  EXPECT_EQ(mixed.retiring(), 2u);
  EXPECT_NE(mixed.Serving(0), mixed.Serving(1));
  EXPECT_NE(mixed.Serving(2), mixed.Serving(3));
}

TEST(RttEstimator, BeforeAnySampleAnAttemptWaitsTheWholeReadTimeout) {
  const RttEstimator rtt;
  EXPECT_FALSE(rtt.measured());
  EXPECT_EQ(rtt.AttemptTimeoutMs(2000, 50, 0), 2000);
}

TEST(RttEstimator, FollowsRfc6298) {
  RttEstimator rtt;
  rtt.Record(10'000);  // 2.2: SRTT = R, RTTVAR = R / 2
  EXPECT_EQ(rtt.srtt_us(), 10'000);
  EXPECT_EQ(rtt.rttvar_us(), 5'000);
  EXPECT_EQ(rtt.AttemptTimeoutMs(2000, 1, 0), 30);  // 10 ms + 4 * 5 ms
  rtt.Record(20'000);  // 2.3: RTTVAR from the old SRTT first, then SRTT
  EXPECT_EQ(rtt.rttvar_us(), 5'000 + (10'000 - 5'000) / 4);
  EXPECT_EQ(rtt.srtt_us(), 10'000 + 10'000 / 8);
}

TEST(RttEstimator, RoundsUpToAMillisecondAndKeepsItsFloor) {
  RttEstimator rtt;
  rtt.Record(100);  // 100 us + 4 * 50 us = 300 us: 1 ms rounded up
  EXPECT_EQ(rtt.AttemptTimeoutMs(2000, 1, 0), 1);
  EXPECT_EQ(rtt.AttemptTimeoutMs(2000, 50, 0), 50);
  // A read_timeout below the floor wins: the floor never stretches an attempt past it.
  EXPECT_EQ(rtt.AttemptTimeoutMs(20, 50, 0), 20);
}

TEST(RttEstimator, DoublesPerEarlierAttemptUpToTheReadTimeout) {
  RttEstimator rtt;
  rtt.Record(10'000);  // 30 ms
  EXPECT_EQ(rtt.AttemptTimeoutMs(2000, 1, 1), 60);
  EXPECT_EQ(rtt.AttemptTimeoutMs(2000, 1, 3), 240);
  EXPECT_EQ(rtt.AttemptTimeoutMs(2000, 1, 6), 1920);
  EXPECT_EQ(rtt.AttemptTimeoutMs(2000, 1, 7), 1920);  // the shift stops at 6
  EXPECT_EQ(rtt.AttemptTimeoutMs(200, 1, 3), 200);
}

TEST(RttEstimator, IgnoresANegativeSample) {
  RttEstimator rtt;
  rtt.Record(-5);
  EXPECT_FALSE(rtt.measured());
  rtt.Record(4'000);
  rtt.Record(-1'000'000);
  EXPECT_EQ(rtt.srtt_us(), 4'000);
}

// A forward of `n` upstreams (addresses do not matter to the selector) with `policy`.
ForwardRoute Forward(std::uint32_t n, config::Policy policy, std::uint32_t id = 0,
                     std::uint32_t first_upstream = 0) {
  ForwardRoute f;
  f.upstreams.resize(n);
  f.policy = policy;
  f.id = id;
  f.first_upstream = first_upstream;
  return f;
}

TEST(UpstreamSelector, SequentialStartsAtTheFirstThatIsUp) {
  HealthTable health(3);
  UpstreamSelector selector(health, 1, 0);
  RandomPool random;
  const ForwardRoute f = Forward(3, config::Policy::kSequential);
  EXPECT_EQ(selector.First(f, random), 0);
  health.Restore(0, 3, true);
  EXPECT_EQ(selector.First(f, random), 1);
  health.Restore(1, 3, true);
  EXPECT_EQ(selector.First(f, random), 2);
}

TEST(UpstreamSelector, RoundRobinTakesTurnsAndShardsStartApart) {
  HealthTable health(3);
  RandomPool random;
  const ForwardRoute f = Forward(3, config::Policy::kRoundRobin);
  UpstreamSelector shard0(health, 1, 0);
  UpstreamSelector shard1(health, 1, 1);
  EXPECT_EQ(shard0.First(f, random), 0);
  EXPECT_EQ(shard0.First(f, random), 1);
  EXPECT_EQ(shard0.First(f, random), 2);
  EXPECT_EQ(shard0.First(f, random), 0);
  EXPECT_EQ(shard1.First(f, random), 1);
  // A turn that lands on a down upstream goes to the next one up.
  health.Restore(2, 3, true);
  EXPECT_EQ(shard1.First(f, random), 0);
}

TEST(UpstreamSelector, RoundRobinTurnsArePerForward) {
  HealthTable health(4);
  RandomPool random;
  const ForwardRoute a = Forward(2, config::Policy::kRoundRobin, 0, 0);
  const ForwardRoute b = Forward(2, config::Policy::kRoundRobin, 1, 2);
  UpstreamSelector selector(health, 2, 0);
  EXPECT_EQ(selector.First(a, random), 0);
  EXPECT_EQ(selector.First(a, random), 1);
  EXPECT_EQ(selector.First(b, random), 0);  // b's turn did not move with a's
}

TEST(UpstreamSelector, RandomReachesEveryUpstreamUpAndNoneDown) {
  HealthTable health(4);
  health.Restore(2, 3, true);
  RandomPool random;
  const ForwardRoute f = Forward(4, config::Policy::kRandom);
  UpstreamSelector selector(health, 1, 0);
  std::map<int, int> seen;
  for (int i = 0; i < 4000; ++i) ++seen[selector.First(f, random)];
  EXPECT_EQ(seen.count(2), 0u);
  // Upstream 3 also takes the starts that fell on 2: about half, never none.
  EXPECT_GT(seen[0], 500);
  EXPECT_GT(seen[1], 500);
  EXPECT_GT(seen[3], 1000);
}

TEST(UpstreamSelector, ARetryGoesToTheNextUpstreamUpAndWraps) {
  HealthTable health(3);
  UpstreamSelector selector(health, 1, 0);
  const ForwardRoute f = Forward(3, config::Policy::kRandom);
  EXPECT_EQ(selector.Next(f, 0), 1);
  EXPECT_EQ(selector.Next(f, 2), 0);
  health.Restore(0, 3, true);
  EXPECT_EQ(selector.Next(f, 2), 1);
}

TEST(UpstreamSelector, WhenEveryUpstreamIsDownOneIsTriedAnyway) {
  HealthTable health(5);  // the forward's upstreams are global ids 2..4
  UpstreamSelector selector(health, 1, 0);
  RandomPool random;
  const ForwardRoute f = Forward(3, config::Policy::kSequential, 0, 2);
  EXPECT_FALSE(selector.AllDown(f));
  health.Restore(0, 3, true);  // not this forward's
  health.Restore(1, 3, true);
  EXPECT_FALSE(selector.AllDown(f));
  for (std::uint32_t u = 2; u < 5; ++u) health.Restore(u, 3, true);
  EXPECT_TRUE(selector.AllDown(f));
  EXPECT_EQ(selector.First(f, random), 0);  // CoreDNS tries one anyway
  EXPECT_EQ(selector.Next(f, 0), 1);
}

// Two forwards in two blocks, of 2 and 3 upstreams: five pools after 10 client connections.
RouteTable TwoForwards() {
  RouteTable routes;
  routes.blocks.resize(2);
  routes.blocks[0].forwards.push_back(Forward(2, config::Policy::kRandom, 0, 0));
  routes.blocks[1].forwards.push_back(Forward(3, config::Policy::kRandom, 1, 2));
  routes.forward_count = 2;
  routes.upstream_count = 5;
  return routes;
}

TEST(ForwardConcurrency, EachShardTakesItsShareOfMaxConcurrentAtLeastOneAndNoLimitMeansNone) {
  RouteTable routes = TwoForwards();
  // The second block's forward (id 1) is limited, the first's (id 0) is not: the limit
  // must land on the forward's id, not on the first forward that has one.
  routes.blocks[1].forwards[0].max_concurrent = 10;
  RelaxedCounter violations;
  ForwardConcurrency concurrency(violations);
  concurrency.Build(routes, 4);
  EXPECT_EQ(concurrency.limit(1), 2u);  // 10 / 4 shards, rounded down
  EXPECT_EQ(concurrency.limit(0), 0u);
  EXPECT_TRUE(concurrency.TryAdmit(1));
  EXPECT_TRUE(concurrency.TryAdmit(1));
  EXPECT_FALSE(concurrency.TryAdmit(1));  // refused, and not counted
  EXPECT_EQ(concurrency.in_flight(1), 2u);
  concurrency.Release(1);
  EXPECT_TRUE(concurrency.TryAdmit(1));
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(concurrency.TryAdmit(0));
  EXPECT_EQ(concurrency.in_flight(0), 1000u);

  concurrency.Build(routes, 16);  // more shards than the limit: one each, counts afresh
  EXPECT_EQ(concurrency.limit(1), 1u);
  EXPECT_EQ(concurrency.in_flight(1), 0u);
  EXPECT_TRUE(concurrency.TryAdmit(1));
  EXPECT_FALSE(concurrency.TryAdmit(1));
  EXPECT_EQ(violations.get(), 0u);
}

TEST(ForwardConcurrency, AReleaseWithNothingCountedIsCaughtAndTheCountStaysAtZero) {
  RouteTable routes = TwoForwards();
  routes.blocks[1].forwards[0].max_concurrent = 1;
  RelaxedCounter violations;
  ForwardConcurrency concurrency(violations);
  concurrency.Build(routes, 1);
#ifdef RINGDNS_CHECK_INVARIANTS
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(concurrency.Release(1), "invariant broken at .*forward_concurrency.h");
#else
  concurrency.Release(1);
  EXPECT_EQ(violations.get(), 1u);
  EXPECT_EQ(concurrency.in_flight(1), 0u);  // not wrapped: the limit still admits one
  EXPECT_TRUE(concurrency.TryAdmit(1));
  EXPECT_FALSE(concurrency.TryAdmit(1));
#endif
}

TEST(UpstreamConnectionPools, APoolPerUpstreamItsConnectionsAfterTheClients) {
  const RouteTable routes = TwoForwards();
  UpstreamConnectionPools pools;
  pools.Build(routes, 10);
  const std::uint32_t per = UpstreamConnectionPools::kConnectionsPerPool;
  ASSERT_EQ(pools.pools(), 5u);
  EXPECT_EQ(pools.connections(), 5 * per);
  const ForwardRoute& second = routes.blocks[1].forwards[0];
  for (std::uint8_t u = 0; u < 3; ++u) {
    const std::uint32_t pool = pools.PoolOf(second, u);
    EXPECT_EQ(pool, 2u + u);
    EXPECT_EQ(&pools.forward(pool), &second);
    EXPECT_EQ(pools.upstream(pool), u);
    EXPECT_EQ(pools.upstream_id(pool), 2u + u);  // the health table's index
    EXPECT_EQ(pools.FirstConnection(pool), 10 + pool * per);
    for (std::uint32_t c = 0; c < per; ++c) {
      EXPECT_EQ(pools.PoolOf(pools.FirstConnection(pool) + c), pool);
    }
  }
  EXPECT_EQ(pools.PoolOf(10), 0u);  // the first connection after the clients'
}

TEST(UpstreamConnectionPools, BuiltAgainTheyStartAfreshAndTheirSessionsAreFreed) {
  const RouteTable routes = TwoForwards();
  UpstreamConnectionPools pools;
  pools.Build(routes, 0);
  // Freed by the next Build and by the destructor: LeakSanitizer (the ASan build) fails
  // the test otherwise.
  *pools.resume_session(1) = SSL_SESSION_new();
  pools.BrokeUnanswered(1, 1000, 50);
  pools.Build(routes, 4);
  EXPECT_EQ(pools.pools(), 5u);
  EXPECT_EQ(*pools.resume_session(1), nullptr);
  EXPECT_EQ(pools.not_before_ms(1), 0);
  EXPECT_EQ(pools.FirstConnection(0), 4u);
  *pools.resume_session(4) = SSL_SESSION_new();
}

TEST(UpstreamConnectionPools, UnansweredBreaksDoubleTheWaitUpToSixteenFoldAndAnAnswerEndsIt) {
  const RouteTable routes = TwoForwards();
  UpstreamConnectionPools pools;
  pools.Build(routes, 0);
  EXPECT_EQ(pools.not_before_ms(3), 0);
  const std::int64_t waits[] = {50, 100, 200, 400, 800, 800, 800};
  std::int64_t now = 1000;
  for (const std::int64_t wait : waits) {
    pools.BrokeUnanswered(3, now, 50);
    EXPECT_EQ(pools.not_before_ms(3), now + wait);
    now += 1000;
  }
  EXPECT_EQ(pools.not_before_ms(4), 0);  // pools back off alone
  pools.Answered(3);
  EXPECT_EQ(pools.not_before_ms(3), 0);
  pools.BrokeUnanswered(3, now, 50);
  EXPECT_EQ(pools.not_before_ms(3), now + 50);  // the doubling starts again
}

}  // namespace
}  // namespace ringdns::core
