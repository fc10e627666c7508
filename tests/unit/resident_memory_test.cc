// ReleaseIdleMemory on this very process: resident code and read-only data go, and nothing
// the program relies on changes — code runs again, relocated tables (pointers fixed up by the
// loader before their pages became read-only) and vtables still hold what they held.
#include "process/resident_memory.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

namespace pgrt {
namespace {

long StatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

// Pointers in a const table: the loader relocates them in place, so their page is a private
// copy inside a read-only mapping — exactly what must not be dropped.
const char* const kNames[] = {"alpha", "beta", "gamma"};

struct Shape {
  virtual ~Shape() = default;
  virtual int Sides() const = 0;
};
struct Square : Shape {
  int Sides() const override { return 4; }
};

TEST(ResidentMemory, DropsResidentFilePagesAndKeepsRelocatedDataAndCodeWorking) {
  const long file_before = StatusKb("RssFile");
  ASSERT_GT(file_before, 0);
  auto released = ReleaseIdleMemory();
  ASSERT_TRUE(released.ok()) << released.status().message();
  EXPECT_GT(*released, 0u);
  const long file_after = StatusKb("RssFile");
  // gtest's and libstdc++'s code alone are megabytes; most of it is not needed to get here.
  EXPECT_LT(file_after, file_before / 2) << file_before << " kB before, " << file_after;

  EXPECT_EQ(std::string(kNames[0]) + kNames[1] + kNames[2], "alphabetagamma");
  std::unique_ptr<Shape> s = std::make_unique<Square>();
  EXPECT_EQ(s->Sides(), 4);
  // Twice in a row is harmless.
  EXPECT_TRUE(ReleaseIdleMemory().ok());
  EXPECT_EQ(std::string(kNames[2]), "gamma");
}

}  // namespace
}  // namespace pgrt
