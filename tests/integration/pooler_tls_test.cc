// TLS through PgBouncer follows postgres's: offered when postgres has a certificate,
// required when POSTGRES_TLS_REQUIRED=true.
#include <gtest/gtest.h>

#include "pooler_helpers.h"

namespace pgrt::testing::pool {
namespace {

// Connects through the pooler with `sslmode`: nullopt when refused, else whether TLS is used.
std::optional<bool> PooledTls(PgrtNode& node, const std::string& sslmode) {
  ConnParams p = PoolerConn(node);
  p["sslmode"] = sslmode;
  auto c = PgConn::Connect(p);
  if (!c.ok() || !c->Exec("SELECT 1").ok()) return std::nullopt;
  return PQsslInUse(c->raw()) == 1;
}

}  // namespace

TEST(PoolerTls, OfferedWhenPostgresHasACertificate) {
  PgrtNode node(PoolerEnv());
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(node));
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(WaitPoolerAnswers(node)) << node.Log();
  EXPECT_EQ(PooledTls(node, "require"), std::optional<bool>(true)) << node.Log();
  EXPECT_EQ(PooledTls(node, "disable"), std::optional<bool>(false));
}

TEST(PoolerTls, RequiredWhenPostgresRequiresIt) {
  PgrtNode node(PoolerEnv({{"POSTGRES_TLS_REQUIRED", "true"}}));
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(node));
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(WaitUntil([&] { return PooledTls(node, "require").has_value(); }, milliseconds(20000),
                        milliseconds(50)))
      << node.Log();
  EXPECT_EQ(PooledTls(node, "require"), std::optional<bool>(true));
  EXPECT_EQ(PooledTls(node, "disable"), std::nullopt);
}

}  // namespace pgrt::testing::pool
