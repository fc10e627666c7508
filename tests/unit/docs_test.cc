// The docs stay true to the code: the configuration reference is generated from the
// descriptor table, and the characters each value may hold from the value rules; both must
// match what is committed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "config/config.h"
#include "config/value_rules.h"

namespace pgrt {

TEST(Docs, ConfigurationReferenceMatchesTheDescriptorTable) {
  std::ifstream in(std::string(PGRT_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find(RenderConfigReference()), std::string::npos)
      << "docs/configuration.md is stale: regenerate its table with `build/pgrt config "
         "--reference`";
}

TEST(Docs, SecurityNotesListTheCharactersEachValueMayHoldFromTheValueRules) {
  std::ifstream in(std::string(PGRT_SOURCE_DIR) + "/docs/security.md");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find(RenderValueRulesReference()), std::string::npos)
      << "docs/security.md is stale: regenerate its table with `build/pgrt config --value-rules`";
}

}  // namespace pgrt

namespace pgrt {
namespace {

namespace fs = std::filesystem;

// The layers of docs/design.md's drawing: directory → its line (0 = top).
std::map<std::string, int> LayersFromDesignDoc() {
  std::ifstream in(std::string(PGRT_SOURCE_DIR) + "/docs/design.md");
  std::string line;
  while (std::getline(in, line) && line != "## Layers") {
  }
  while (std::getline(in, line) && line != "```") {
  }
  std::map<std::string, int> rank;
  int layer = 0;
  const std::regex dir(R"(^([a-z]+)/$)");
  while (std::getline(in, line) && line != "```") {
    if (line.empty() || line[0] == ' ') continue;  // a description carried over
    std::istringstream words(line);
    std::string word;
    std::smatch m;
    while (words >> word && std::regex_match(word, m, dir)) rank[m[1]] = layer;
    ++layer;
  }
  return rank;
}

TEST(Docs, EveryIncludeInSrcPointsDownTheDesignDocsLayers) {
  const std::map<std::string, int> rank = LayersFromDesignDoc();
  ASSERT_GE(rank.size(), 10u) << "docs/design.md has no layer drawing";
  const std::regex include(R"re(#include "([a-z_]+)/[a-z_]+\.h")re");
  int checked = 0;
  for (const auto& entry :
       fs::recursive_directory_iterator(std::string(PGRT_SOURCE_DIR) + "/src")) {
    if (!entry.is_regular_file() || entry.path().parent_path().filename() == "src") continue;
    const std::string own = entry.path().parent_path().filename().string();
    ASSERT_TRUE(rank.count(own)) << "src/" << own << "/ is not in docs/design.md's drawing";
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    for (std::sregex_iterator it(s.begin(), s.end(), include), end; it != end; ++it) {
      const std::string to = (*it)[1];
      if (to == own) continue;
      ASSERT_TRUE(rank.count(to)) << to << "/ is not in docs/design.md's drawing";
      EXPECT_LT(rank.at(own), rank.at(to))
          << entry.path().string() << " includes " << to << "/, which is not below " << own << "/";
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

}  // namespace
}  // namespace pgrt
