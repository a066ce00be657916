// The codec against real traffic: dig's query and nsd's answers for the tutorial's
// Couchbase SRV lookup (see testing/real_messages.h for how they were captured).
#include "testing/real_messages.h"

#include <gtest/gtest.h>

#include "testing/hex.h"
#include "testing/message_builder.h"
#include "wire/message.h"
#include "wire/patch.h"
#include "wire/response.h"

namespace ringdns::wire {
namespace {

using testing::Bytes;
using testing::Hex;

TEST(RealMessages, DigQueryWithEdnsAndCookieParses) {
  const Bytes msg = Hex(testing::kDigSrvQuery);
  const Result<QueryView> q = ParseQuery(msg);
  ASSERT_TRUE(q) << ToString(q.error());
  EXPECT_EQ(q->qtype, rrtype::kSrv);
  EXPECT_EQ(q->qclass, rrclass::kIn);
  EXPECT_TRUE(NamesEqualIgnoreCase(
      q->qname(msg),
      testing::WireName("_couchbase._tcp.cb-example-srv.remote.svc.cluster.local.")));
  ASSERT_TRUE(q->opt.present());
  EXPECT_EQ(q->opt.udp_size, 1232);
  EXPECT_FALSE(q->opt.do_bit());
  int cookies = 0;
  ForEachOption(msg, q->opt, [&](std::uint16_t code, std::span<const std::uint8_t> data) {
    if (code == edns::kOptionCookie && data.size() == 8) ++cookies;  // client cookie only
  });
  EXPECT_EQ(cookies, 1);
}

TEST(RealMessages, NsdSrvAnswerMatchesDigsQueryAndWalks) {
  const Bytes query = Hex(testing::kDigSrvQuery);
  const Bytes answer = Hex(testing::kNsdSrvAnswer);
  const Result<QueryView> q = ParseQuery(query);
  ASSERT_TRUE(q);
  EXPECT_EQ(MatchAnswer(answer, q->id, q->opcode(), q->question(query)), Error::kOk);
  const Result<ResponseInfo> info = WalkResponse(answer);
  ASSERT_TRUE(info) << ToString(info.error());
  EXPECT_EQ(info->counts[0], 3);  // three SRV records
  EXPECT_EQ(info->counts[1], 0);
  EXPECT_EQ(info->counts[2], 4);  // three A records and the OPT
  EXPECT_EQ(info->min_ttl, 1u);   // Kubernetes serves TTL 1
  EXPECT_EQ(info->rcode, rcode::kNoError);
  int a_records = 0;
  LabelStarts starts(answer.size());
  (void)ParseQuestion(answer, &starts);
  (void)WalkRecords(answer, info->question.question_end, starts, [&](const RecordView& r) {
    if (r.section == Section::kAdditional && r.type == rrtype::kA) ++a_records;
    return Error::kOk;
  });
  EXPECT_EQ(a_records, 3);
}

TEST(RealMessages, NsdSrvAnswerAgesToZeroAndTruncatesFor512WithoutEdnsLoss) {
  Bytes answer = Hex(testing::kNsdSrvAnswer);
  ASSERT_EQ(answer.size(), 379u);  // fits 512: left alone
  Result<ResponseInfo> info = WalkResponse(answer);
  ASSERT_TRUE(info);
  EXPECT_EQ(TruncateForUdp(answer, *info, 512), answer.size());
  ASSERT_EQ(CapTtls(answer, 0), Error::kOk);
  info = WalkResponse(answer);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->min_ttl, 0u);
  EXPECT_EQ(info->opt().udp_size, 1232);  // the OPT survived capping
}

TEST(RealMessages, NsdNxdomainCarriesItsNegativeTtl) {
  const Result<ResponseInfo> info = WalkResponse(Hex(testing::kNsdNxAnswer));
  ASSERT_TRUE(info) << ToString(info.error());
  EXPECT_EQ(info->rcode, rcode::kNxDomain);
  ASSERT_TRUE(info->has_soa);
  EXPECT_EQ(info->soa_minimum, 5u);
  EXPECT_EQ(info->negative_ttl(), 1u);  // SOA TTL 1 is below MINIMUM 5
}

}  // namespace
}  // namespace ringdns::wire
