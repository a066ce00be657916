#include "ring/user_data.h"

#include <gtest/gtest.h>

namespace ringdns::ring {
namespace {

TEST(UserData, RoundTripsEveryFieldAtItsLimits) {
  for (const UserData d : {UserData{0, 0, 0, 0}, UserData{255, 65535, UserData::kMaxSlot, 65535},
                           UserData{3, 17, 65536, 42}}) {
    EXPECT_EQ(UserData::Unpack(d.Pack()), d);
  }
}

TEST(UserData, FieldsDoNotBleedIntoEachOther) {
  const UserData d{0, 0, UserData::kMaxSlot, 0};
  const UserData back = UserData::Unpack(d.Pack());
  EXPECT_EQ(back.op, 0);
  EXPECT_EQ(back.generation, 0);
  EXPECT_EQ(back.buffer, 0);
}

}  // namespace
}  // namespace ringdns::ring
