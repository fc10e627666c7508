// Secrets: X or X_FILE, the Docker secrets convention, and never leaking a value.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"

namespace pgrt {
namespace {

constexpr const char* kSecret = "S3cr3t-Value-9f2";

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "pgrt_config_XXXXXX";
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string Write(const std::string& name, const std::string& content) const {
    std::string path = path_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Environment Base() { return {{"POSTGRES_USER", "app"}, {"POSTGRES_DB", "appdb"}}; }

TEST(ConfigSecrets, FileContentLosesTrailingNewlinesOnly) {
  TempDir dir;
  const struct {
    const char* content;
    const char* want;
  } kCases[] = {{"pw", "pw"},
                {"pw\n", "pw"},
                {"pw\r\n", "pw"},
                {"pw\n\n", "pw"},
                {" pw two \n", " pw two "},
                {"pw\t\n", "pw\t"}};
  for (const auto& c : kCases) {
    Environment env = Base();
    env["POSTGRES_PASSWORD_FILE"] = dir.Write("pw", c.content);
    Result<Config> config = LoadConfig(env);
    ASSERT_TRUE(config.ok()) << config.status().message();
    EXPECT_EQ(config->password, c.want) << testing::PrintToString(c.content);
  }
}

TEST(ConfigSecrets, EverySecretMayComeFromAFile) {
  TempDir dir;
  Environment env = Base();
  env["POSTGRES_PASSWORD_FILE"] = dir.Write("a", "one\n");
  env["POSTGRES_REPLICATION_PASSWORD_FILE"] = dir.Write("b", "two\n");
  env["PGRT_API_TOKEN_FILE"] = dir.Write("c", "three\n");
  env["POSTGRES_REPLICATION_MODE"] = "primary";
  Result<Config> config = LoadConfig(env);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->password, "one");
  EXPECT_EQ(config->replication_password, "two");
  EXPECT_EQ(config->api_token, "three");
  EXPECT_TRUE(config->unknown_variables.empty());
}

TEST(ConfigSecrets, EmptyValueBesideAFileIsUnset) {
  TempDir dir;
  Environment env = Base();
  env["POSTGRES_PASSWORD"] = "";
  env["POSTGRES_PASSWORD_FILE"] = dir.Write("pw", "from-file");
  Result<Config> config = LoadConfig(env);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->password, "from-file");
}

TEST(ConfigSecrets, ValueAndFileTogetherIsAnError) {
  TempDir dir;
  Environment env = Base();
  env["POSTGRES_PASSWORD"] = kSecret;
  env["POSTGRES_PASSWORD_FILE"] = dir.Write("pw", kSecret);
  Result<Config> config = LoadConfig(env);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(
      config.status().message(),
      "POSTGRES_PASSWORD: both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set; use one");
}

TEST(ConfigSecrets, UnreadableFileNamesTheVariableThePathAndTheReason) {
  TempDir dir;
  Environment env = Base();
  env["POSTGRES_PASSWORD_FILE"] = dir.path() + "/missing";
  env["PGRT_API_TOKEN_FILE"] = dir.path();  // a directory
  Result<Config> config = LoadConfig(env);
  ASSERT_FALSE(config.ok());
  const std::string error = config.status().message();  // a copy: status() is a temporary
  EXPECT_NE(error.find("POSTGRES_PASSWORD_FILE: open " + dir.path() + "/missing: No such file"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("PGRT_API_TOKEN_FILE: read " + dir.path() + ": Is a directory"),
            std::string::npos)
      << error;
}

TEST(ConfigSecrets, EmptyFileIsAnError) {
  TempDir dir;
  Environment env = Base();
  env["POSTGRES_PASSWORD_FILE"] = dir.Write("pw", "\n");
  Result<Config> config = LoadConfig(env);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "POSTGRES_PASSWORD_FILE: " + dir.path() + "/pw is empty");
}

TEST(ConfigSecrets, ValuesNeverAppearInErrors) {
  TempDir dir;
  const std::string with_break = std::string(kSecret) + "\nmore";
  const std::string with_nul = std::string(kSecret) + std::string(1, '\0') + "x";
  const Environment kCases[] = {
      {{"POSTGRES_USER", "u"}, {"POSTGRES_PASSWORD", with_break}, {"POSTGRES_PORT", "x"}},
      {{"POSTGRES_USER", "u"},
       {"POSTGRES_DB", "d"},
       {"POSTGRES_PASSWORD", kSecret},
       {"POSTGRES_PASSWORD_FILE", dir.Write("both", kSecret)}},
      {{"POSTGRES_USER", "u"},
       {"POSTGRES_DB", "d"},
       {"POSTGRES_PASSWORD_FILE", dir.Write("nul", with_nul)}},
      {{"POSTGRES_USER", "u"},
       {"POSTGRES_DB", "d"},
       {"POSTGRES_PASSWORD", "p"},
       {"PGRT_API_TOKEN", with_break},
       {"POSTGRES_REPLICATION_PASSWORD", with_break}},
  };
  for (const Environment& env : kCases) {
    Result<Config> config = LoadConfig(env);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().message().find(kSecret), std::string::npos)
        << config.status().message();
  }
}

TEST(ConfigSecrets, LineBreakInsideAFileSecretBlamesTheFileVariable) {
  TempDir dir;
  Environment env = Base();
  env["POSTGRES_PASSWORD_FILE"] = dir.Write("pw", "two\nlines\n");
  Result<Config> config = LoadConfig(env);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "POSTGRES_PASSWORD_FILE: contains a line break or NUL byte");
}

TEST(ProcessEnvironment, ReadsThisProcessEnvironment) {
  ASSERT_EQ(::setenv("PGRT_CONFIG_TEST_PROBE", "a=b", 1), 0);
  Environment env = ProcessEnvironment();
  ::unsetenv("PGRT_CONFIG_TEST_PROBE");
  EXPECT_EQ(env["PGRT_CONFIG_TEST_PROBE"], "a=b");
}

}  // namespace
}  // namespace pgrt
