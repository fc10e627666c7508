// Identifiers quoted for a single-user backend's stdin (no libpq connection to ask).
#include "pg/offline_quote.h"

#include <gtest/gtest.h>

namespace pgrt {

TEST(QuoteIdentOffline, DoublesQuotesAndKeepsEverythingElseExactly) {
  EXPECT_EQ(QuoteIdentOffline("appdb"), "\"appdb\"");
  EXPECT_EQ(QuoteIdentOffline("my\"db"), "\"my\"\"db\"");
  EXPECT_EQ(QuoteIdentOffline("\"\""), "\"\"\"\"\"\"");
  EXPECT_EQ(QuoteIdentOffline("a; DROP DATABASE x; --"), "\"a; DROP DATABASE x; --\"");
  EXPECT_EQ(QuoteIdentOffline("dollar $$ 'q' \\"), "\"dollar $$ 'q' \\\"");
  EXPECT_EQ(QuoteIdentOffline("ünïcødé"), "\"ünïcødé\"");
}

TEST(QuoteIdentOffline, RefusesWhatALineReaderWouldSplitOrCut) {
  EXPECT_FALSE(QuoteIdentOffline(""));
  EXPECT_FALSE(QuoteIdentOffline("a\nb"));
  EXPECT_FALSE(QuoteIdentOffline("a\rb"));
  EXPECT_FALSE(QuoteIdentOffline(std::string_view("a\0b", 3)));
  EXPECT_FALSE(QuoteIdentOffline("tab\there"));
  EXPECT_FALSE(QuoteIdentOffline("del\x7f"));
}

}  // namespace pgrt
