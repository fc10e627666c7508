// The bank workload (bank_workload.h) across HA faults in synchronous mode: clients moving
// money through whichever node accepts writes while the leader is killed (kill -9 of pgrt and
// postgres) or its pgrt alone is frozen (SIGSTOP; postgres keeps running until the fence
// watchdog ends it). After each trial and the old leader's rejoin: the total is conserved,
// no transaction is half there, every acknowledged transfer is on the new leader and on the
// rejoined node, and no two nodes were ever seen writable at once. PGRT_HA_BANK_TRIALS sets
// the trials of each test (default 1; `make test-faults` runs 10).
#include <signal.h>

#include <cstdlib>
#include <thread>

#include "integration/bank_workload.h"
#include "integration/ha_helpers.h"

namespace pgrt::testing::ha {
namespace {

using bank::Audit;
using bank::BankAudit;
using bank::BankClients;
using bank::PrimaryMonitor;

enum class Fault { kKillLeader, kFreezeLeaderPgrt };

int Trials() {
  const char* n = std::getenv("PGRT_HA_BANK_TRIALS");
  return n != nullptr ? std::max(1, std::atoi(n)) : 1;
}

std::string SyncStandby(PgrtNode& n) {
  json view = GetJson(n.api_port(), "/cluster").value_or(json());
  return view.is_object() && view["sync_standby"].is_string()
             ? view["sync_standby"].get<std::string>()
             : "";
}

std::string Describe(const BankAudit& a) {
  return "total " + std::to_string(a.total) + ", accounts " + std::to_string(a.accounts) +
         ", transfers " + std::to_string(a.transfers) + ", unbalanced accounts " +
         std::to_string(a.unbalanced) + ", acknowledged but missing " +
         std::to_string(a.missing.size()) + (a.error.empty() ? "" : ", error: " + a.error);
}

// One trial: clients and the monitor run across `fault` of the leader, the new leader's first
// transfers and the old leader's rejoin; then the audits. The new leader's index in *leader.
void BankTrial(Cluster& c, Fault fault, int trial, int* leader) {
  std::string standby;
  ASSERT_TRUE(WaitUntil(
      [&] {
        standby = SyncStandby(c.node(*leader));
        return !standby.empty();
      },
      milliseconds(30000), milliseconds(100)))
      << c.Logs();
  const int sync = std::stoi(standby.substr(1)) - 1;

  std::vector<std::pair<std::string, int>> hosts;
  std::vector<PrimaryMonitor::Target> targets;
  for (int i = 0; i < c.size(); ++i) {
    hosts.emplace_back("127.0.0.1", c.node(i).pg_port());
    targets.push_back({"n" + std::to_string(i + 1), c.node(i).Conn()});
  }
  PrimaryMonitor monitor(targets);
  BankClients clients(bank::AnyWritable(c.node(0).Conn(), hosts), 4,
                      int64_t{1000000000} * (trial + 1));
  ASSERT_TRUE(WaitUntil([&] { return clients.acknowledged() > 100; }, milliseconds(15000)))
      << c.Logs();

  const int old = *leader;
  PgrtNode& victim = c.node(old);
  const pid_t postmaster = victim.PostmasterPid();
  if (fault == Fault::kKillLeader) {
    ::kill(victim.pid(), SIGKILL);
    ::kill(postmaster, SIGKILL);
    victim.WaitExit(milliseconds(5000));
  } else {
    ASSERT_EQ(::kill(victim.pid(), SIGSTOP), 0);
  }
  int fresh = -1;
  const bool promoted = WaitUntil(
      [&] {
        fresh = c.Primary(/*skip=*/old);  // a frozen pgrt would not answer
        return fresh >= 0;
      },
      milliseconds((kTtl + 15) * 1000), milliseconds(50));
  if (fault == Fault::kFreezeLeaderPgrt) ::kill(victim.pid(), SIGCONT);
  ASSERT_TRUE(promoted) << c.Logs();
  EXPECT_EQ(fresh, sync) << "only the synchronous standby may be promoted";
  // The clients find the new leader by themselves.
  const int at_promotion = clients.acknowledged();
  EXPECT_TRUE(
      WaitUntil([&] { return clients.acknowledged() > at_promotion + 100; }, milliseconds(15000)))
      << "no transfer went through on the new leader\n"
      << c.Logs();

  // The old leader rejoins as a replica while the clients go on.
  if (fault == Fault::kKillLeader) victim.Start();
  ASSERT_TRUE(WaitForStatus(victim, "/replica", 200, milliseconds(60000))) << victim.Log();
  clients.Stop();
  monitor.Stop();
  *leader = fresh;

  const std::vector<int64_t> acked = clients.AcknowledgedIds();
  const BankAudit audit = Audit(c.node(fresh).Conn(), acked);
  ::testing::Test::RecordProperty("trial" + std::to_string(trial) + "_acknowledged",
                                  static_cast<int>(acked.size()));
  EXPECT_TRUE(audit.error.empty()) << audit.error;
  EXPECT_EQ(audit.total, bank::kTotal) << Describe(audit);
  EXPECT_EQ(audit.accounts, bank::kAccounts) << Describe(audit);
  EXPECT_EQ(audit.unbalanced, 0) << "a transfer is half there: " << Describe(audit);
  EXPECT_TRUE(audit.missing.empty())
      << "trial " << trial << ": " << acked.size() << " acknowledged, " << Describe(audit);
  EXPECT_GE(audit.transfers, static_cast<long>(acked.size())) << Describe(audit);

  const std::vector<std::string> overlaps = monitor.Overlaps();
  EXPECT_TRUE(overlaps.empty()) << overlaps.size()
                                << " intervals with two primaries, first: " << overlaps.front()
                                << "\nold leader n" << old + 1 << ", new leader n" << fresh + 1
                                << "\n"
                                << c.Logs();
  // The monitor saw both leaders writable: its silence about overlaps means something.
  EXPECT_GT(monitor.WritableSamples(old), 0);
  EXPECT_GT(monitor.WritableSamples(fresh), 0);

  // The rejoined node holds exactly the new leader's bank.
  const std::string state =
      "SELECT sum(balance) || ':' || (SELECT count(*) FROM transfers)"
      " FROM accounts";
  const std::string expected = c.node(fresh).Query(state);
  EXPECT_TRUE(WaitForValue(victim, state, expected, milliseconds(30000)))
      << "rejoined node: " << victim.Query(state) << ", leader: " << expected;
}

void BankTrials(Fault fault) {
  Cluster c(3, {{"PGRT_SYNC_MODE", "on"}});
  c.StartAll();
  int leader = c.WaitSettled();
  ASSERT_GE(leader, 0) << c.Logs();
  ASSERT_EQ(c.node(leader).Query(bank::SchemaSql() + "SELECT 'ok'"), "ok");
  for (int trial = 0; trial < Trials(); ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    ASSERT_NO_FATAL_FAILURE(BankTrial(c, fault, trial, &leader));
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace

TEST(HaBank, KilledLeadersConserveTheTotalLoseNoAcknowledgedTransferAndNeverLeaveTwoPrimaries) {
  BankTrials(Fault::kKillLeader);
}

TEST(HaBank, FrozenLeaderPgrtsConserveTheTotalLoseNoAcknowledgedTransferAndNeverLeaveTwoPrimaries) {
  BankTrials(Fault::kFreezeLeaderPgrt);
}

// The monitor's silence is worth something only if it speaks up: two standalone primaries
// side by side are reported as an overlap.
TEST(HaBank, TheMonitorReportsTwoNodesWritableAtOnceAsAnOverlap) {
  PgrtNode a, b;
  a.Start();
  b.Start();
  ASSERT_TRUE(a.WaitHealthy()) << a.Log();
  ASSERT_TRUE(b.WaitHealthy()) << b.Log();
  PrimaryMonitor monitor({{"a", a.Conn()}, {"b", b.Conn()}});
  std::this_thread::sleep_for(milliseconds(500));
  monitor.Stop();
  EXPECT_GT(monitor.WritableSamples(0), 5);
  EXPECT_FALSE(monitor.Overlaps().empty());
}

}  // namespace pgrt::testing::ha
