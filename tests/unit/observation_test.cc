// ParseObservation: the monitor's five answers → the one Observation every view renders.
// Results are built with libpq's own constructors, as a server would send them.
#include <gtest/gtest.h>

#include "node/monitor.h"

namespace pgrt {
namespace {

// A text-format result with `columns` and `rows` (nullopt: SQL NULL).
PgResult Make(int columns, const std::vector<std::vector<std::optional<std::string>>>& rows) {
  PGresult* r = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
  std::vector<PGresAttDesc> attrs(static_cast<size_t>(columns));
  std::vector<std::string> names;
  for (int c = 0; c < columns; ++c) names.push_back("c" + std::to_string(c));
  for (int c = 0; c < columns; ++c) {
    attrs[c] = PGresAttDesc{};
    attrs[c].name = names[c].data();
    attrs[c].typid = 25;  // text
    attrs[c].typlen = -1;
    attrs[c].atttypmod = -1;
  }
  PQsetResultAttrs(r, columns, attrs.data());
  for (size_t i = 0; i < rows.size(); ++i)
    for (int c = 0; c < columns; ++c) {
      const auto& v = rows[i][static_cast<size_t>(c)];
      PQsetvalue(r, static_cast<int>(i), c, v ? const_cast<char*>(v->c_str()) : nullptr,
                 v ? static_cast<int>(v->size()) : -1);
    }
  return PgResult(r);
}

std::vector<PgResult> ReplicaAnswer() {
  std::vector<PgResult> rs;
  rs.push_back(Make(
      13, {{"t", "15.18 (Debian 15.18-0+deb12u1)", "1700000000.5", "3", "100", "2", std::nullopt,
            "0/3000100", "0/3000000", "2026-11-28T07:00:00.250Z", "1.5", "256", "f"}}));
  rs.push_back(Make(16, {}));
  rs.push_back(Make(8, {}));
  rs.push_back(Make(10, {{"streaming", "127.0.0.1", "5432", "replica_slot", "2", "0/3000100",
                          std::nullopt, "4711", "0/3000100", "2026-11-28T07:00:01.000Z"}}));
  rs.push_back(
      Make(7, {{"off", "0", std::nullopt, std::nullopt, "0", std::nullopt, std::nullopt}}));
  return rs;
}

TEST(ParseObservation, AReplicaRowGivesRoleLagReceiverAndArchive) {
  auto o = ParseObservation(ReplicaAnswer());
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->role, PgRole::kReplica);
  EXPECT_EQ(o->version, "15.18 (Debian 15.18-0+deb12u1)");
  EXPECT_DOUBLE_EQ(o->started_epoch, 1700000000.5);
  EXPECT_EQ(o->connections, 3);
  EXPECT_EQ(o->max_connections, 100);
  EXPECT_EQ(o->timeline, 2);
  EXPECT_FALSE(o->current_lsn.has_value());
  EXPECT_EQ(o->receive_lsn, "0/3000100");
  EXPECT_EQ(o->replay_lsn, "0/3000000");
  EXPECT_DOUBLE_EQ(o->lag_seconds, 1.5);
  EXPECT_EQ(o->replay_lag_bytes, 256);
  EXPECT_FALSE(o->paused);
  EXPECT_TRUE(o->streaming);
  EXPECT_EQ(o->wal_receiver["senderPort"], 5432);
  EXPECT_TRUE(o->wal_receiver["lastMsgReceiptTime"].is_null());
  // The OpenRuntimes runtime's walReceiver fields, with their types.
  EXPECT_EQ(o->wal_receiver["pid"], 4711);
  EXPECT_EQ(o->wal_receiver["receivedLsn"], "0/3000100");
  EXPECT_EQ(o->wal_receiver["lastMsgSendTime"], "2026-11-28T07:00:01.000Z");
  EXPECT_EQ(o->last_replay_timestamp, "2026-11-28T07:00:00.250Z");
  EXPECT_EQ(o->archive["mode"], "off");
  EXPECT_EQ(o->archive["archivedCount"], 0);
}

TEST(ParseObservation, APrimaryRowListsStandbysAndSlotsWithTheirTypes) {
  std::vector<PgResult> rs;
  rs.push_back(Make(13, {{"f", "15.18", "1700000000", "1", "100", "1", "0/5000000", std::nullopt,
                          std::nullopt, std::nullopt, "0", "0", "f"}}));
  rs.push_back(Make(16, {{"127.0.0.1", "replica1", "streaming", "0/5000000", "0/5000000",
                          "0/5000000", "0/5000000", "async", "0", std::nullopt, std::nullopt,
                          std::nullopt, "0", std::nullopt, "45678", "2026-11-28T07:00:02.125Z"}}));
  rs.push_back(Make(
      8, {{"replica_slot", "physical", "t", "0/5000000", "4242", "reserved", "0", std::nullopt}}));
  rs.push_back(Make(10, {}));
  rs.push_back(
      Make(7, {{"off", "0", std::nullopt, std::nullopt, "0", std::nullopt, std::nullopt}}));
  auto o = ParseObservation(rs);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->role, PgRole::kPrimary);
  EXPECT_EQ(o->current_lsn, "0/5000000");
  ASSERT_EQ(o->standbys.size(), 1u);
  EXPECT_EQ(o->standbys[0]["applicationName"], "replica1");
  EXPECT_EQ(o->standbys[0]["syncPriority"], 0);
  EXPECT_TRUE(o->standbys[0]["replayLagSeconds"].is_null());
  EXPECT_TRUE(o->standbys[0]["clientHostname"].is_null());
  EXPECT_EQ(o->standbys[0]["clientPort"], 45678);
  EXPECT_EQ(o->standbys[0]["replyTime"], "2026-11-28T07:00:02.125Z");
  ASSERT_EQ(o->slots.size(), 1u);
  EXPECT_EQ(o->slots[0]["active"], true);
  EXPECT_EQ(o->slots[0]["activePid"], 4242);
  EXPECT_TRUE(o->slots[0].contains("database") && o->slots[0]["database"].is_null());
  EXPECT_FALSE(o->streaming);
  EXPECT_EQ(o->wal_receiver["status"], "stopped");
}

TEST(ParseObservation, TheCountersOfTheStatusPagesRatesAreReadWhenPresent) {
  auto rs = ReplicaAnswer();
  auto o = ParseObservation(rs);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->xacts, -1) << "unknown without the columns";
  rs[0] = Make(15, {{"f", "15.18", "1700000000.5", "3", "100", "1", "0/3000100", std::nullopt,
                     std::nullopt, std::nullopt, "0", "0", "f", "123456", "50331904"}});
  o = ParseObservation(rs);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->xacts, 123456);
  EXPECT_DOUBLE_EQ(o->wal_bytes, 50331904);
}

TEST(ParseObservation, AnAnswerOfTheWrongShapeIsAnErrorNotAGuess) {
  std::vector<PgResult> rs = ReplicaAnswer();
  rs.pop_back();
  EXPECT_FALSE(ParseObservation(rs).ok());
}

}  // namespace
}  // namespace pgrt
