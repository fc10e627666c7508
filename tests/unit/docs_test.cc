// The docs stay true to the code: the configuration reference is generated from the
// descriptor table and must match what is committed.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/config.h"

namespace pgrt {

TEST(Docs, ConfigurationReferenceMatchesTheDescriptorTable) {
  std::ifstream in(std::string(PGRT_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find(RenderConfigReference()), std::string::npos)
      << "docs/configuration.md is stale: regenerate its table with `build/pgrt config --reference`";
}

}  // namespace pgrt
