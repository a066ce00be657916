// DNS 0x20: the spelling a key gives a name, and the check an answer's question must pass.
#include "wire/name_case.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "testing/message_builder.h"
#include "wire/name.h"

namespace ringdns::wire {
namespace {

using testing::Bytes;
using testing::WireName;

Bytes Spelled(const Bytes& name, std::uint64_t key) {
  Bytes out(name.size());
  SpellWithKey(name, key, out);
  return out;
}

TEST(NameCase, OnlyLettersChangeAndTheNameStaysTheSameIgnoringCase) {
  const Bytes name = WireName("_couchbase._tcp.Cb-Example-Srv.remote.svc.cluster.local.");
  for (std::uint64_t key : {0ull, 1ull, 0x0123456789abcdefull, ~0ull}) {
    const Bytes out = Spelled(name, key);
    EXPECT_TRUE(NamesEqualIgnoreCase(out, name)) << key;
    for (std::size_t i = 0; i < name.size(); ++i) {
      const bool letter = ((name[i] | 0x20) >= 'a' && (name[i] | 0x20) <= 'z');
      if (!letter) {
        EXPECT_EQ(out[i], name[i]) << "octet " << i << " is not a letter";
      }
    }
    EXPECT_TRUE(SpelledWithKey(out, key));
  }
}

TEST(NameCase, TheSpellingDependsOnTheKeyNotOnTheClientsSpelling) {
  const Bytes lower = WireName("www.example.com.");
  const Bytes upper = WireName("WWW.EXAMPLE.COM.");
  EXPECT_EQ(Spelled(lower, 42), Spelled(upper, 42));
  std::set<Bytes> spellings;
  for (std::uint64_t key = 1; key <= 64; ++key) spellings.insert(Spelled(lower, key));
  // 13 letters: 64 keys give (nearly) 64 spellings; a constant would give one.
  EXPECT_GE(spellings.size(), 60u);
}

TEST(NameCase, AFoldedOrOneLetterWrongEchoFails) {
  const Bytes name = WireName("victim.example.");
  const std::uint64_t key = 0x5eed;
  Bytes echo = Spelled(name, key);
  ASSERT_TRUE(SpelledWithKey(echo, key));
  for (std::size_t i = 0; i < echo.size(); ++i) {
    if (((echo[i] | 0x20) < 'a') || ((echo[i] | 0x20) > 'z')) continue;
    Bytes wrong = echo;
    wrong[i] ^= 0x20;
    EXPECT_FALSE(SpelledWithKey(wrong, key)) << "letter at " << i;
  }
  // Exactly one spelling of 13 letters passes: the lower-case one passes only if the key
  // says so for every letter.
  const Bytes folded = WireName("victim.example.");
  EXPECT_EQ(SpelledWithKey(folded, key), Spelled(name, key) == folded);
}

TEST(NameCase, SpellsAnUpperLetterTellsTheKeysWhoseSpellingAFoldWouldMatch) {
  // Two letters: a quarter of the keys spell both lower case, and a folding upstream's
  // echo would then pass; the shard draws again for those.
  const Bytes name = WireName("a.b.");
  const Bytes folded = name;
  int upper = 0;
  for (std::uint64_t key = 1; key <= 4096; ++key) {
    const bool says = SpellsAnUpperLetter(name, key);
    EXPECT_EQ(says, Spelled(name, key) != folded) << key;
    EXPECT_EQ(says, !SpelledWithKey(folded, key)) << key;
    upper += says ? 1 : 0;
  }
  EXPECT_GT(upper, 2800);  // about three quarters
  EXPECT_LT(upper, 3350);
  // A name without letters has nothing to spell: any key will do.
  EXPECT_TRUE(SpellsAnUpperLetter(WireName("1.2.3.4."), 0));
}

TEST(NameCase, LettersPastTheFirst64UseMoreOfTheKeyStream) {
  // 4 labels of 63 letters: 252 letters, four key-stream words.
  std::string text;
  for (int l = 0; l < 3; ++l) text += std::string(63, 'a') + ".";
  text += std::string(61, 'a') + ".";
  const Bytes name = WireName(text);
  ASSERT_EQ(CaseBits(name), 250u);
  const Bytes out = Spelled(name, 7);
  // Each 64-letter stretch is its own word: none is a copy of the first.
  const Bytes first(out.begin() + 1, out.begin() + 33);
  EXPECT_NE(Bytes(out.begin() + 65, out.begin() + 97), first);
  EXPECT_NE(Bytes(out.begin() + 129, out.begin() + 161), first);
  EXPECT_TRUE(SpelledWithKey(out, 7));
  EXPECT_FALSE(SpelledWithKey(out, 8));
}

TEST(NameCase, CaseBitsCountsLettersOnly) {
  EXPECT_EQ(CaseBits(WireName(".")), 0u);
  EXPECT_EQ(CaseBits(WireName("1.0.0.127.in-addr.arpa.")), 10u);
  EXPECT_EQ(CaseBits(WireName("_couchbase._tcp.cb-example-srv.remote.svc.cluster.local.")), 45u);
  const Bytes digits = WireName("123.456.");
  EXPECT_TRUE(SpelledWithKey(digits, 99));  // nothing to check: every key passes
}

}  // namespace
}  // namespace ringdns::wire
