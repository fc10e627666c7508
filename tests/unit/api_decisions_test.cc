// The API's pure decisions, table by table: lag parsing, slot names, and how a Status's code
// becomes an HTTP status (role checks: api_role_checks_test.cc).
#include <gtest/gtest.h>

#include "api/http_status.h"
#include "api/role_checks.h"
#include "replication/control.h"

namespace pgrt {
namespace {

TEST(ParseLag, AcceptsBytesAndPostgresUnitsAndRejectsTheRest) {
  const std::pair<const char*, std::optional<int64_t>> rows[] = {
      {"0", 0},
      {"1048576", 1048576},
      {"16MB", 16LL << 20},
      {"16 MB", 16LL << 20},
      {"512kB", 512LL << 10},
      {"1GB", 1LL << 30},
      {"2TB", 2LL << 40},
      {"7B", 7},
      {"", std::nullopt},
      {"MB", std::nullopt},
      {"-1", std::nullopt},
      {"16XB", std::nullopt},
      {"1.5MB", std::nullopt},
      {"9999999999999999999", std::nullopt},
      {"9000000000TB", std::nullopt},
  };
  for (const auto& [text, want] : rows) EXPECT_EQ(ParseLag(text), want) << text;
}

TEST(ValidSlotName, IsPostgresOwnRuleForSlotNames) {
  EXPECT_TRUE(ValidSlotName("replica_slot"));
  EXPECT_TRUE(ValidSlotName("a"));
  EXPECT_TRUE(ValidSlotName(std::string(63, 'x')));
  EXPECT_FALSE(ValidSlotName(""));
  EXPECT_FALSE(ValidSlotName(std::string(64, 'x')));
  for (const char* bad : {"Slot", "slot-1", "slot.1", "slot 1", "slot'", "slot\n", "é"})
    EXPECT_FALSE(ValidSlotName(bad)) << bad;
}

TEST(HttpStatusOf, MapsEveryCodeOnce) {
  const std::pair<Status, int> rows[] = {
      {Status::Ok(), 200},
      {Status::InvalidArgument("x"), 400},
      {Status::FailedPrecondition("x"), 400},
      {Status::PermissionDenied("x"), 403},
      {Status::NotFound("x"), 404},
      {Status::AlreadyExists("x"), 409},
      {Status::Busy("x"), 409},
      {Status::Unavailable("x"), 503},
      {Status::DeadlineExceeded("x"), 503},
      {Status::IoError("x"), 500},
      {Status::Error("x"), 500},
  };
  for (const auto& [st, want] : rows) EXPECT_EQ(HttpStatusOf(st), want) << ToString(st.code());
}

TEST(StatusCodes, ContextKeepsTheCodeAndErrnoMapsOnce) {
  Status st = Status::NotFound("slot x").Wrap("drop").Wrap("api");
  EXPECT_TRUE(st.IsNotFound());
  EXPECT_EQ(st.message(), "api: drop: slot x");
  EXPECT_TRUE(ErrnoStatus("write", ENOSPC).IsIoError());
  EXPECT_TRUE(ErrnoStatus("open", ENOENT).IsNotFound());
  EXPECT_TRUE(ErrnoStatus("connect", ECONNREFUSED).IsUnavailable());
  EXPECT_EQ(ErrnoStatus("x", EPROTO).code(), StatusCode::kInternal);
}

TEST(CodeOfSqlState, MapsTheStatesPgrtDecidesOn) {
  EXPECT_EQ(CodeOfSqlState("42710"), StatusCode::kAlreadyExists);
  EXPECT_EQ(CodeOfSqlState("42704"), StatusCode::kNotFound);
  EXPECT_EQ(CodeOfSqlState("55006"), StatusCode::kBusy);
  EXPECT_EQ(CodeOfSqlState("57014"), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(CodeOfSqlState("57P03"), StatusCode::kUnavailable);
  EXPECT_EQ(CodeOfSqlState("08006"), StatusCode::kUnavailable);
  EXPECT_EQ(CodeOfSqlState("28P01"), StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeOfSqlState("53100"), StatusCode::kIoError);
  EXPECT_EQ(CodeOfSqlState("XX000"), StatusCode::kInternal);
}

}  // namespace
}  // namespace pgrt
