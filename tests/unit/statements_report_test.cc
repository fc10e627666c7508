// The performance report shows only text pg_stat_statements normalized: no literal of any
// statement reaches GET /__opr/statements, which answers without a token.
#include "metrics/statements_report.h"

#include <gtest/gtest.h>

namespace pgrt {
namespace {

TEST(ShowableStatementText, PlannableStatementsAreShownWithTheirPlaceholders) {
  EXPECT_EQ(ShowableStatementText("SELECT * FROM t WHERE id = $1"),
            "SELECT * FROM t WHERE id = $1");
  EXPECT_EQ(ShowableStatementText("insert into t values ($1, $2)"),
            "insert into t values ($1, $2)");
  EXPECT_EQ(ShowableStatementText("WITH x AS (SELECT $1) UPDATE t SET a = (SELECT * FROM x)"),
            "WITH x AS (SELECT $1) UPDATE t SET a = (SELECT * FROM x)");
  EXPECT_EQ(ShowableStatementText("(SELECT 1) UNION (SELECT 2)"), "(SELECT 1) UNION (SELECT 2)");
}

TEST(ShowableStatementText, CommentsAreRemovedAndWhiteSpaceCollapsed) {
  EXPECT_EQ(ShowableStatementText("/* app: token=abc */ SELECT\n\t a -- note\nFROM t"),
            "SELECT a FROM t");
  EXPECT_EQ(ShowableStatementText("SELECT /* outer /* nested */ still */ 1"), "SELECT 1");
}

TEST(ShowableStatementText, UtilityStatementsAreNeverShown) {
  for (const char* q : {"ALTER ROLE app PASSWORD $1", "CREATE ROLE x", "COPY t FROM STDIN",
                        "EXPLAIN SELECT 1", "DO $$ BEGIN END $$", "VACUUM t", "BEGIN"})
    EXPECT_FALSE(ShowableStatementText(q)) << q;
}

TEST(ShowableStatementText, ATextThatStillHoldsALiteralIsNeverShown) {
  // SELECT … INTO is a utility statement in disguise: its constants stay in its text.
  EXPECT_FALSE(ShowableStatementText("SELECT 'secret' INTO t2"));
  EXPECT_FALSE(ShowableStatementText("SELECT E'x\\'y'"));
  EXPECT_FALSE(ShowableStatementText("SELECT $tag$secret$tag$"));
  EXPECT_FALSE(ShowableStatementText("SELECT $$secret$$"));
}

TEST(ShowableStatementText, QuotedIdentifiersAreKeptAsTheyAre) {
  EXPECT_EQ(ShowableStatementText("SELECT \"a -- b\", \"it\"\"s\" FROM \"T\""),
            "SELECT \"a -- b\", \"it\"\"s\" FROM \"T\"");
  EXPECT_EQ(ShowableStatementText("SELECT a$1 FROM t"), "SELECT a$1 FROM t");
}

TEST(ShowableStatementText, ALongTextIsCutWithAnEllipsis) {
  std::string q = "SELECT " + std::string(5000, 'x');
  auto shown = ShowableStatementText(q);
  ASSERT_TRUE(shown);
  EXPECT_EQ(shown->size(), StatementsReport::kMaxTextBytes + std::string("…").size());
  EXPECT_EQ(shown->substr(shown->size() - 3), "…");
}

}  // namespace
}  // namespace pgrt
