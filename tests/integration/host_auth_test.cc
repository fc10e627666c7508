// POSTGRES_HOST_AUTH_METHOD governs TCP logins (loopback included, as the reference image's
// `host all all all $POSTGRES_HOST_AUTH_METHOD`); the Unix socket always asks for a password.
#include <gtest/gtest.h>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

// A login as the superuser over TCP or the socket, with or without the password.
Status Login(const PgrtNode& node, bool over_socket, bool with_password) {
  ConnParams p = node.Conn();
  if (over_socket) p["host"] = node.env().at("PGRT_SOCKET_DIR");
  if (with_password) {
    p["password"] = node.password();
  } else {
    p.erase("password");
    p["passfile"] = node.dir() + "/no-such-passfile";  // no ~/.pgpass either
  }
  auto conn = PgConn::Connect(p);
  if (!conn.ok()) return conn.status();
  auto r = conn->Exec("SELECT 1");
  return r.ok() ? Status::Ok() : r.status();
}

TEST(HostAuthMethod, RejectRefusesTcpLoginsWhileTheNodeBecomesHealthyOverItsSocket) {
  PgrtNode node(Env{{"POSTGRES_HOST_AUTH_METHOD", "reject"}});
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(node.Get("/__opr/health").status, 200);

  Status tcp = Login(node, /*over_socket=*/false, /*with_password=*/true);
  ASSERT_FALSE(tcp.ok()) << "a TCP login got in under reject";
  EXPECT_NE(tcp.message().find("pg_hba.conf rejects connection"), std::string::npos)
      << tcp.message();
  EXPECT_TRUE(Login(node, /*over_socket=*/true, /*with_password=*/true).ok());
}

TEST(HostAuthMethod, TrustLetsTcpLoginsInWithoutAPasswordButTheSocketStillAsksForOne) {
  PgrtNode node(Env{{"POSTGRES_HOST_AUTH_METHOD", "trust"}});
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();

  Status tcp = Login(node, /*over_socket=*/false, /*with_password=*/false);
  EXPECT_TRUE(tcp.ok()) << tcp.message();
  Status socket = Login(node, /*over_socket=*/true, /*with_password=*/false);
  ASSERT_FALSE(socket.ok()) << "a socket login without password got in under trust";
  EXPECT_NE(socket.message().find("no password supplied"), std::string::npos) << socket.message();
  Status with_password = Login(node, /*over_socket=*/true, /*with_password=*/true);
  EXPECT_TRUE(with_password.ok()) << with_password.message();
}

}  // namespace
}  // namespace pgrt::testing
