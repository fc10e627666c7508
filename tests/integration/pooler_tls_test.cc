// TLS through PgBouncer follows postgres's: offered when postgres has a certificate,
// required when POSTGRES_TLS_REQUIRED=true.
#include <gtest/gtest.h>

#include "pooler_helpers.h"

namespace pgrt::testing::pool {
namespace {

void MakeCertificate(PgrtNode& node) {
  const std::string cert = node.dir() + "/server.crt";
  const std::string key = node.dir() + "/server.key";
  auto gen = RunCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost"},
                        {{"PATH", "/usr/bin:/bin"}, {"HOME", node.dir()}});
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  node.env()["POSTGRES_TLS_CERT_FILE"] = cert;
  node.env()["POSTGRES_TLS_KEY_FILE"] = key;
}

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
