// Names and passwords full of quotes, spaces, semicolons and dollars: pgrt passes them
// through exactly and never interprets them; a name PostgreSQL itself cannot bootstrap is
// refused plainly, and so is a value holding a line break, which would add lines to the
// files pgrt writes (docs/security.md).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "harness/harness.h"
#include "integration/backup_helpers.h"
#include "integration/replication_helpers.h"
#include "unit/file_readers.h"

namespace pgrt::testing {

TEST(HostileNames, QuotedUserDatabaseAndPasswordWorkExactlyAndExtensionsAreCreated) {
  // initdb refuses " $ ' \ in the superuser's name (see the next test); everything else goes.
  const std::string user = "We ird-User; DROP x %s";
  const std::string db = "my-db; drop $x";
  const std::string password = "pa'ss \"w$ord; x";
  PgrtNode node(Env{{"POSTGRES_USER", user},
                    {"POSTGRES_DB", db},
                    {"POSTGRES_PASSWORD", password},
                    {"POSTGRES_EXTENSIONS", "pg_trgm,hstore"}});
  // The init scripts connect through PGUSER/PGDATABASE: the names must reach them intact.
  std::filesystem::create_directory(node.dir() + "/initdb.d");
  WriteFileOrDie(node.dir() + "/initdb.d/01-mark.sql",
                 "CREATE TABLE marked AS SELECT current_user AS who, current_database() AS db;\n");

  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();

  std::string error;
  EXPECT_EQ(node.Query("SELECT current_user", &error), user) << error;
  EXPECT_EQ(node.Query("SELECT current_database()", &error), db) << error;
  EXPECT_EQ(node.Query("SELECT who || '|' || db FROM marked", &error), user + "|" + db) << error;
  EXPECT_EQ(node.Query("SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension "
                       "WHERE extname IN ('pg_trgm', 'hstore')",
                       &error),
            "hstore,pg_trgm")
      << error;
  EXPECT_EQ(node.Query("SELECT similarity('word', 'word')::text", &error), "1") << error;

  // The exact password and nothing like it.
  for (const std::string& wrong :
       {std::string("pa'ss"), std::string("pa''ss \"w$ord; x"), std::string("pa'ss \"w; x")}) {
    ConnParams p = node.Conn();
    p["password"] = wrong;
    EXPECT_FALSE(PgConn::Connect(p).ok()) << wrong;
  }

  // The node comes back on the same names.
  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(node.Query("SELECT count(*) FROM marked", &error), "1") << error;
  EXPECT_EQ(node.Get("/__opr/status").status, 200);
}

TEST(HostileNames, ASuperuserNameInitdbCannotCreateIsAConfigurationErrorBeforeAnythingIsTouched) {
  for (const std::string user : {"we\"ird user", "o'brien", "cost$", "back\\slash"}) {
    PgrtNode node(Env{{"POSTGRES_USER", user}});
    node.Start();
    auto exited = node.WaitExit(std::chrono::milliseconds(30000));
    ASSERT_TRUE(exited.has_value()) << user << "\n" << node.Log();
    EXPECT_EQ(ExitCode(exited), 2) << user << "\n" << node.Log();
    std::string log = node.Log();
    EXPECT_NE(log.find("POSTGRES_USER"), std::string::npos) << log;
    EXPECT_EQ(log.find("initializing a new cluster"), std::string::npos) << log;
    EXPECT_FALSE(std::filesystem::exists(node.pgdata()));
  }
}

TEST(HostileNames, ALineBreakInANameIsAConfigurationErrorNamingTheVariableAndNothingIsWritten) {
  struct Case {
    const char* variable;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"POSTGRES_DB", "appdb\nPOSTGRES_USER=root"},
      {"POSTGRES_USER", "app\npg1-host=evil.example"},
      {"POSTGRES_REPLICATION_USER", "rep\r\n*:*:*:*:stolen"},
      {"PGBACKREST_STANZA", "main\n[global]"},
  };
  for (const Case& c : cases) {
    backup::Repo repo;
    PgrtNode node(backup::BackupEnv(repo));
    Env env = node.env();
    env[c.variable] = c.value;
    for (const char* command : {"config", "run"}) {
      CommandOutput out = RunPgrt({command}, env);
      EXPECT_EQ(out.exit_code, 2) << command << " " << c.variable << "\n" << out.output;
      EXPECT_NE(out.output.find(std::string(c.variable) + ": "), std::string::npos)
          << command << "\n"
          << out.output;
      EXPECT_NE(out.output.find("contains a line break"), std::string::npos) << out.output;
      // `pgrt config` printed no forged line, and nothing reached the disk.
      EXPECT_EQ(out.output.find("\nPOSTGRES_USER=root"), std::string::npos) << out.output;
      EXPECT_FALSE(std::filesystem::exists(node.pgdata())) << command;
      EXPECT_FALSE(std::filesystem::exists(node.env().at("PGRT_SOCKET_DIR"))) << command;
    }
  }
}

TEST(HostileNames, PasswordWithALineBreakIsRefusedNamingTheVariableWithoutShowingIt) {
  PgrtNode node;
  Env env = node.env();
  env["POSTGRES_PASSWORD"] = "first-line\nsecond-line";
  CommandOutput out = RunPgrt({"run"}, env);
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find("POSTGRES_PASSWORD: "), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find("second-line"), std::string::npos) << out.output;
  EXPECT_FALSE(std::filesystem::exists(node.pgdata()));
}

// Every file a name reaches, read back by the rules of the program that reads it, holds it
// exactly; pgBackRest (through pgbackrest.conf and the passfile) and pg_dump (through a
// connection string and the passfile) log in with it, and the dump's file name encodes it.
TEST(HostileNames, NamesWithQuotesSeparatorsAndUnicodeReachEveryFileIntactAndBackupsAndDumpsWork) {
  const std::string user = "app user #1; x=y:z*";
  const std::string db = "my \"db\" 'caf\xc3\xa9' #1; x=y:z\\w,v";
  const std::string password = "pa:ss\\w#*rd 'q\"; %p";
  backup::Repo repo;
  TempDir dumps;
  Env env = backup::BackupEnv(repo);
  env["POSTGRES_USER"] = user;
  env["POSTGRES_DB"] = db;
  env["POSTGRES_PASSWORD"] = password;
  env["PGRT_DUMP_DIR"] = dumps.Sub("dumps");
  PgrtNode node(env);
  ASSERT_NO_FATAL_FAILURE(backup::StartReady(node));

  std::string error;
  EXPECT_EQ(node.Query("SELECT current_user", &error), user) << error;
  EXPECT_EQ(node.Query("SELECT current_database()", &error), db) << error;

  const std::string runtime =
      node.env().at("PGRT_SOCKET_DIR") + "/pgrt-" + std::to_string(node.pg_port());
  test::Parsed conf = test::ReadPgbackrestConf(ReadFileOrEmpty(runtime + "/pgbackrest.conf"));
  ASSERT_EQ(conf.error, "");
  ASSERT_NE(conf.Find("section1/pg1-user"), nullptr);
  EXPECT_EQ(*conf.Find("section1/pg1-user"), user);
  EXPECT_EQ(*conf.Find("section1"), "pgrt");
  EXPECT_EQ(conf.entries.size(), 9u) << ::testing::PrintToString(conf.Keys());

  test::Parsed pass = test::ReadPassfile(ReadFileOrEmpty(runtime + "/pgpass"));
  ASSERT_EQ(pass.error, "");
  ASSERT_EQ(pass.entries.size(), 5u);
  EXPECT_EQ(*pass.Find("line1/user"), user);
  EXPECT_EQ(*pass.Find("line1/password"), password);

  test::Parsed settings = test::ReadConf(ReadFileOrEmpty(node.pgdata() + "/pgrt.conf"));
  EXPECT_EQ(settings.error, "");

  // pgBackRest logs in as the user of pgbackrest.conf with the passfile's password.
  CommandOutput backup = backup::Cli(node, {"backup", "--type=full"});
  EXPECT_EQ(backup.exit_code, 0) << backup.output << node.Log();

  CommandOutput dump = backup::Cli(node, {"dump"});
  ASSERT_EQ(dump.exit_code, 0) << dump.output << node.Log();
  bool found = false;
  const std::string encoded = "my%20%22db%22%20%27caf%C3%A9%27%20%231%3B%20x%3Dy%3Az%5Cw%2Cv-";
  for (const auto& e : std::filesystem::directory_iterator(dumps.Sub("dumps")))
    found = found || e.path().filename().string().rfind(encoded, 0) == 0;
  EXPECT_TRUE(found) << encoded;
}

// The replication role's name and password travel through primary_conninfo (inside
// pgrt.conf) and the replica's passfile: both read back exactly, and the replica streams.
TEST(HostileNames, AReplicationUserAndPasswordFullOfSeparatorsReachTheReplicaIntactAndItStreams) {
  const std::string user = "rep 'user' \"#1\"; x=y:z*\\w";
  const std::string password = "pw:\\#*' \"x %p";
  const Env names = {{"POSTGRES_REPLICATION_USER", user},
                     {"POSTGRES_REPLICATION_PASSWORD", password},
                     {"POSTGRES_PRIMARY_CONNINFO_EXTRA", "application_name='replica #1'"}};
  auto primary = repl::NewPrimary(names);
  ASSERT_NO_FATAL_FAILURE(repl::StartHealthy(*primary));
  auto replica = repl::NewReplica(*primary, "hostile_slot", names);
  ASSERT_NO_FATAL_FAILURE(repl::StartHealthy(*replica, milliseconds(60000)));
  ASSERT_TRUE(repl::WaitStreaming(*primary, *replica)) << replica->Log();

  std::string error;
  EXPECT_EQ(
      primary->Query("SELECT usename || '|' || application_name FROM pg_stat_replication", &error),
      user + "|replica #1")
      << error;

  test::Parsed settings = test::ReadConf(ReadFileOrEmpty(replica->pgdata() + "/pgrt.conf"));
  ASSERT_EQ(settings.error, "");
  ASSERT_NE(settings.Find("primary_conninfo"), nullptr);
  test::Parsed conninfo = test::ReadConninfo(*settings.Find("primary_conninfo"));
  ASSERT_EQ(conninfo.error, "");
  EXPECT_EQ(*conninfo.Find("user"), user);
  EXPECT_EQ(conninfo.Find("password"), nullptr) << "the password stays in the passfile";

  test::Parsed pass =
      test::ReadPassfile(ReadFileOrEmpty(replica->pgdata() + "/pgrt-replication.pgpass"));
  ASSERT_EQ(pass.error, "");
  ASSERT_EQ(pass.entries.size(), 5u);
  EXPECT_EQ(*pass.Find("line1/user"), user);
  EXPECT_EQ(*pass.Find("line1/password"), password);

  primary->Query("CREATE TABLE crossed AS SELECT 1 AS one");
  EXPECT_TRUE(WaitUntil([&] { return replica->Query("SELECT count(*) FROM crossed") == "1"; },
                        milliseconds(30000)))
      << replica->Log();
}

}  // namespace pgrt::testing
