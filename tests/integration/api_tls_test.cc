// The management API over HTTPS (PGRT_API_TLS_*): curl verifies it, a mutating call needs a
// client certificate the configured CA signed as well as the token, a read-only one needs
// neither; pgrt's own commands follow the configuration; a renamed certificate is served to
// new connections without a restart.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tls_certs.h"

namespace pgrt::testing {
namespace {

constexpr const char* kToken = "api-tls-token";

struct Curl {
  int code = 0;  // HTTP status; 0: no answer
  std::string body;
};

// curl against https://127.0.0.1:<port><path>, verified against `ca`; a client certificate
// when given; the token through a header file (never on a command line).
Curl CurlHttps(const PgrtNode& node, const std::string& ca, const std::string& method,
               const std::string& path, const IssuedCert* client, bool token) {
  const std::string headers = node.dir() + "/curl-headers";
  WriteFileOrDie(headers, token ? std::string("Authorization: Bearer ") + kToken + "\n" : "\n",
                 0600);
  std::string cmd = "curl -s -o '" + node.dir() + "/curl-body' -w '%{http_code}' --max-time 10 " +
                    "--cacert '" + ca + "' -H @'" + headers + "' -X " + method;
  if (client != nullptr) cmd += " --cert '" + client->cert + "' --key '" + client->key + "'";
  cmd += " 'https://127.0.0.1:" + std::to_string(node.api_port()) + path + "'";
  CommandOutput r = pool::Shell(cmd);
  Curl out;
  out.code = std::atoi(r.output.c_str());
  out.body = ReadFileOrEmpty(node.dir() + "/curl-body");
  return out;
}

std::string MakeDir(const PgrtNode& node, const std::string& name) {
  const std::string d = node.dir() + "/" + name;
  ::mkdir(d.c_str(), 0755);
  return d;
}

}  // namespace

TEST(ApiTls, MutatingCallsNeedAClientCertificateAndTheTokenReadOnlyCallsNeither) {
  PgrtNode node(Env{{"PGRT_API_TOKEN", kToken}});
  TestCa ca(MakeDir(node, "ca"));
  TestCa clients(MakeDir(node, "clients"), "pgrt client CA");
  TestCa stranger(MakeDir(node, "stranger"), "some other CA");
  const IssuedCert server = ca.Issue("api", 61);
  const IssuedCert client = clients.Issue("operator", 62, 30, "operator");
  const IssuedCert unknown = stranger.Issue("intruder", 63, 30, "intruder");
  const std::string dir = MakeDir(node, "tls");
  RenameOver(server.cert, dir + "/api.crt");
  RenameOver(server.key, dir + "/api.key");
  node.env()["PGRT_API_TLS_CERT_FILE"] = dir + "/api.crt";
  node.env()["PGRT_API_TLS_KEY_FILE"] = dir + "/api.key";
  node.env()["PGRT_API_TLS_CA_FILE"] = clients.cert();
  node.Start();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return CurlHttps(node, ca.cert(), "GET", "/__opr/health", nullptr, false).code == 200;
      },
      milliseconds(30000), milliseconds(100)))
      << node.Log();

  // Plain HTTP gets no answer from an HTTPS port.
  EXPECT_EQ(node.Get("/liveness").status, 0);
  // Read-only: no certificate, no token.
  EXPECT_EQ(CurlHttps(node, ca.cert(), "GET", "/__opr/status", nullptr, false).code, 200);
  // Mutating: the token alone is not enough, nor a certificate another CA signed (that one
  // fails the handshake), nor a certificate without the token.
  Curl no_cert = CurlHttps(node, ca.cert(), "POST", "/__opr/replication/promote", nullptr, true);
  EXPECT_EQ(no_cert.code, 403);
  EXPECT_NE(no_cert.body.find("client certificate"), std::string::npos) << no_cert.body;
  EXPECT_NE(CurlHttps(node, ca.cert(), "POST", "/__opr/replication/promote", &unknown, true).code,
            400);
  EXPECT_EQ(CurlHttps(node, ca.cert(), "POST", "/__opr/replication/promote", &client, false).code,
            401);
  // Both: the call reaches its handler (a standalone node is not a replica: 400).
  Curl both = CurlHttps(node, ca.cert(), "POST", "/__opr/replication/promote", &client, true);
  EXPECT_EQ(both.code, 400) << both.body;
  EXPECT_NE(both.body.find("Only available on replica"), std::string::npos) << both.body;

  // pgrt's commands speak HTTPS to the local API, verifying it against PGRT_API_TLS_CERT_FILE.
  Env cli = node.env();
  CommandOutput health = RunPgrt({"healthcheck"}, cli);
  EXPECT_EQ(health.exit_code, 0) << health.output;
  CommandOutput refused = RunPgrt({"promote"}, cli);
  EXPECT_NE(refused.output.find("client certificate"), std::string::npos) << refused.output;
  cli["PGRT_API_TLS_CLIENT_CERT_FILE"] = client.cert;
  cli["PGRT_API_TLS_CLIENT_KEY_FILE"] = client.key;
  CommandOutput promote = RunPgrt({"promote"}, cli);
  EXPECT_NE(promote.output.find("Only available on replica"), std::string::npos) << promote.output;
  // A configured certificate that is not the one served is refused, never ignored.
  Env wrong = node.env();
  wrong["PGRT_API_TLS_CERT_FILE"] = stranger.cert();
  EXPECT_NE(RunPgrt({"healthcheck"}, wrong).exit_code, 0);
}

TEST(ApiTls, ARenamedCertificateIsServedToNewConnectionsWithoutARestart) {
  PgrtNode node;
  TestCa ca(MakeDir(node, "ca"));
  const IssuedCert first = ca.Issue("first", 71), second = ca.Issue("second", 72);
  const std::string dir = MakeDir(node, "tls");
  RenameOver(first.cert, dir + "/api.crt");
  RenameOver(first.key, dir + "/api.key");
  node.env()["PGRT_API_TLS_CERT_FILE"] = dir + "/api.crt";
  node.env()["PGRT_API_TLS_KEY_FILE"] = dir + "/api.key";
  node.Start();
  ASSERT_TRUE(WaitUntil([&] { return ServedSerial(node.api_port(), "") == SerialHex(71); },
                        milliseconds(30000), milliseconds(100)))
      << node.Log();
  const pid_t pid = node.pid();
  RenameOver(second.key, dir + "/api.key");
  RenameOver(second.cert, dir + "/api.crt");
  EXPECT_TRUE(WaitUntil([&] { return ServedSerial(node.api_port(), "") == SerialHex(72); },
                        milliseconds(5000), milliseconds(100)))
      << node.Log();
  EXPECT_EQ(node.pid(), pid);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return CurlHttps(node, ca.cert(), "GET", "/__opr/health", nullptr, false).code == 200;
      },
      milliseconds(30000), milliseconds(100)))
      << node.Log();
  Curl status = CurlHttps(node, ca.cert(), "GET", "/__opr/status", nullptr, false);
  EXPECT_NE(status.body.find("\"api\""), std::string::npos) << status.body;
  EXPECT_EQ(RunPgrt({"healthcheck"}, node.env()).exit_code, 0);
}

}  // namespace pgrt::testing
