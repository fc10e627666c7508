// `pgrt config` output and the generated reference table.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/descriptors.h"

namespace pgrt {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool HasLine(const std::string& text, const std::string& line) {
  for (const std::string& l : Lines(text)) {
    if (l == line) return true;
  }
  return false;
}

Config Loaded(const Environment& env) {
  Result<Config> c = LoadConfig(env);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : Config{};
}

TEST(RenderEffectiveConfig, OneLinePerVariableInTableOrder) {
  Environment env = {{"POSTGRES_USER", "u"}, {"POSTGRES_PASSWORD", "p"}, {"POSTGRES_DB", "d"}};
  std::vector<std::string> lines = Lines(RenderEffectiveConfig(Loaded(env), env));
  ASSERT_EQ(lines.size(), Descriptors().size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].rfind(std::string(Descriptors()[i].name) + "=", 0), 0u) << lines[i];
  }
}

TEST(RenderEffectiveConfig, SaysWhereEachValueCameFrom) {
  // Rendering looks at the environment only for the source; it reads no files.
  Environment env = {{"POSTGRES_USER", "u"},
                     {"POSTGRES_PASSWORD_FILE", "/run/secrets/pw"},
                     {"POSTGRES_DB", "d"},
                     {"POSTGRES_PORT", "6000"},
                     {"PGRT_LOG_FORMAT", ""}};
  Config config;
  config.user = "u";
  config.password = "from the file";
  config.db = "d";
  config.port = 6000;
  std::string out = RenderEffectiveConfig(config, env);
  EXPECT_TRUE(HasLine(out, "POSTGRES_PORT=6000  # env")) << out;
  EXPECT_TRUE(HasLine(out, "POSTGRES_PASSWORD=********  # file")) << out;
  EXPECT_TRUE(HasLine(out, "PGDATA=/var/lib/postgresql/data  # default")) << out;
  EXPECT_TRUE(HasLine(out, "PGRT_LOG_FORMAT=text  # default")) << out;
}

TEST(RenderEffectiveConfig, MasksSetSecretsAndLeavesUnsetOnesEmpty) {
  Environment env = {{"POSTGRES_USER", "u"}, {"POSTGRES_PASSWORD", "p"}, {"POSTGRES_DB", "d"}};
  std::string out = RenderEffectiveConfig(Loaded(env), env);
  EXPECT_TRUE(HasLine(out, "POSTGRES_PASSWORD=********  # env")) << out;
  EXPECT_TRUE(HasLine(out, "PGRT_API_TOKEN=  # default")) << out;
  EXPECT_TRUE(HasLine(out, "POSTGRES_REPLICATION_PASSWORD=  # default")) << out;
}

TEST(RenderEffectiveConfig, NeverPrintsASecret) {
  Environment env = {{"POSTGRES_USER", "u"},
                     {"POSTGRES_PASSWORD", "secret-one"},
                     {"POSTGRES_DB", "d"},
                     {"POSTGRES_REPLICATION_MODE", "primary"},
                     {"POSTGRES_REPLICATION_PASSWORD", "secret-two"},
                     {"PGRT_API_TOKEN", "secret-three"},
                     {"PGBACKREST_REPO1_S3_KEY_SECRET", "secret-four"},
                     {"PGBACKREST_REPO1_CIPHER_PASS", "secret-five"}};
  std::string out = RenderEffectiveConfig(Loaded(env), env);
  EXPECT_EQ(out.find("secret-"), std::string::npos) << out;
  EXPECT_TRUE(HasLine(out, "PGBACKREST_REPO1_CIPHER_PASS=********  # env")) << out;
}

TEST(RenderEffectiveConfig, WritesValuesAsTheyWouldBeGiven) {
  Environment env = {{"POSTGRES_USER", "u"},
                     {"POSTGRES_PASSWORD", "p"},
                     {"POSTGRES_DB", "d"},
                     {"POSTGRES_EXTENSIONS", "postgis, pg_trgm"},
                     {"POSTGRES_HOT_STANDBY", "off"},
                     {"POSTGRES_REPLICATION_MODE", "replica"},
                     {"POSTGRES_PRIMARY_HOST", "db-0"},
                     {"POSTGRES_REPLICATION_PASSWORD", "r"},
                     {"PGBACKREST_REPO1_TYPE", "s3"}};
  std::string out = RenderEffectiveConfig(Loaded(env), env);
  EXPECT_TRUE(HasLine(out, "POSTGRES_EXTENSIONS=postgis,pg_trgm  # env")) << out;
  EXPECT_TRUE(HasLine(out, "POSTGRES_HOT_STANDBY=false  # env")) << out;
  EXPECT_TRUE(HasLine(out, "POSTGRES_REPLICATION_MODE=replica  # env")) << out;
  EXPECT_TRUE(HasLine(out, "POSTGRES_REPLICATION_ALLOWED_NETWORKS=0.0.0.0/0  # default")) << out;
  EXPECT_TRUE(HasLine(out, "PGBACKREST_REPO1_TYPE=s3  # env")) << out;
}

TEST(RenderConfigReference, IsAMarkdownTableWithARowPerVariable) {
  std::vector<std::string> lines = Lines(RenderConfigReference());
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0], "| Variable | Default | Description |");
  EXPECT_EQ(lines[1], "|---|---|---|");
  EXPECT_EQ(lines.size(), Descriptors().size() + 3);  // header, rule, PGBACKREST_* row
  for (const std::string& line : lines) {
    int cells = 0;
    for (size_t i = 0; i < line.size(); ++i)
      cells += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
    EXPECT_EQ(cells, 4) << line;
  }
}

TEST(RenderConfigReference, ShowsDefaultsAllowedValuesAndMarks) {
  std::string ref = RenderConfigReference();
  EXPECT_TRUE(HasLine(ref,
                      "| `POSTGRES_PORT` | `5432` | Port PostgreSQL listens on. "
                      "Allowed: 1-65535. |"))
      << ref;
  EXPECT_TRUE(HasLine(ref,
                      "| `POSTGRES_PASSWORD` |  | Password of POSTGRES_USER. "
                      "(required) (secret, _FILE ok) |"))
      << ref;
  EXPECT_NE(ref.find("Allowed: standalone, primary, replica."), std::string::npos);
  EXPECT_NE(ref.find("| `PGRT_PG_BINDIR` | `/usr/lib/postgresql/15/bin` |"), std::string::npos);
}

}  // namespace
}  // namespace pgrt
