// etcd's JSON gateway on the wire: base64 keys and values, int64 fields as strings left out at
// their default, prefix ranges, the answers that say a token is stale, and error answers.
#include "ha/etcd_json.h"

#include <gtest/gtest.h>

#include <string>

namespace pgrt::etcd_json {
namespace {

using nlohmann::json;

TEST(EtcdJson, Base64RoundTripsBytesOfEveryPaddingLength) {
  for (const std::string& bytes :
       {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
        std::string("/pgrt/leader"), std::string("\0\xff\x01", 3)}) {
    auto back = Unbase64(Base64(bytes));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, bytes);
  }
  EXPECT_EQ(Base64("ab"), "YWI=");
  EXPECT_EQ(Base64("abc"), "YWJj");
}

TEST(EtcdJson, Unbase64RefusesTextThatIsNotBase64) {
  auto bad = Unbase64("no*base64!");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
}

TEST(EtcdJson, IntReadsStringsAndNumbersAndIsZeroWhenLeftOutOrUnreadable) {
  const json j = {{"s", "9007199254740993"}, {"n", 42}, {"bad", "x"}, {"obj", json::object()}};
  EXPECT_EQ(Int(j, "s"), 9007199254740993LL);  // past a double's exact range
  EXPECT_EQ(Int(j, "n"), 42);
  EXPECT_EQ(Int(j, "missing"), 0);
  EXPECT_EQ(Int(j, "bad"), 0);
  EXPECT_EQ(Int(j, "obj"), 0);
  EXPECT_EQ(Int(json::array(), "s"), 0);
}

TEST(EtcdJson, KeyValueOfDecodesKeyAndValueAndReadsRevisions) {
  const json kv = {{"key", Base64("k")},
                   {"value", Base64("v")},
                   {"create_revision", "3"},
                   {"mod_revision", "5"},
                   {"lease", "7"}};
  auto out = KeyValueOf(kv);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->key, "k");
  EXPECT_EQ(out->value, "v");
  EXPECT_EQ(out->create_revision, 3);
  EXPECT_EQ(out->mod_revision, 5);
  EXPECT_EQ(out->lease, 7);
  EXPECT_FALSE(KeyValueOf(json{{"key", "***"}}).ok());
}

TEST(EtcdJson, PrefixEndIsTheFirstKeyAfterThePrefix) {
  EXPECT_EQ(PrefixEnd("/pgrt/"), "/pgrt0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

TEST(EtcdJson, StaleTokenIsSeenInUnaryStreamAndWatchAnswers) {
  for (
      const char* stale : {
          R"({"error": "x", "code": 16, "message": "anything"})",
          R"({"error": "etcdserver: invalid auth token", "code": 2, "message": "etcdserver: invalid auth token"})",
          R"({"error": {"grpc_code": 16, "message": "x"}})",
          R"({"error": {"grpc_code": 2, "message": "auth: revision of auth store is old"}})",
          R"({"result": {"canceled": true, "cancel_reason": "auth token is expired"}})",
      }) {
    const json j = json::parse(stale);
    EXPECT_TRUE(SaysStaleToken(j.contains("result") ? j["result"] : j)) << stale;
  }
  EXPECT_FALSE(SaysStaleToken(json{{"error", "x"}, {"code", 9}, {"message", "key not found"}}));
  EXPECT_TRUE(IsStaleToken(std::string(R"({"error": "x", "code": 16})")));
  EXPECT_FALSE(IsStaleToken(std::string(R"({"code": 16})")));  // no error: an answer
  EXPECT_FALSE(IsStaleToken(std::string("not json")));
  EXPECT_FALSE(IsStaleToken(Status::Unavailable("no answer")));
}

TEST(EtcdJson, ExcerptIsTheFirstLineCutAt200Bytes) {
  EXPECT_EQ(Excerpt(""), "");
  EXPECT_EQ(Excerpt("bad request \r\nmore"), ": bad request");
  EXPECT_EQ(Excerpt(std::string(300, 'x')), ": " + std::string(200, 'x') + "...");
}

TEST(EtcdJson, ParseAnswerTurnsEtcdErrorsIntoErrorsWithTheirMessage) {
  auto ok = ParseAnswer(std::string(R"({"header": {"revision": "4"}})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(Int((*ok)["header"], "revision"), 4);
  auto error =
      ParseAnswer(std::string(R"({"error": "e", "code": 9, "message": "lease not found"})"));
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.status().message(), "etcd: lease not found");
  auto bare = ParseAnswer(std::string(R"({"error": "only this"})"));
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.status().message(), "etcd: only this");
  EXPECT_FALSE(ParseAnswer(std::string("[1]")).ok());
  auto passed = ParseAnswer(Status::Unavailable("etcd http://a:2379: no answer"));
  ASSERT_FALSE(passed.ok());
  EXPECT_TRUE(passed.status().IsUnavailable());
}

}  // namespace
}  // namespace pgrt::etcd_json
