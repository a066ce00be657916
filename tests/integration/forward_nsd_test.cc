// The tutorial on one machine with real nsd upstreams: remote.svc.cluster.local. goes to
// one nsd, everything else to another, and dig-style queries get what nsd sent.
#include <gtest/gtest.h>

#include <chrono>

#include "integration/forwarder.h"
#include "testing/message_builder.h"
#include "testing/nsd.h"
#include "testing/real_messages.h"
#include "testing/udp.h"
#include "wire/bytes.h"
#include "wire/response.h"

namespace ringdns::testing {
namespace {

using namespace std::chrono_literals;

TEST(ForwardNsd, TutorialDeploymentOverUdp) {
  Nsd remote({{"remote.svc.cluster.local.", ZonesDir() + "/remote.svc.cluster.local.zone"}});
  if (!remote.available()) GTEST_SKIP() << remote.error();
  Nsd local({{"cluster.local.", ZonesDir() + "/cluster.local.zone"}});
  if (!local.available()) GTEST_SKIP() << local.error();
  Forwarder fwd("remote.svc.cluster.local:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" +
                std::to_string(remote.port()) +
                "\n}\n.:{PORT} {\n bind 127.0.0.1\n forward . 127.0.0.1:" +
                std::to_string(local.port()) + "\n}\n");
  UdpClient client;

  // dig's SRV query: through ringdns and straight to nsd, the answers differ only in ID.
  Bytes query = Hex(kDigSrvQuery);
  client.SendTo(fwd.port(), query);
  const std::optional<Bytes> via = client.Receive(2s);
  ASSERT_TRUE(via.has_value());
  client.SendTo(remote.port(), query);
  const std::optional<Bytes> direct = client.Receive(2s);
  ASSERT_TRUE(direct.has_value());
  EXPECT_EQ(ToHex(*via), ToHex(*direct));
  const wire::Result<wire::ResponseInfo> info = wire::WalkResponse(*via);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->counts[0], 3);      // three SRV records
  EXPECT_EQ(info->counts[2], 3 + 1);  // three pods' A records and the OPT

  // A name under svc.cluster.local. outside remote goes to the local DNS.
  client.SendTo(
      fwd.port(),
      MessageBuilder(77, 0x0100).Question("kubernetes.default.svc.cluster.local.", 1).bytes());
  const std::optional<Bytes> k8s = client.Receive(2s);
  ASSERT_TRUE(k8s.has_value());
  EXPECT_EQ(wire::LoadU16(k8s->data()), 77);
  EXPECT_EQ(wire::WalkResponse(*k8s)->counts[0], 1);

  // A missing remote name: nsd's NXDOMAIN with its SOA, passed through.
  client.SendTo(
      fwd.port(),
      MessageBuilder(78, 0x0100).Question("missing.remote.svc.cluster.local.", 1).bytes());
  const std::optional<Bytes> nx = client.Receive(2s);
  ASSERT_TRUE(nx.has_value());
  EXPECT_EQ(wire::WalkResponse(*nx)->rcode, wire::rcode::kNxDomain);
}

}  // namespace
}  // namespace ringdns::testing
