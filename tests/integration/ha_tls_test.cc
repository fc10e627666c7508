// Replication between HA peers over TLS: with POSTGRES_TLS_CA_FILE, replicas clone, stream
// and are checked against the leader's certificate (sslmode=verify-full against the
// advertised host); a certificate the CA did not sign is refused.
#include "integration/ha_helpers.h"

namespace pgrt::testing::ha {
namespace {

// A self-signed certificate for 127.0.0.1 (its own CA), in `dir`.
void MakePeerCertificate(const std::string& dir, const std::string& name) {
  CommandOutput gen =
      RunCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                  dir + "/" + name + ".key", "-out", dir + "/" + name + ".crt", "-days", "2",
                  "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
                 {{"PATH", "/usr/bin:/bin"}, {"HOME", dir}});
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  ::chmod((dir + "/" + name + ".crt").c_str(), 0644);
}

}  // namespace

TEST(HaTls, ReplicasCloneAndStreamFromTheLeaderOverVerifiedTls) {
  TempDir certs;
  ::chmod(certs.path().c_str(), 0755);
  ASSERT_NO_FATAL_FAILURE(MakePeerCertificate(certs.path(), "peer"));
  Cluster c(2, {{"POSTGRES_TLS_CERT_FILE", certs.path() + "/peer.crt"},
                {"POSTGRES_TLS_KEY_FILE", certs.path() + "/peer.key"},
                {"POSTGRES_TLS_CA_FILE", certs.path() + "/peer.crt"}});
  c.StartAll();
  const int leader = c.WaitSettled();
  ASSERT_GE(leader, 0) << c.Logs();
  // The walsender's connection is TLS, checked against the CA.
  EXPECT_TRUE(WaitForValue(c.node(leader),
                           "SELECT bool_and(s.ssl)::text FROM pg_stat_replication r JOIN "
                           "pg_stat_ssl s USING (pid)",
                           "true", milliseconds(20000)))
      << c.Logs();
  const std::string conninfo = c.node(1 - leader).Query("SHOW primary_conninfo");
  EXPECT_NE(conninfo.find("sslmode=verify-full"), std::string::npos) << conninfo;
}

TEST(HaTls, AReplicaRefusesALeaderWhoseCertificateTheCaDidNotSign) {
  TempDir certs;
  ::chmod(certs.path().c_str(), 0755);
  ASSERT_NO_FATAL_FAILURE(MakePeerCertificate(certs.path(), "peer"));
  ASSERT_NO_FATAL_FAILURE(MakePeerCertificate(certs.path(), "other"));
  Cluster c(2, {{"POSTGRES_TLS_CERT_FILE", certs.path() + "/peer.crt"},
                {"POSTGRES_TLS_KEY_FILE", certs.path() + "/peer.key"},
                {"POSTGRES_TLS_CA_FILE", certs.path() + "/other.crt"}});
  c.node(0).Start();
  ASSERT_TRUE(WaitForStatus(c.node(0), "/primary", 200, milliseconds(60000))) << c.Logs();
  c.node(1).Start();
  // The clone never starts: pg_basebackup's connection fails verification, and says so.
  EXPECT_TRUE(WaitUntil(
      [&] { return c.node(1).Log().find("certificate verify failed") != std::string::npos; },
      milliseconds(30000)))
      << c.node(1).Log();
  EXPECT_EQ(c.node(1).Get("/replica").status, 503);
}

TEST(HaTls, NodesTalkToEtcdOverMutualTlsWithAPassword) {
  Cluster c(2, {}, EtcdServerOptions{.tls = true, .client_cert_auth = true}, "etcd-root-pw");
  c.StartAll();
  const int leader = c.WaitSettled();
  ASSERT_GE(leader, 0) << c.Logs();
  json view = GetJson(c.node(leader).api_port(), "/cluster").value_or(json());
  EXPECT_EQ(view["members"].size(), 2u) << view.dump();
  // The password reaches no log and no answer.
  EXPECT_EQ(c.Logs().find("etcd-root-pw"), std::string::npos);
  EXPECT_EQ(c.node(leader).Get("/__opr/status").body.find("etcd-root-pw"), std::string::npos);
}

}  // namespace pgrt::testing::ha
