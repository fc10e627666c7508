// The docs stay true to the code: the configuration reference is generated from the
// descriptor table, and the characters each value may hold from the value rules; both must
// match what is committed.
#include <gtest/gtest.h>

#include <fstream>
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
