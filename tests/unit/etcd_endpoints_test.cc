// PGRT_ETCD_ENDPOINTS as etcd's own clients write it: a comma list of http:// or https:// URLs,
// never both; and a client that refuses what it cannot use before it sends anything.
#include <gtest/gtest.h>

#include "ha/etcd_client.h"

namespace pgrt {
namespace {

TEST(EtcdEndpoints, ParsesHostsPortsAndBracketedV6) {
  auto e = ParseEtcdEndpoints("http://127.0.0.1:2379, http://[::1]:23790/,http://etcd-0");
  ASSERT_TRUE(e.ok()) << e.status().message();
  ASSERT_EQ(e->size(), 3u);
  EXPECT_EQ((*e)[0].host, "127.0.0.1");
  EXPECT_EQ((*e)[0].port, 2379);
  EXPECT_FALSE((*e)[0].tls);
  EXPECT_EQ((*e)[1].host, "::1");
  EXPECT_EQ((*e)[1].port, 23790);
  EXPECT_EQ((*e)[2].host, "etcd-0");
  EXPECT_EQ((*e)[2].port, 2379);
}

TEST(EtcdEndpoints, HttpsUrlsAreTlsEndpoints) {
  auto e = ParseEtcdEndpoints("https://etcd-0:2379,https://[::1]:23790");
  ASSERT_TRUE(e.ok()) << e.status().message();
  ASSERT_EQ(e->size(), 2u);
  EXPECT_TRUE((*e)[0].tls);
  EXPECT_EQ((*e)[0].host, "etcd-0");
  EXPECT_TRUE((*e)[1].tls);
  EXPECT_EQ((*e)[1].host, "::1");
  EXPECT_EQ(EtcdUrl((*e)[1]), "https://[::1]:23790");
  EXPECT_EQ(EtcdHostPort((*e)[1]), "[::1]:23790");
  EXPECT_EQ(EtcdHostPort((*e)[0]), "etcd-0:2379");
}

TEST(EtcdEndpoints, RefusesWhatItCannotUseWithTheUrlInTheMessage) {
  for (const char* bad : {"", "127.0.0.1:2379", "ftp://a:2379", "http://:2379", "https://:2379",
                          "http://a:0", "http://a:99999", "http://a:12x", "http://[::1:2379"}) {
    auto e = ParseEtcdEndpoints(bad);
    EXPECT_FALSE(e.ok()) << bad;
  }
  auto bad = ParseEtcdEndpoints("ftp://a:2379");
  EXPECT_NE(bad.status().message().find("ftp://a:2379"), std::string::npos);
}

TEST(EtcdEndpoints, AListMixingHttpAndHttpsIsRefusedNamingBoth) {
  for (const char* mixed : {"http://a:2379,https://b:2379", "https://a:2379, http://b:2379"}) {
    auto e = ParseEtcdEndpoints(mixed);
    ASSERT_FALSE(e.ok()) << mixed;
    EXPECT_TRUE(e.status().IsInvalidArgument());
    EXPECT_NE(e.status().message().find("a:2379"), std::string::npos) << e.status().message();
    EXPECT_NE(e.status().message().find("b:2379"), std::string::npos) << e.status().message();
    EXPECT_NE(e.status().message().find("all http:// or all https://"), std::string::npos);
  }
}

class EtcdClientCreate : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }
  RealClock clock_;
  EventLoop loop_{clock_};
};

TEST_F(EtcdClientCreate, RefusesMixedSchemesTlsFilesItCannotReadAndAHalfClientCertificate) {
  EXPECT_FALSE(EtcdClient::Create(loop_, {{"a", 2379, false}, {"b", 2379, true}}, {}).ok());
  EtcdClientOptions missing_ca;
  missing_ca.tls.ca_file = "/nonexistent/ca.pem";
  auto r = EtcdClient::Create(loop_, {{"a", 2379, true}}, missing_ca);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/ca.pem"), std::string::npos);
  EtcdClientOptions half;
  half.tls.cert_file = "/nonexistent/client.pem";
  EXPECT_FALSE(EtcdClient::Create(loop_, {{"a", 2379, true}}, half).ok());
  // TLS files are only read for https:// endpoints.
  EXPECT_TRUE(EtcdClient::Create(loop_, {{"a", 2379, false}}, missing_ca).ok());
}

TEST_F(EtcdClientCreate, APasswordWithoutAUserIsRefusedAndNotRepeated) {
  EtcdClientOptions o;
  o.password = "Sx9-not-shown";
  auto r = EtcdClient::Create(loop_, {{"a", 2379, false}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("Sx9-not-shown"), std::string::npos);
}

}  // namespace
}  // namespace pgrt
