// The compiled suffix trie against the rules of zone matching: longest suffix wins, on
// label boundaries only, case-insensitively; and against a naive reference.
#include "zones/trie.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "testing/alloc_counter.h"
#include "testing/message_builder.h"
#include "wire/name.h"
#include "zones/trie_builder.h"

namespace ringdns::zones {
namespace {

using testing::Bytes;
using testing::WireName;

Trie Build(std::initializer_list<std::pair<const char*, RouteId>> zones) {
  TrieBuilder builder;
  for (const auto& [zone, route] : zones) {
    const wire::Result<AddStatus> added = builder.AddText(zone, route);
    EXPECT_TRUE(added && *added == AddStatus::kAdded) << zone;
  }
  return builder.Build();
}

RouteId MatchText(const Trie& trie, const char* qname) { return trie.Match(WireName(qname)); }

TEST(Trie, TutorialZonesRouteByLongestSuffix) {
  const Trie trie = Build({{"remote.svc.cluster.local.", 1}, {"svc.cluster.local.", 2}, {".", 3}});
  EXPECT_EQ(MatchText(trie, "_couchbase._tcp.cb-example-srv.remote.svc.cluster.local."), 1u);
  EXPECT_EQ(MatchText(trie, "remote.svc.cluster.local."), 1u);
  EXPECT_EQ(MatchText(trie, "kubernetes.default.svc.cluster.local."), 2u);
  EXPECT_EQ(MatchText(trie, "cluster.local."), 3u);
  EXPECT_EQ(MatchText(trie, "example.com."), 3u);
  EXPECT_EQ(MatchText(trie, "."), 3u);
}

TEST(Trie, MatchesOnLabelBoundariesOnly) {
  const Trie trie = Build({{"remote.svc.cluster.local.", 1}});
  EXPECT_EQ(MatchText(trie, "xremote.svc.cluster.local."), kNoRoute);
  EXPECT_EQ(MatchText(trie, "svc.cluster.local."), kNoRoute);
  EXPECT_EQ(MatchText(trie, "a.remote.svc.cluster.local."), 1u);
}

TEST(Trie, NoZoneMeansNoRoute) {
  EXPECT_EQ(MatchText(Trie(), "a."), kNoRoute);
  const Trie trie = Build({{"example.", 1}});
  EXPECT_EQ(MatchText(trie, "example.org."), kNoRoute);
  EXPECT_EQ(MatchText(trie, "."), kNoRoute);
}

TEST(Trie, RootZoneMatchesEverything) {
  const Trie trie = Build({{".", 9}});
  EXPECT_EQ(MatchText(trie, "."), 9u);
  EXPECT_EQ(MatchText(trie, "a.b.c.d."), 9u);
}

TEST(Trie, FoldsCaseOfQnameAndZone) {
  const Trie trie = Build({{"Remote.SVC.cluster.local.", 1}});
  EXPECT_EQ(MatchText(trie, "X.REMOTE.svc.Cluster.LOCAL."), 1u);
}

TEST(Trie, EscapedDotStaysInsideItsLabel) {
  const Trie trie = Build({{"a\\.b.example.", 1}, {"example.", 2}});
  EXPECT_EQ(trie.Match(testing::Hex("01 78 03 612e62 07 6578616d706c65 00")), 1u);  // x.a\.b
  EXPECT_EQ(MatchText(trie, "x.a.b.example."), 2u);  // three labels, not "a.b"
}

TEST(Trie, HandlesMaximalLabelsAndDepth) {
  const std::string label63(63, 'q');
  std::string deep;  // 127 one-octet labels: the deepest possible name
  for (int i = 0; i < 127; ++i) deep += "z.";
  TrieBuilder builder;
  ASSERT_TRUE(builder.AddText(label63 + ".example.", 1));
  ASSERT_TRUE(builder.AddText(deep, 2));
  const Trie trie = builder.Build();
  EXPECT_EQ(trie.Match(WireName("x." + label63 + ".example.")), 1u);
  EXPECT_EQ(trie.Match(WireName(deep)), 2u);
  EXPECT_EQ(trie.Match(WireName(deep.substr(2))), kNoRoute);  // one label short
}

TEST(TrieBuilder, ReportsDuplicatesAndKeepsTheFirstRoute) {
  TrieBuilder builder;
  ASSERT_EQ(*builder.AddText("example.", 1), AddStatus::kAdded);
  ASSERT_EQ(*builder.AddText("EXAMPLE", 2), AddStatus::kDuplicate);
  EXPECT_EQ(builder.AddText("a..b", 3).error(), wire::Error::kBadText);
  EXPECT_EQ(MatchText(builder.Build(), "www.example."), 1u);
}

TEST(Trie, MatchAllocatesNothing) {
  const Trie trie = Build({{"remote.svc.cluster.local.", 1}, {".", 2}});
  const Bytes qname = WireName("_couchbase._tcp.cb-example-srv.remote.svc.cluster.local.");
  RouteId route = kNoRoute;
  EXPECT_EQ(testing::CountAllocations([&] {
              for (int i = 0; i < 1000; ++i) route = trie.Match(qname);
            }),
            0u);
  EXPECT_EQ(route, 1u);
}

// The naive reference: lower-case both names, then compare label suffixes over a list.
RouteId NaiveMatch(const std::vector<std::pair<std::vector<std::string>, RouteId>>& zones,
                   const std::vector<std::string>& qlabels) {
  RouteId best = kNoRoute;
  std::size_t best_len = 0;
  for (const auto& [zlabels, route] : zones) {
    if (zlabels.size() > qlabels.size()) continue;
    if (!std::equal(zlabels.rbegin(), zlabels.rend(), qlabels.rbegin())) continue;
    if (best == kNoRoute || zlabels.size() > best_len) {
      best = route;
      best_len = zlabels.size();
    }
  }
  return best;
}

TEST(Trie, AgreesWithNaiveReferenceOnRandomNames) {
  std::mt19937 rng(20261129);
  const std::vector<std::string> alphabet{"a", "B", "svc", "cluster", "local", "remote", "x-y"};
  auto random_labels = [&](std::size_t max) {
    std::vector<std::string> labels(std::uniform_int_distribution<std::size_t>(0, max)(rng));
    for (std::string& l : labels) l = alphabet[rng() % alphabet.size()];
    return labels;
  };
  auto lower = [](std::vector<std::string> labels) {
    for (std::string& l : labels) {
      for (char& c : l) c = static_cast<char>(wire::ToLowerAscii(static_cast<std::uint8_t>(c)));
    }
    return labels;
  };
  auto text = [](const std::vector<std::string>& labels) {
    std::string out;
    for (const std::string& l : labels) out += l + ".";
    return out.empty() ? std::string(".") : out;
  };
  for (int round = 0; round < 200; ++round) {
    TrieBuilder builder;
    std::vector<std::pair<std::vector<std::string>, RouteId>> zones;
    for (RouteId r = 0; r < 20; ++r) {
      const std::vector<std::string> labels = random_labels(4);
      if (*builder.AddText(text(labels), r) == AddStatus::kAdded)
        zones.emplace_back(lower(labels), r);
    }
    const Trie trie = builder.Build();
    for (int q = 0; q < 50; ++q) {
      const std::vector<std::string> qlabels = random_labels(6);
      ASSERT_EQ(trie.Match(WireName(text(qlabels))), NaiveMatch(zones, lower(qlabels)))
          << text(qlabels);
    }
  }
}

}  // namespace
}  // namespace ringdns::zones
