// Certificates replaced while pgrt runs (POSTGRES_TLS_*): a rename over the files, or a swap
// of the symbolic link they are reached through, is noticed, checked and installed; postgres
// and PgBouncer serve the new certificate to new connections within 5 s (psql with
// sslmode=verify-full before and after), open sessions stay. A replacement that fails a check
// is refused (status, metric, log) and the old certificate is still served.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tls_certs.h"

namespace pgrt::testing {
namespace {

using pool::ParseMetrics;

constexpr milliseconds kRotationDeadline{5000};

// psql over TCP with sslmode=verify-full against `ca`: "t" when the session uses TLS.
CommandOutput VerifiedPsql(PgrtNode& node, int port, const std::string& ca) {
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port) +
                               " user=" + node.env()["POSTGRES_USER"] +
                               " dbname=" + node.env()["POSTGRES_DB"] +
                               " sslmode=verify-full sslrootcert=" + ca + " connect_timeout=5";
  return RunCommand({"/usr/bin/psql", conninfo, "-Atc", "SELECT 1 AS verified"},
                    {{"PATH", "/usr/bin:/bin"}, {"PGPASSWORD", node.password()}});
}

nlohmann::json TlsStatus(PgrtNode& node, const std::string& which) {
  auto r = node.Get("/__opr/status");
  if (r.status != 200) return nullptr;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("tls") || !j["tls"].contains(which)) return nullptr;
  return j["tls"][which];
}

double Metric(PgrtNode& node, const std::string& name, const std::string& cert) {
  for (const auto& s : ParseMetrics(node.Get("/metrics").body))
    if (s.name == name && s.labels.count("cert") && s.labels.at("cert") == cert) return s.value;
  return -1;
}

std::string MakeDir(PgrtNode& node, const std::string& name) {
  const std::string d = node.dir() + "/" + name;
  ::mkdir(d.c_str(), 0755);
  return d;
}

}  // namespace

TEST(TlsRotation, ARenameOverTheFilesServesTheNewCertificateAndKeepsOpenSessions) {
  PgrtNode node;
  TestCa ca(MakeDir(node, "ca"));
  const IssuedCert first = ca.Issue("first", 11), second = ca.Issue("second", 12);
  const std::string dir = MakeDir(node, "tls");
  RenameOver(first.cert, dir + "/server.crt");
  RenameOver(first.key, dir + "/server.key");
  node.env()["POSTGRES_TLS_CERT_FILE"] = dir + "/server.crt";
  node.env()["POSTGRES_TLS_KEY_FILE"] = dir + "/server.key";
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();

  CommandOutput before = VerifiedPsql(node, node.pg_port(), ca.cert());
  ASSERT_EQ(before.exit_code, 0) << before.output;
  EXPECT_EQ(ServedSerial(node.pg_port()), SerialHex(11));
  ConnParams verified = node.Conn();
  verified["sslmode"] = "verify-full";
  verified["sslrootcert"] = ca.cert();
  auto session = PgConn::Connect(verified);
  ASSERT_TRUE(session.ok()) << session.status().message();
  const pid_t backend = BackendPid(*session);

  RenameOver(second.cert, dir + "/server.crt");
  RenameOver(second.key, dir + "/server.key");
  EXPECT_TRUE(WaitUntil([&] { return ServedSerial(node.pg_port()) == SerialHex(12); },
                        kRotationDeadline, milliseconds(100)))
      << node.Log();
  CommandOutput after = VerifiedPsql(node, node.pg_port(), ca.cert());
  EXPECT_EQ(after.exit_code, 0) << after.output;
  // The session opened before the rotation is the same backend, still over TLS.
  EXPECT_EQ(BackendPid(*session), backend);
  auto ssl = session->Exec("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  ASSERT_TRUE(ssl.ok()) << ssl.status().message();
  EXPECT_EQ(ssl->Get(0, 0), "t");

  nlohmann::json tls = TlsStatus(node, "postgres");
  ASSERT_TRUE(tls.is_object()) << node.Get("/__opr/status").body;
  EXPECT_EQ(tls["serial"], SerialHex(12));
  EXPECT_EQ(tls["subject"], "CN=localhost");
  EXPECT_FALSE(tls["lastRotation"].is_null());
  EXPECT_TRUE(tls["lastError"].is_null());
  EXPECT_EQ(Metric(node, "pgrt_tls_cert_rotations_total", "postgres"), 1);
  EXPECT_GT(Metric(node, "pgrt_tls_cert_expiry_timestamp_seconds", "postgres"),
            static_cast<double>(::time(nullptr) + 20 * 86400));
}

TEST(TlsRotation, ASwappedSymlinkRotatesPostgresAndPgbouncerTogether) {
  PgrtNode node(pool::PoolerEnv());
  TestCa ca(MakeDir(node, "ca"));
  const IssuedCert first = ca.Issue("first", 21), second = ca.Issue("second", 22);
  // Kubernetes' secret volume: tls.crt → ..data/tls.crt, ..data → a versioned directory that
  // a new version replaces by renaming a new link over ..data.
  const std::string vol = MakeDir(node, "secret");
  for (auto [version, c] : {std::pair{"v1", first}, std::pair{"v2", second}}) {
    const std::string d = MakeDir(node, std::string("secret/") + version);
    RenameOver(c.cert, d + "/tls.crt");
    RenameOver(c.key, d + "/tls.key");
  }
  ASSERT_EQ(::symlink("v1", (vol + "/..data").c_str()), 0);
  ASSERT_EQ(::symlink("..data/tls.crt", (vol + "/tls.crt").c_str()), 0);
  ASSERT_EQ(::symlink("..data/tls.key", (vol + "/tls.key").c_str()), 0);
  node.env()["POSTGRES_TLS_CERT_FILE"] = vol + "/tls.crt";
  node.env()["POSTGRES_TLS_KEY_FILE"] = vol + "/tls.key";
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(pool::WaitPoolerAnswers(node)) << node.Log();
  const int bouncer = pool::PoolerPort(node);
  EXPECT_EQ(ServedSerial(node.pg_port()), SerialHex(21));
  EXPECT_EQ(ServedSerial(bouncer), SerialHex(21));
  CommandOutput pooled_before = VerifiedPsql(node, bouncer, ca.cert());
  ASSERT_EQ(pooled_before.exit_code, 0) << pooled_before.output;
  ConnParams pooled = pool::PoolerConn(node);
  pooled["sslmode"] = "verify-full";
  pooled["sslrootcert"] = ca.cert();
  auto session = PgConn::Connect(pooled);
  ASSERT_TRUE(session.ok()) << session.status().message();

  ASSERT_EQ(::symlink("v2", (vol + "/..data_tmp").c_str()), 0);
  ASSERT_EQ(::rename((vol + "/..data_tmp").c_str(), (vol + "/..data").c_str()), 0);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return ServedSerial(node.pg_port()) == SerialHex(22) &&
               ServedSerial(bouncer) == SerialHex(22);
      },
      kRotationDeadline, milliseconds(100)))
      << node.Log();
  CommandOutput direct = VerifiedPsql(node, node.pg_port(), ca.cert());
  EXPECT_EQ(direct.exit_code, 0) << direct.output;
  CommandOutput pooled_after = VerifiedPsql(node, bouncer, ca.cert());
  EXPECT_EQ(pooled_after.exit_code, 0) << pooled_after.output;
  // The client's session through PgBouncer survives the reload.
  auto still = session->Exec("SELECT 1");
  EXPECT_TRUE(still.ok()) << still.status().message();
  EXPECT_TRUE(PQsslInUse(session->raw()));
}

TEST(TlsRotation, AnInvalidReplacementIsRefusedAndTheLastGoodCertificateStaysInUse) {
  PgrtNode node;
  TestCa ca(MakeDir(node, "ca"));
  const IssuedCert good = ca.Issue("good", 31), other = ca.Issue("other", 32),
                   expired = ca.Issue("expired", 33, -1);
  const std::string dir = MakeDir(node, "tls");
  RenameOver(good.cert, dir + "/server.crt");
  RenameOver(good.key, dir + "/server.key");
  node.env()["POSTGRES_TLS_CERT_FILE"] = dir + "/server.crt";
  node.env()["POSTGRES_TLS_KEY_FILE"] = dir + "/server.key";
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  const size_t mark = node.LogSize();

  // A certificate whose key was not replaced with it.
  RenameOver(other.cert, dir + "/server.crt");
  ASSERT_TRUE(WaitUntil(
      [&] {
        nlohmann::json t = TlsStatus(node, "postgres");
        return t.is_object() && t["rotationFailures"] == 1;
      },
      kRotationDeadline, milliseconds(100)))
      << node.Get("/__opr/status").body;
  nlohmann::json tls = TlsStatus(node, "postgres");
  EXPECT_NE(tls["lastError"].get<std::string>().find("does not belong"), std::string::npos)
      << tls.dump();
  EXPECT_EQ(tls["serial"], SerialHex(31));
  EXPECT_EQ(ServedSerial(node.pg_port()), SerialHex(31));
  EXPECT_EQ(Metric(node, "pgrt_tls_cert_rotation_failures_total", "postgres"), 1);
  EXPECT_NE(node.LogSince(mark).find("new certificate set refused"), std::string::npos);

  // An expired certificate with its own key.
  RenameOver(expired.key, dir + "/server.key");
  RenameOver(expired.cert, dir + "/server.crt");
  ASSERT_TRUE(WaitUntil(
      [&] {
        nlohmann::json t = TlsStatus(node, "postgres");
        return t.is_object() && t["lastError"].is_string() &&
               t["lastError"].get<std::string>().find("expired") != std::string::npos;
      },
      kRotationDeadline, milliseconds(100)))
      << node.Get("/__opr/status").body;
  EXPECT_EQ(ServedSerial(node.pg_port()), SerialHex(31));
  EXPECT_EQ(VerifiedPsql(node, node.pg_port(), ca.cert()).exit_code, 0);

  // Then a good set: accepted, and the error is gone.
  RenameOver(other.key, dir + "/server.key");
  RenameOver(other.cert, dir + "/server.crt");
  EXPECT_TRUE(WaitUntil([&] { return ServedSerial(node.pg_port()) == SerialHex(32); },
                        kRotationDeadline, milliseconds(100)))
      << node.Log();
  EXPECT_TRUE(TlsStatus(node, "postgres")["lastError"].is_null());
}

TEST(TlsRotation, AnExpiredCertificateAtStartIsServedAndReported) {
  PgrtNode node;
  TestCa ca(MakeDir(node, "ca"));
  const IssuedCert expired = ca.Issue("expired", 41, -1);
  node.env()["POSTGRES_TLS_CERT_FILE"] = expired.cert;
  node.env()["POSTGRES_TLS_KEY_FILE"] = expired.key;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  nlohmann::json tls = TlsStatus(node, "postgres");
  ASSERT_TRUE(tls.is_object()) << node.Get("/__opr/status").body;
  EXPECT_EQ(tls["expired"], true);
  EXPECT_NE(tls["lastError"].get<std::string>().find("expired"), std::string::npos);
  EXPECT_LT(Metric(node, "pgrt_tls_cert_expiry_timestamp_seconds", "postgres"),
            static_cast<double>(::time(nullptr)));
  EXPECT_GT(Metric(node, "pgrt_tls_cert_expiry_timestamp_seconds", "postgres"), 0);
  // verify-full refuses it, as it should: pgrt does not hide an expired certificate.
  EXPECT_NE(VerifiedPsql(node, node.pg_port(), ca.cert()).exit_code, 0);
}

TEST(TlsRotation, AnUnusableSetAtStartStopsPgrtWithTheReason) {
  PgrtNode node;
  TestCa ca(MakeDir(node, "ca"));
  const IssuedCert a = ca.Issue("a", 51), b = ca.Issue("b", 52);
  node.env()["POSTGRES_TLS_CERT_FILE"] = a.cert;
  node.env()["POSTGRES_TLS_KEY_FILE"] = b.key;
  node.Start();
  EXPECT_EQ(ExitCode(node.WaitExit(milliseconds(20000))), 1);
  EXPECT_NE(node.Log().find("does not belong to certificate"), std::string::npos) << node.Log();
}

}  // namespace pgrt::testing
