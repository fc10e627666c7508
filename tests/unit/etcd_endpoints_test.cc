// PGRT_ETCD_ENDPOINTS as etcd's own clients write it: a comma list of http:// URLs.
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
  EXPECT_EQ((*e)[1].host, "::1");
  EXPECT_EQ((*e)[1].port, 23790);
  EXPECT_EQ((*e)[2].host, "etcd-0");
  EXPECT_EQ((*e)[2].port, 2379);
}

TEST(EtcdEndpoints, RefusesWhatItCannotUseWithTheUrlInTheMessage) {
  for (const char* bad : {"", "127.0.0.1:2379", "https://a:2379", "http://:2379", "http://a:0",
                          "http://a:99999", "http://a:12x", "http://[::1:2379"}) {
    auto e = ParseEtcdEndpoints(bad);
    EXPECT_FALSE(e.ok()) << bad;
  }
  auto tls = ParseEtcdEndpoints("https://a:2379");
  EXPECT_NE(tls.status().message().find("https://a:2379"), std::string::npos);
}

}  // namespace
}  // namespace pgrt
