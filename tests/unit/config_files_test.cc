// The official postgres image's other _FILE variables: POSTGRES_USER_FILE, POSTGRES_DB_FILE
// and POSTGRES_INITDB_ARGS_FILE, read as its entrypoint reads them (file_env).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "config_test_env.h"

namespace pgrt {
namespace {

using config_test::ErrorOf;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "pgrt_config_files_XXXXXX";
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

 private:
  std::string path_;
};

Environment PasswordOnly() { return {{"POSTGRES_PASSWORD", "pw-Zq81"}}; }

TEST(ConfigFiles, UserAndDatabaseMayComeFromFilesWithoutTheirTrailingNewline) {
  TempDir dir;
  Environment env = PasswordOnly();
  env["POSTGRES_USER_FILE"] = dir.Write("user", "app_owner\n");
  env["POSTGRES_DB_FILE"] = dir.Write("db", "shop\r\n");
  Result<Config> c = LoadConfig(env);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->user, "app_owner");
  EXPECT_EQ(c->db, "shop");
  EXPECT_TRUE(c->unknown_variables.empty());
}

TEST(ConfigFiles, InitdbArgsFromAFileAreSplitAtSpacesAndLineBreaks) {
  TempDir dir;
  Environment env = config_test::Minimal();
  env["POSTGRES_INITDB_ARGS_FILE"] = dir.Write("args", "--data-checksums\n--locale=C\t-E UTF8\n");
  Result<Config> c = LoadConfig(env);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->initdb_args, "--data-checksums --locale=C -E UTF8");
  EXPECT_TRUE(c->unknown_variables.empty()) << "no longer ignored with a warning";
}

TEST(ConfigFiles, AnEmptyInitdbArgsFileMeansNoArguments) {
  TempDir dir;
  Environment env = config_test::Minimal();
  env["POSTGRES_INITDB_ARGS_FILE"] = dir.Write("args", "\n");
  Result<Config> c = LoadConfig(env);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->initdb_args, "");
}

TEST(ConfigFiles, AnEmptyUserFileIsAnErrorNamingTheFileVariable) {
  TempDir dir;
  Environment env = config_test::Minimal();
  env.erase("POSTGRES_USER");
  std::string path = dir.Write("user", "");
  env["POSTGRES_USER_FILE"] = path;
  EXPECT_EQ(ErrorOf(env), "POSTGRES_USER_FILE: " + path + " is empty");
}

TEST(ConfigFiles, ValueAndFileTogetherIsAnErrorAsInTheOfficialImage) {
  TempDir dir;
  Environment env = config_test::Minimal();
  env["POSTGRES_DB_FILE"] = dir.Write("db", "other");
  EXPECT_EQ(ErrorOf(env), "POSTGRES_DB: both POSTGRES_DB and POSTGRES_DB_FILE are set; use one");
}

TEST(ConfigFiles, AValueFromAFileIsValidatedAndBlamesTheFileVariable) {
  TempDir dir;
  Environment env = config_test::Minimal();
  env.erase("POSTGRES_DB");
  env["POSTGRES_DB_FILE"] = dir.Write("db", std::string(64, 'd'));
  std::string error = ErrorOf(env);
  EXPECT_EQ(error.rfind("POSTGRES_DB_FILE: ", 0), 0u) << error;
}

TEST(ConfigFiles, AMissingFileNamesTheVariableAndThePath) {
  Environment env = config_test::Minimal();
  env["POSTGRES_INITDB_ARGS_FILE"] = "/nonexistent/pgrt-initdb-args";
  std::string error = ErrorOf(env);
  EXPECT_EQ(error.rfind("POSTGRES_INITDB_ARGS_FILE: ", 0), 0u) << error;
  EXPECT_NE(error.find("/nonexistent/pgrt-initdb-args"), std::string::npos) << error;
}

TEST(ConfigFiles, RequiredMessagesMentionTheFileVariables) {
  std::string error = ErrorOf(PasswordOnly());
  EXPECT_NE(error.find("POSTGRES_USER: required (or POSTGRES_USER_FILE)"), std::string::npos)
      << error;
  EXPECT_NE(error.find("POSTGRES_DB: required (or POSTGRES_DB_FILE)"), std::string::npos) << error;
}

TEST(ConfigFiles, EffectiveConfigSaysTheValueCameFromAFile) {
  TempDir dir;
  Environment env = config_test::Minimal();
  env.erase("POSTGRES_USER");
  env["POSTGRES_USER_FILE"] = dir.Write("user", "app_owner");
  Result<Config> c = LoadConfig(env);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_NE(RenderEffectiveConfig(*c, env).find("POSTGRES_USER=app_owner  # file\n"),
            std::string::npos)
      << RenderEffectiveConfig(*c, env);
}

}  // namespace
}  // namespace pgrt
