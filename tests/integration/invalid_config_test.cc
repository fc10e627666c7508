// Invalid configuration stops pgrt before it touches the disk: exit 2, a message naming the
// variable, no PGDATA. `pgrt config` judges the same environment the same way.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

struct InvalidCase {
  const char* what;
  const char* variable;  // must appear in the output
  std::function<void(Env&, const std::string& dir)> spoil;
};

const std::vector<InvalidCase>& Cases() {
  static const std::vector<InvalidCase> kCases = {
      {"missing password", "POSTGRES_PASSWORD",
       [](Env& e, const std::string&) { e.erase("POSTGRES_PASSWORD"); }},
      {"missing user", "POSTGRES_USER",
       [](Env& e, const std::string&) { e.erase("POSTGRES_USER"); }},
      {"missing database", "POSTGRES_DB",
       [](Env& e, const std::string&) { e.erase("POSTGRES_DB"); }},
      {"non-numeric port", "POSTGRES_PORT",
       [](Env& e, const std::string&) { e["POSTGRES_PORT"] = "54x2"; }},
      {"port out of range", "POSTGRES_PORT",
       [](Env& e, const std::string&) { e["POSTGRES_PORT"] = "70000"; }},
      {"unknown replication mode", "POSTGRES_REPLICATION_MODE",
       [](Env& e, const std::string&) { e["POSTGRES_REPLICATION_MODE"] = "leader"; }},
      {"bad bool", "POSTGRES_TLS_REQUIRED",
       [](Env& e, const std::string&) { e["POSTGRES_TLS_REQUIRED"] = "maybe"; }},
      {"relative PGDATA", "PGDATA",
       [](Env& e, const std::string&) { e["PGDATA"] = "pgrt-relative-pgdata/data"; }},
      {"both password and password file", "POSTGRES_PASSWORD_FILE",
       [](Env& e, const std::string& dir) {
         WriteFileOrDie(dir + "/pw", "from-file\n", 0600);
         e["POSTGRES_PASSWORD_FILE"] = dir + "/pw";
       }},
      {"both token and token file", "PGRT_API_TOKEN_FILE",
       [](Env& e, const std::string& dir) {
         WriteFileOrDie(dir + "/token", "t2\n", 0600);
         e["PGRT_API_TOKEN"] = "t1";
         e["PGRT_API_TOKEN_FILE"] = dir + "/token";
       }},
  };
  return kCases;
}

// Everything pgrt would create on a start: PGDATA, the socket directory, relative leftovers.
void ExpectNothingCreated(const PgrtNode& node, const InvalidCase& c) {
  EXPECT_FALSE(std::filesystem::exists(node.dir() + "/data")) << c.what;
  EXPECT_FALSE(std::filesystem::exists(node.dir() + "/sock")) << c.what;
  EXPECT_FALSE(std::filesystem::exists("/pgrt-relative-pgdata")) << c.what;
}

}  // namespace

TEST(InvalidConfiguration, RunExits2NamingTheVariableBeforeTouchingTheDisk) {
  for (const InvalidCase& c : Cases()) {
    PgrtNode node;
    Env env = node.env();
    c.spoil(env, node.dir());
    auto run = RunPgrt({"run"}, env);
    EXPECT_EQ(run.exit_code, 2) << c.what << "\n" << run.output;
    EXPECT_NE(run.output.find(c.variable), std::string::npos) << c.what << "\n" << run.output;
    ExpectNothingCreated(node, c);
  }
}

TEST(InvalidConfiguration, ConfigCommandExits2OnTheSameInputsAnd0OnAValidOne) {
  PgrtNode valid;
  auto ok = RunPgrt({"config"}, valid.env());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("POSTGRES_USER=app"), std::string::npos) << ok.output;
  EXPECT_FALSE(std::filesystem::exists(valid.pgdata()));

  for (const InvalidCase& c : Cases()) {
    PgrtNode node;
    Env env = node.env();
    c.spoil(env, node.dir());
    auto config = RunPgrt({"config"}, env);
    EXPECT_EQ(config.exit_code, 2) << c.what << "\n" << config.output;
    EXPECT_NE(config.output.find(c.variable), std::string::npos) << c.what << "\n" << config.output;
    ExpectNothingCreated(node, c);
  }
}

TEST(InvalidConfiguration, EveryProblemIsReportedAtOnce) {
  PgrtNode node;
  Env env = node.env();
  env.erase("POSTGRES_USER");
  env["POSTGRES_PORT"] = "not-a-port";
  env["POSTGRES_REPLICATION_MODE"] = "leader";
  auto run = RunPgrt({"run"}, env);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  for (const char* name : {"POSTGRES_USER", "POSTGRES_PORT", "POSTGRES_REPLICATION_MODE"})
    EXPECT_NE(run.output.find(name), std::string::npos) << name << "\n" << run.output;
}

TEST(InvalidConfiguration, UnknownCommandLineIsAUsageErrorWithExit2) {
  PgrtNode node;
  auto run = RunPgrt({"no-such-command"}, node.env());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  auto none = RunPgrt({}, node.env());
  EXPECT_EQ(none.exit_code, 2) << none.output;
}

}  // namespace pgrt::testing
