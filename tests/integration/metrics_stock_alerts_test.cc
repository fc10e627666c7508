// The alert rules users bring from postgres_exporter's world work on pgrt's /metrics unchanged:
// postgres_exporter's own postgres_mixin alerts (rendered with jsonnet) and
// awesome-prometheus-alerts' rules for postgres_exporter, as their projects publish them
// (scripts/fetch-reference-rules.sh pins and checks them). Real situations are made on real
// nodes — connections up to the limit postgres enforces, a lock table filling up, real
// deadlocks, postgres stopped, an unused slot, a replica whose replay is paused — while
// /metrics is scraped; the scrapes become promtool's input series (one scrape per 15 s
// step of promtool's clock, so a rule's `for` is met by holding the situation for that many
// scrapes), and `promtool test rules` checks which alerts fire at each point.
//
// What is claimed: each alert in kClaimed fires exactly where postgres itself says the
// situation holds (it refused a connection, reported deadlocks, holds the locks, ...) and
// is silent everywhere else in the same run. Rules whose expressions read the wall clock
// (time(), timestamp()) are not claimed: promtool's clock starts at 0.
//
// PgBouncer's side (awesome-prometheus-alerts' spreaker-pgbouncer-exporter.yml, all three
// rules, kClaimedPgbouncer) runs on a node with PgBouncer: 201 real server connections held
// by clients in transactions, clients past PgBouncer's max_client_conn, and failed logins.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>
#include <thread>

#include "pooler_helpers.h"
#include "replication_helpers.h"

namespace pgrt::testing::pool {
namespace {

constexpr char kRulesDir[] = "/usr/local/share/pgrt-reference-rules";
constexpr int kStepSeconds = 15;

// The alerts this test proves, from both rule sets.
constexpr const char* kClaimed[] = {
    // postgres_mixin (postgres_exporter)
    "PostgreSQLMaxConnectionsReached", "PostgreSQLHighConnections", "PostgreSQLDown",
    "PostgresAcquiredTooManyLocks", "PostgresHasExporterErrors", "PostgresHasReplicationSlotUsed",
    // awesome-prometheus-alerts
    "PostgresqlDown", "PostgresqlExporterError", "PostgresqlTooManyConnections",
    "PostgresqlDeadLocks", "PostgresqlReplicationLag"};
// Not claimed: awesome-prometheus-alerts' PostgresqlUnusedReplicationSlot and
// PostgresqlTooManyLocksAcquired (at the pinned commit) compare series whose labels differ
// (slot_name; job) without on(), so they stay silent with any exporter, postgres_exporter's
// included; the mixin's PostgresHasReplicationSlotUsed and PostgresAcquiredTooManyLocks
// cover the same situations.

std::string PromQlQuoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out + "\"";
}

std::string YamlSingleQuoted(const std::string& v) {
  std::string out = "'";
  for (char c : v) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// awesome-prometheus-alerts' rules for the PgBouncer exporter (spreaker-pgbouncer-exporter.yml).
constexpr const char* kClaimedPgbouncer[] = {"PgbouncerActiveConnections", "PgbouncerErrors",
                                             "PgbouncerMaxConnections"};

// Scrapes of one or more nodes on promtool's clock, and what must be firing where.
class Timeline {
 public:
  // `claimed`: the alerts whose firing the checks compare (others are not looked at).
  Timeline() : Timeline(std::begin(kClaimed), std::end(kClaimed)) {}
  template <typename It>
  Timeline(It first, It last) : claimed_(first, last) {}

  // One step: every node scraped once; `instance` is the label Prometheus would add.
  void Step(const std::vector<std::pair<std::string, const PgrtNode*>>& nodes) {
    for (const auto& [instance, node] : nodes) {
      HttpResponse r = node->Get("/metrics");
      ASSERT_EQ(r.status, 200) << r.body;
      for (const Sample& s : ParseMetrics(r.body)) {
        if (!std::isfinite(s.value)) continue;
        std::map<std::string, std::string> labels = s.labels;
        labels["instance"] = instance;
        labels["job"] = "pgrt";
        std::string key = s.name + "{";
        for (const auto& [k, v] : labels)
          key += (key.back() == '{' ? "" : ",") + k + "=" + PromQlQuoted(v);
        series_[key + "}"][steps_] = s.value;
      }
    }
    ++steps_;
  }
  void Hold(int steps, const std::vector<std::pair<std::string, const PgrtNode*>>& nodes) {
    for (int i = 0; i < steps; ++i) ASSERT_NO_FATAL_FAILURE(Step(nodes));
  }
  // At the latest step, exactly `firing` of the claimed fire ("Alert" or "Alert@instance").
  void Expect(std::set<std::string> firing) { checks_.emplace_back(steps_ - 1, firing); }

  // promtool's unit test file for `rule_files`.
  std::string TestFile(const std::vector<std::string>& rule_files) const {
    std::string claimed;
    for (const std::string& a : claimed_) claimed += (claimed.empty() ? "" : "|") + a;
    std::string y = "rule_files:\n";
    for (const auto& f : rule_files) y += "  - " + YamlSingleQuoted(f) + "\n";
    y += "evaluation_interval: " + std::to_string(kStepSeconds) +
         "s\ntests:\n  - interval: " + std::to_string(kStepSeconds) + "s\n    input_series:\n";
    for (const auto& [key, values] : series_) {
      std::string line;
      for (size_t i = 0; i < steps_; ++i) {
        // A series gone from a scrape is stale at once, as Prometheus marks it.
        char buf[64] = "_";
        if (auto it = values.find(i); it != values.end())
          std::snprintf(buf, sizeof buf, "%.17g", it->second);
        else if (i > 0 && values.count(i - 1))
          std::snprintf(buf, sizeof buf, "stale");
        line += (i ? " " : "") + std::string(buf);
      }
      y += "      - series: " + YamlSingleQuoted(key) + "\n        values: '" + line + "'\n";
    }
    y += "    promql_expr_test:\n";
    for (const auto& [step, firing] : checks_) {
      y += "      - expr: 'count by (alertname, instance) (ALERTS{alertstate=\"firing\", "
           "alertname=~\"" +
           claimed + "\"})'\n        eval_time: " + std::to_string(step * kStepSeconds) +
           "s\n        exp_samples:" + (firing.empty() ? " []\n" : "\n");
      for (const std::string& f : firing) {
        size_t at = f.find('@');
        std::string labels = "{alertname=\"" + f.substr(0, at) + "\",instance=\"" +
                             (at == std::string::npos ? "node" : f.substr(at + 1)) + "\"}";
        y += "          - labels: " + YamlSingleQuoted(labels) + "\n            value: 1\n";
      }
    }
    return y;
  }

 private:
  std::vector<std::string> claimed_;
  std::map<std::string, std::map<size_t, double>> series_;  // series → step → value
  size_t steps_ = 0;
  std::vector<std::pair<size_t, std::set<std::string>>> checks_;
};

// promtool's verdict on `timeline` against the stock rule files (rendered into `dir`).
CommandOutput RunStockRules(const Timeline& timeline, const TempDir& dir) {
  const std::string rules = kRulesDir;
  CommandOutput mixin = Shell("cd '" + rules +
                              "/postgres_mixin' && exec jsonnet -e '((import \"config.libsonnet\")"
                              " + (import \"alerts/alerts.libsonnet\")).prometheusAlerts' > '" +
                              dir.Sub("mixin-alerts.json") + "'");
  if (mixin.exit_code != 0) return mixin;
  WriteFileOrDie(dir.Sub("stock_test.yml"),
                 timeline.TestFile({dir.Sub("mixin-alerts.json"),
                                    rules + "/awesome-prometheus-alerts/postgres-exporter.yml"}));
  return Shell("cd '" + dir.path() + "' && exec promtool test rules stock_test.yml 2>&1");
}

// promtool's verdict on `timeline` against awesome-prometheus-alerts' PgBouncer rules.
CommandOutput RunPgbouncerRules(const Timeline& timeline, const TempDir& dir) {
  WriteFileOrDie(dir.Sub("pgbouncer_test.yml"),
                 timeline.TestFile({std::string(kRulesDir) +
                                    "/awesome-prometheus-alerts/spreaker-pgbouncer-exporter.yml"}));
  return Shell("cd '" + dir.path() + "' && exec promtool test rules pgbouncer_test.yml 2>&1");
}

bool ReferenceRulesPresent() {
  return Shell("test -f '" + std::string(kRulesDir) +
               "/awesome-prometheus-alerts/postgres-exporter.yml' && command -v jsonnet")
             .exit_code == 0;
}

// One real deadlock between two sessions of `p`; true when postgres reported it.
bool Deadlock(const ConnParams& p) {
  auto a = PgConn::Connect(p), b = PgConn::Connect(p);
  if (!a.ok() || !b.ok()) return false;
  if (!a->Exec("BEGIN; UPDATE dl SET v = v + 1 WHERE k = 1").ok()) return false;
  if (!b->Exec("BEGIN; UPDATE dl SET v = v + 1 WHERE k = 2").ok()) return false;
  Status first = Status::Ok();
  std::thread waiter([&] { first = a->Exec("UPDATE dl SET v = v + 1 WHERE k = 2").status(); });
  std::this_thread::sleep_for(milliseconds(150));  // a now waits for b's row
  Status second = b->Exec("UPDATE dl SET v = v + 1 WHERE k = 1").status();
  waiter.join();
  (void)a->Exec("ROLLBACK");
  (void)b->Exec("ROLLBACK");
  auto detected = [](const Status& s) {
    return s.message().find("deadlock detected") != std::string::npos;
  };
  return detected(first) != detected(second);  // postgres picked exactly one victim
}

}  // namespace

TEST(MetricsStockAlerts, ConnectionsLocksDeadlocksAndPostgresDownFireTheStockAlertsAndNothingElse) {
  if (!ReferenceRulesPresent())
    GTEST_SKIP() << "the reference alert rules are not here (scripts/fetch-reference-rules.sh "
                    "needs GitHub) or jsonnet is missing";
  const std::string token = "stock-alerts-token";
  PgrtNode node(Env{{"PGRT_API_TOKEN", token}});
  // A small server: the connection limit is reached with a few sessions.
  node.Start({"run", "--", "-c", "max_connections=20", "-c", "superuser_reserved_connections=3",
              "-c", "deadlock_timeout=100ms"});
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  std::string error;
  node.Query(
      "CREATE ROLE crowd LOGIN PASSWORD 'crowd-pw'; GRANT ALL ON SCHEMA public TO crowd;"
      " CREATE TABLE dl (k int PRIMARY KEY, v int); INSERT INTO dl VALUES (1, 0), (2, 0);"
      " DO $$ BEGIN FOR i IN 1..300 LOOP EXECUTE format('CREATE TABLE lk%s (i int)', i);"
      " END LOOP; END $$",
      &error);
  ASSERT_EQ(error, "");
  const std::vector<std::pair<std::string, const PgrtNode*>> nodes = {{"node", &node}};

  // Every series the mixin's dashboard draws is on the page.
  CommandOutput drawn = Shell("grep -o '\\bpg_[a-z_]*' '" + std::string(kRulesDir) +
                              "/postgres_mixin/dashboards/postgres-overview.json' | sort -u");
  ASSERT_EQ(drawn.exit_code, 0);
  const std::string page = Metrics(node);
  std::istringstream names(drawn.output);
  int checked = 0;
  for (std::string name; std::getline(names, name); ++checked)
    EXPECT_TRUE(Value(page, name)) << name << " is drawn by the dashboard, missing from\n" << page;
  EXPECT_GE(checked, 15);

  Timeline tl;

  // Quiet: none of the claimed alerts.
  ASSERT_NO_FATAL_FAILURE(tl.Hold(8, nodes));
  tl.Expect({});

  // Connections up to the limit: postgres refuses an ordinary role the next one (the rest
  // are reserved for superusers).
  ConnParams crowd = node.Conn();
  crowd["user"] = "crowd";
  crowd["password"] = "crowd-pw";
  std::vector<PgConn> held;
  std::string refusal;
  for (int i = 0; i < 25 && refusal.empty(); ++i) {
    auto c = PgConn::Connect(crowd);
    if (c.ok())
      held.push_back(std::move(*c));
    else
      refusal = c.status().message();
  }
  ASSERT_NE(refusal.find("reserved"), std::string::npos) << refusal;
  // pgrt's own short connections open at the refusal (the monitor's, each second) go again,
  // and the count would drop below the limit: superuser sessions take their places, so that
  // the crowd and the scrape's kept connection fill the 17 ordinary slots, one reserved slot
  // still free for the monitor.
  for (size_t i = held.size(); i < 16; ++i) {
    auto c = PgConn::Connect(node.Conn());
    ASSERT_TRUE(c.ok()) << c.status().message();
    held.push_back(std::move(*c));
  }
  ASSERT_NO_FATAL_FAILURE(tl.Hold(42, nodes));  // the mixin's 10 minutes
  tl.Expect({"PostgreSQLMaxConnectionsReached", "PostgreSQLHighConnections",
             "PostgresqlTooManyConnections"});
  held.clear();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Value(Metrics(node), "pg_stat_activity_count",
                     {{"datname", node.env().at("POSTGRES_DB")}, {"state", "idle"}})
                   .value_or(99) < 5;
      },
      milliseconds(10000), milliseconds(100)));
  ASSERT_NO_FATAL_FAILURE(tl.Hold(2, nodes));
  tl.Expect({});

  // One transaction locking 300 tables: over 20 % of the lock table (64 × 20 slots).
  auto locker = PgConn::Connect(node.Conn());
  ASSERT_TRUE(locker.ok());
  std::string tables;
  for (int i = 1; i <= 300; ++i) tables += (i > 1 ? ", lk" : "lk") + std::to_string(i);
  ASSERT_TRUE(locker->Exec("BEGIN; LOCK TABLE " + tables + " IN ACCESS EXCLUSIVE MODE").ok());
  auto locks = locker->Exec("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock'");
  ASSERT_TRUE(locks.ok());
  ASSERT_GE(std::stoi(locks->Get(0, 0)), 300);
  ASSERT_NO_FATAL_FAILURE(tl.Hold(22, nodes));  // the mixin's 5 minutes
  tl.Expect({"PostgresAcquiredTooManyLocks"});
  ASSERT_TRUE(locker->Exec("ROLLBACK").ok());
  ASSERT_NO_FATAL_FAILURE(tl.Hold(2, nodes));
  tl.Expect({});

  // Eight real deadlocks in the application's database, then within a minute: more than 5.
  int deadlocks = 0;
  for (int i = 0; i < 8; ++i) deadlocks += Deadlock(node.Conn()) ? 1 : 0;
  ASSERT_EQ(deadlocks, 8);
  // Statistics reach pg_stat_database when a backend goes idle (within ~1 s).
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Value(Metrics(node), "pg_stat_database_deadlocks",
                     {{"datname", node.env().at("POSTGRES_DB")}})
                   .value_or(0) >= 8;
      },
      milliseconds(10000), milliseconds(200)));
  ASSERT_NO_FATAL_FAILURE(tl.Step(nodes));
  tl.Expect({"PostgresqlDeadLocks"});
  ASSERT_NO_FATAL_FAILURE(tl.Hold(6, nodes));  // the minute passes without more
  tl.Expect({});

  // postgres stopped (pgrt keeps answering /metrics): down, and the exporter's error.
  ASSERT_EQ(HttpRequest(node.api_port(), "POST", "/__opr/hibernate", token).status, 200);
  ASSERT_TRUE(WaitUntil([&] { return Value(Metrics(node), "pg_up") == 0.0; }, milliseconds(10000),
                        milliseconds(100)));
  ASSERT_NO_FATAL_FAILURE(tl.Step(nodes));
  tl.Expect({"PostgresqlExporterError"});        // the others wait their minute
  ASSERT_NO_FATAL_FAILURE(tl.Hold(121, nodes));  // the mixin's 30 minutes
  tl.Expect(
      {"PostgresqlDown", "PostgreSQLDown", "PostgresqlExporterError", "PostgresHasExporterErrors"});

  TempDir dir;
  CommandOutput verdict = RunStockRules(tl, dir);
  EXPECT_EQ(verdict.exit_code, 0) << verdict.output;
}

TEST(MetricsStockAlerts, AnUnusedSlotAndAPausedReplicaFireTheStockAlertsOnTheRightNode) {
  if (!ReferenceRulesPresent())
    GTEST_SKIP() << "the reference alert rules are not here (scripts/fetch-reference-rules.sh "
                    "needs GitHub) or jsonnet is missing";
  std::unique_ptr<PgrtNode> primary, replica;
  // The replica reads the slot the primary keeps for it (POSTGRES_REPLICATION_SLOT_NAME's
  // default), so no slot is unused until the test makes one.
  ASSERT_NO_FATAL_FAILURE(repl::StartPair(primary, replica, "replica_slot"));
  ASSERT_EQ(primary->Query("INSERT INTO t VALUES ('one'); SELECT 'ok'"), "ok");
  ASSERT_TRUE(repl::WaitForValue(*replica, "SELECT count(*) FROM t", "1")) << replica->Log();
  const std::vector<std::pair<std::string, const PgrtNode*>> nodes = {{"primary", primary.get()},
                                                                      {"replica", replica.get()}};

  // The names the stock rules read are there on both kinds of node (lag as 0 on a primary).
  for (const auto& [kind, node] : nodes) {
    std::string body = Metrics(*node);
    for (const char* name :
         {"pg_replication_lag", "pg_replication_lag_seconds", "pg_replication_is_replica",
          "pg_settings_max_connections", "pg_settings_superuser_reserved_connections",
          "pg_settings_max_locks_per_transaction", "pg_settings_autovacuum_vacuum_threshold",
          "pg_locks_count", "pg_stat_activity_max_tx_duration",
          "pg_stat_bgwriter_checkpoints_timed_total", "pg_stat_database_conflicts",
          "pg_stat_user_tables_n_dead_tup", "pg_exporter_last_scrape_error"})
      EXPECT_TRUE(Value(body, name)) << kind << " lacks " << name << "\n" << body;
  }
  EXPECT_EQ(Value(Metrics(*primary), "pg_replication_lag_seconds"), 0.0);

  Timeline tl;
  ASSERT_NO_FATAL_FAILURE(tl.Hold(4, nodes));  // the replica's slot is in use: quiet
  tl.Expect({});

  // A slot nobody reads, on the primary.
  ASSERT_EQ(primary->Query("SELECT 'ok' FROM pg_create_physical_replication_slot('unused')"), "ok");
  ASSERT_EQ(primary->Query("SELECT active FROM pg_replication_slots WHERE slot_name = 'unused'"),
            "f");
  ASSERT_NO_FATAL_FAILURE(tl.Hold(5, nodes));
  tl.Expect({});  // not yet: the mixin waits 30 minutes
  ASSERT_NO_FATAL_FAILURE(tl.Hold(117, nodes));
  tl.Expect({"PostgresHasReplicationSlotUsed@primary"});
  ASSERT_EQ(primary->Query("SELECT 'ok' FROM pg_drop_replication_slot('unused')"), "ok");
  ASSERT_NO_FATAL_FAILURE(tl.Step(nodes));
  tl.Expect({});

  // Replay paused while the primary writes: over 5 s of lag by postgres's own clock.
  ASSERT_EQ(repl::Call(*replica, "POST", "/__opr/replication/pause").status, 200);
  std::this_thread::sleep_for(milliseconds(500));
  ASSERT_EQ(primary->Query("INSERT INTO t VALUES ('two'); SELECT 'ok'"), "ok");
  const std::string lag_sql =
      "SELECT (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) > 5"
      " AND pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn())::text";
  ASSERT_TRUE(repl::WaitForValue(*replica, lag_sql, "true", milliseconds(15000))) << replica->Log();
  ASSERT_NO_FATAL_FAILURE(tl.Hold(4, nodes));  // awesome's 30 s
  tl.Expect({"PostgresqlReplicationLag@replica"});

  ASSERT_EQ(repl::Call(*replica, "POST", "/__opr/replication/resume").status, 200);
  ASSERT_TRUE(repl::WaitForValue(*replica, "SELECT count(*) FROM t", "2")) << replica->Log();
  ASSERT_TRUE(
      WaitUntil([&] { return Value(Metrics(*replica), "pg_replication_lag_seconds") == 0.0; },
                milliseconds(10000), milliseconds(100)));
  ASSERT_NO_FATAL_FAILURE(tl.Step(nodes));
  tl.Expect({});

  TempDir dir;
  CommandOutput verdict = RunStockRules(tl, dir);
  EXPECT_EQ(verdict.exit_code, 0) << verdict.output;
}

// PgBouncer's side: awesome-prometheus-alerts' rules for the PgBouncer exporter, on a node
// running PgBouncer, over the same real-situation timeline. pgbouncer_errors_count comes
// from PgBouncer's own "pooler error" log lines, which pgrt reads (docs/pooling-and-metrics.md).
TEST(MetricsStockAlerts, PgbouncerServerConnectionsClientLimitAndErrorsFireThePgbouncerAlerts) {
  if (!ReferenceRulesPresent() ||
      Shell("test -f '" + std::string(kRulesDir) +
            "/awesome-prometheus-alerts/spreaker-pgbouncer-exporter.yml'")
              .exit_code != 0)
    GTEST_SKIP() << "the reference alert rules are not here (scripts/fetch-reference-rules.sh "
                    "needs GitHub) or jsonnet is missing";
  constexpr int kActive = 201;  // the rule's "> 200"
  // Room for kActive server connections in one pool, and a client limit just above them.
  PgrtNode node(
      PoolerEnv({{"PGBOUNCER_MAX_CLIENT_CONN", "230"}, {"PGBOUNCER_DEFAULT_POOL_SIZE", "210"}}));
  node.Start({"run", "--", "-c", "max_connections=240"});
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(WaitPoolerAnswers(node)) << node.Log();
  const std::vector<std::pair<std::string, const PgrtNode*>> nodes = {{"node", &node}};
  const std::map<std::string, std::string> kMaxClient = {
      {"errmsg", "no more connections allowed (max_client_conn)"}};
  const std::map<std::string, std::string> kCrashed = {{"errmsg", "server conn crashed?"}};

  // The messages the rules select are on the page before any error, at 0.
  std::string page = Metrics(node);
  EXPECT_EQ(Value(page, "pgbouncer_errors_count", kMaxClient), 0.0) << page;
  EXPECT_EQ(Value(page, "pgbouncer_errors_count", kCrashed), 0.0) << page;

  Timeline tl(std::begin(kClaimedPgbouncer), std::end(kClaimedPgbouncer));
  ASSERT_NO_FATAL_FAILURE(tl.Hold(4, nodes));
  tl.Expect({});

  // kActive clients, each inside a transaction, so each holds a server connection.
  std::vector<PgConn> clients;
  for (int i = 0; i < kActive; ++i) {
    auto c = PgConn::Connect(PoolerConn(node));
    ASSERT_TRUE(c.ok()) << i << ": " << c.status().message();
    ASSERT_TRUE(c->Exec("BEGIN; SELECT 1").ok()) << i;
    clients.push_back(std::move(*c));
  }
  const std::string db = node.env().at("POSTGRES_DB");
  ASSERT_EQ(node.Query("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db +
                       "' AND state = 'idle in transaction'"),
            std::to_string(kActive));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Value(Metrics(node), "pgbouncer_pools_server_active_connections", {{"database", db}})
                   .value_or(0) >= kActive;
      },
      milliseconds(10000), milliseconds(100)));
  ASSERT_NO_FATAL_FAILURE(tl.Step(nodes));
  tl.Expect({});  // the rule waits 2 minutes
  ASSERT_NO_FATAL_FAILURE(tl.Hold(9, nodes));
  tl.Expect({"PgbouncerActiveConnections"});

  // postgres ends those server connections under their clients: PgBouncer tells each client
  // "server conn crashed?", the one message PgbouncerErrors leaves out.
  ASSERT_EQ(node.Query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                       "datname = '" +
                       db + "' AND state = 'idle in transaction'"),
            std::to_string(kActive));
  ASSERT_TRUE(
      WaitUntil([&] { return Value(Metrics(node), "pgbouncer_errors_count", kCrashed) >= kActive; },
                milliseconds(10000), milliseconds(100)))
      << node.Log();
  clients.clear();
  ASSERT_NO_FATAL_FAILURE(tl.Step(nodes));
  tl.Expect({});
  EXPECT_EQ(Value(Metrics(node), "pgbouncer_errors_count", kMaxClient), 0.0);

  // Clients up to max_client_conn (pgrt's scrapes use one on the console): PgBouncer refuses
  // the next one.
  std::string refusal;
  for (int i = 0; i < 240 && refusal.empty(); ++i) {
    auto c = PgConn::Connect(PoolerConn(node));
    if (c.ok())
      clients.push_back(std::move(*c));
    else
      refusal = c.status().message();
  }
  ASSERT_NE(refusal.find("no more connections allowed (max_client_conn)"), std::string::npos)
      << refusal;
  EXPECT_GE(clients.size(), 225u);
  ASSERT_TRUE(
      WaitUntil([&] { return Value(Metrics(node), "pgbouncer_errors_count", kMaxClient) == 1.0; },
                milliseconds(10000), milliseconds(100)))
      << Metrics(node);
  clients.clear();
  ASSERT_NO_FATAL_FAILURE(tl.Step(nodes));
  tl.Expect({"PgbouncerMaxConnections"});      // one error: not PgbouncerErrors' "more than 10"
  ASSERT_NO_FATAL_FAILURE(tl.Hold(9, nodes));  // the rule's 2 minutes pass without another
  tl.Expect({});

  // Failed logins (SCRAM, a wrong password): PgBouncer refuses each with a pooler error.
  ConnParams wrong = PoolerConn(node);
  wrong["password"] = "not-the-password";
  const std::map<std::string, std::string> kFailed = {{"errmsg", "SASL authentication failed"}};
  auto fail_logins = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto c = PgConn::Connect(wrong);
      ASSERT_FALSE(c.ok());
      ASSERT_NE(c.status().message().find("SASL authentication failed"), std::string::npos)
          << c.status().message();
    }
  };
  // The first one: its message's series starts at 1. (A series is born at its first count,
  // which increase() cannot see; only the rules' own two messages are there at 0 beforehand.)
  ASSERT_NO_FATAL_FAILURE(fail_logins(1));
  ASSERT_TRUE(
      WaitUntil([&] { return Value(Metrics(node), "pgbouncer_errors_count", kFailed) == 1.0; },
                milliseconds(10000), milliseconds(100)))
      << Metrics(node);
  ASSERT_NO_FATAL_FAILURE(tl.Step(nodes));
  tl.Expect({});
  // Five more within the minute: well under "more than 10" (increase() extrapolates to the
  // window's edges, so ten in two samples 15 s apart already read as 15).
  ASSERT_NO_FATAL_FAILURE(fail_logins(5));
  ASSERT_TRUE(
      WaitUntil([&] { return Value(Metrics(node), "pgbouncer_errors_count", kFailed) == 6.0; },
                milliseconds(10000), milliseconds(100)))
      << Metrics(node);
  ASSERT_NO_FATAL_FAILURE(tl.Step(nodes));
  tl.Expect({});
  ASSERT_NO_FATAL_FAILURE(tl.Hold(5, nodes));  // the minute passes
  tl.Expect({});
  // Twenty within the minute.
  ASSERT_NO_FATAL_FAILURE(fail_logins(20));
  ASSERT_TRUE(
      WaitUntil([&] { return Value(Metrics(node), "pgbouncer_errors_count", kFailed) == 26.0; },
                milliseconds(10000), milliseconds(100)))
      << Metrics(node);
  ASSERT_NO_FATAL_FAILURE(tl.Step(nodes));
  tl.Expect({"PgbouncerErrors"});
  ASSERT_NO_FATAL_FAILURE(tl.Hold(5, nodes));  // the minute passes without more
  tl.Expect({});

  TempDir dir;
  CommandOutput verdict = RunPgbouncerRules(tl, dir);
  EXPECT_EQ(verdict.exit_code, 0) << verdict.output;
  // PgBouncer's log still reaches pgrt's own.
  EXPECT_NE(node.Log().find("pooler error: no more connections allowed (max_client_conn)"),
            std::string::npos);
}

}  // namespace pgrt::testing::pool
