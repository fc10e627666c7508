// TLS from POSTGRES_TLS_CERT_FILE/KEY_FILE: clients get encrypted connections, and a key file
// readable by others (as mounted secrets often are) still works through pgrt's private copy.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

std::string NonLoopbackIPv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if ((i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP)) continue;
    char buf[INET_ADDRSTRLEN];
    auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) found = buf;
  }
  ::freeifaddrs(list);
  return found;
}

}  // namespace

TEST(Tls, CertAndKeyFilesGiveClientsTlsEvenWhenTheKeyIsWorldReadable) {
  PgrtNode node;
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(node));
  const std::string key = node.env()["POSTGRES_TLS_KEY_FILE"];
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  const std::string key_content = ReadFileOrEmpty(key);

  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();

  ConnParams tls = node.Conn();
  tls["sslmode"] = "require";
  auto conn = PgConn::Connect(tls);
  ASSERT_TRUE(conn.ok()) << conn.status().message() << "\n" << node.Log();
  auto ssl = conn->Exec("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  ASSERT_TRUE(ssl.ok()) << ssl.status().message();
  ASSERT_EQ(ssl->rows(), 1);
  EXPECT_EQ(ssl->Get(0, 0), "t");

  // TLS is offered, not required: a plain connection still works.
  ConnParams plain = node.Conn();
  plain["sslmode"] = "disable";
  auto plain_conn = PgConn::Connect(plain);
  ASSERT_TRUE(plain_conn.ok()) << plain_conn.status().message();
  auto no_ssl = plain_conn->Exec("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  ASSERT_TRUE(no_ssl.ok());
  EXPECT_EQ(no_ssl->Get(0, 0), "f");

  // The user's file is left as it was; postgres reads a copy with the mode it demands.
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(node.Query("SHOW ssl"), "on");
  std::string key_copy = node.Query("SHOW ssl_key_file");
  ASSERT_FALSE(key_copy.empty());
  EXPECT_NE(key_copy, key);
  ASSERT_EQ(::stat(key_copy.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "key copy mode " << std::oct << (st.st_mode & 07777);
  EXPECT_EQ(ReadFileOrEmpty(key_copy), key_content);
}

TEST(Tls, RequiredTlsRefusesPlainRemoteConnectionsButAcceptsTlsOnes) {
  // pg_hba.conf treats loopback as local: a remote client needs a non-loopback address.
  const std::string remote = NonLoopbackIPv4();
  if (remote.empty()) GTEST_SKIP() << "no non-loopback IPv4 address on this host";
  PgrtNode node;
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(node));
  node.env()["POSTGRES_TLS_REQUIRED"] = "true";
  node.env()["POSTGRES_LISTEN_ADDRESSES"] = "127.0.0.1," + remote;

  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ConnParams tls = node.Conn();
  tls["host"] = remote;
  tls["sslmode"] = "require";
  auto conn = PgConn::Connect(tls);
  EXPECT_TRUE(conn.ok()) << conn.status().message();

  ConnParams plain = tls;
  plain["sslmode"] = "disable";
  auto refused = PgConn::Connect(plain);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("no pg_hba.conf entry"), std::string::npos)
      << refused.status().message();
}

}  // namespace pgrt::testing
