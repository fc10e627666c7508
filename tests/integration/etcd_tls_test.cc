// The etcd client over TLS and with a user and password, against a real etcd (Debian's
// etcd-server) on free loopback ports: the server's certificate is verified against the CA
// and against the endpoint's host, a client certificate is offered when etcd asks for one,
// and a token is fetched, sent with every call and watch, and replaced when etcd drops it.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "ha/election.h"
#include "ha/etcd_client.h"
#include "harness/harness.h"
#include "integration/etcd_server.h"
#include "integration/loop_turns.h"

namespace pgrt::testing {
namespace {

// A throwaway password: it exists only for this test's etcd.
constexpr char kPassword[] = "Zq7-throwaway-b2Xe";

class EtcdTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }
  void StartEtcd(EtcdServerOptions options) {
    etcd_.emplace(std::move(options));
    ASSERT_NO_FATAL_FAILURE(etcd_->Start());
  }
  std::unique_ptr<EtcdClient> Client(EtcdClientOptions options) {
    auto endpoints = ParseEtcdEndpoints(etcd_->url());
    EXPECT_TRUE(endpoints.ok()) << endpoints.status().message();
    auto client = EtcdClient::Create(loop_, *endpoints, std::move(options));
    EXPECT_TRUE(client.ok()) << client.status().message();
    return client.ok() ? std::move(*client) : nullptr;
  }
  EtcdClientOptions WithCa() const {
    EtcdClientOptions o;
    o.tls.ca_file = etcd_->certs().ca;
    return o;
  }
  bool Until(const std::function<bool()>& done, Millis limit = Millis(5000)) {
    return TurnUntil(loop_, done, limit);
  }
  template <typename T>
  Result<T> Wait(std::function<void(EtcdClient::Done<T>)> call) {
    return TurnForAnswer<T>(loop_, std::move(call));
  }
  Result<int64_t> Put(EtcdClient& c, const std::string& key, const std::string& value) {
    return Wait<int64_t>([&](auto done) { c.Put(key, value, 0, std::move(done)); });
  }
  Result<std::optional<EtcdKeyValue>> Get(EtcdClient& c, const std::string& key) {
    return Wait<std::optional<EtcdKeyValue>>([&](auto done) { c.Get(key, std::move(done)); });
  }
  // Puts `key` while a watch on it runs; the value the watch saw ("" when none).
  std::string PutSeenByWatch(EtcdClient& c, const std::string& key, const std::string& value) {
    std::optional<std::string> seen;
    std::optional<Status> ended;
    auto watch = c.Watch(
        key, false, 0, [&](const EtcdEvent& e) { seen = e.kv.value; },
        [&](const Status& st) { ended = st; });
    Until([] { return false; }, Millis(300));  // the watch is set up
    EXPECT_TRUE(Put(c, key, value).ok());
    Until([&] { return seen.has_value() || ended.has_value(); }, Millis(3000));
    EXPECT_FALSE(ended.has_value()) << ended->message();
    return seen.value_or("");
  }

  RealClock clock_;
  EventLoop loop_{clock_};
  std::optional<EtcdServer> etcd_;
};

TEST_F(EtcdTlsTest, AnHttpsEtcdWhoseCertificateChainsToTheCaServesCallsAndWatches) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd({.tls = true}));
  auto client = Client(WithCa());
  ASSERT_TRUE(client);
  auto put = Put(*client, "/tls/a", "one");
  ASSERT_TRUE(put.ok()) << put.status().message();
  auto kv = Get(*client, "/tls/a");
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status().message();
  EXPECT_EQ((*kv)->value, "one");
  EXPECT_EQ(PutSeenByWatch(*client, "/tls/b", "two"), "two");
  EXPECT_LT(loop_.TakeWorstLag(), Millis(100));
}

TEST_F(EtcdTlsTest, AServerCertificateThatDoesNotNameTheEndpointHostIsRefusedAndTheErrorSaysSo) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd({.tls = true, .server_names = "DNS:elsewhere.invalid"}));
  auto client = Client(WithCa());
  ASSERT_TRUE(client);
  auto put = Put(*client, "/tls/a", "one");
  ASSERT_FALSE(put.ok());
  EXPECT_TRUE(put.status().IsUnavailable());
  EXPECT_NE(put.status().message().find("does not name 127.0.0.1"), std::string::npos)
      << put.status().message();
  std::optional<Status> ended;
  auto watch = client->Watch(
      "/tls/a", false, 0, [](const EtcdEvent&) {}, [&](const Status& st) { ended = st; });
  ASSERT_TRUE(Until([&] { return ended.has_value(); }));
  EXPECT_NE(ended->message().find("does not name 127.0.0.1"), std::string::npos)
      << ended->message();
}

TEST_F(EtcdTlsTest, WithoutACaFileTheSystemTrustStoreIsUsedAndAPrivateCaIsNotTrusted) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd({.tls = true}));
  auto client = Client(EtcdClientOptions{});
  ASSERT_TRUE(client);
  auto put = Put(*client, "/tls/a", "one");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.status().message().find("certificate was not verified"), std::string::npos)
      << put.status().message();
}

TEST_F(EtcdTlsTest, AnEtcdThatRequiresClientCertificatesServesOneAndRefusesOneWithout) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd({.tls = true, .client_cert_auth = true}));
  EtcdClientOptions mutual = WithCa();
  mutual.tls.cert_file = etcd_->certs().client_cert;
  mutual.tls.key_file = etcd_->certs().client_key;
  auto with_cert = Client(mutual);
  ASSERT_TRUE(with_cert);
  auto put = Put(*with_cert, "/mtls/a", "one");
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(PutSeenByWatch(*with_cert, "/mtls/b", "two"), "two");

  auto without = Client(WithCa());
  ASSERT_TRUE(without);
  auto refused = Put(*without, "/mtls/a", "two");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsUnavailable());
  EXPECT_NE(refused.status().message().find("TLS"), std::string::npos)
      << refused.status().message();
}

TEST_F(EtcdTlsTest, WithAuthOnEtcdRefusesAClientCertificateWithACommonNameAndTheErrorSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd({.tls = true, .client_cert_auth = true}));
  ASSERT_NO_FATAL_FAILURE(etcd_->EnableAuth(kPassword));
  EtcdClientOptions o = WithCa();
  o.tls.cert_file = etcd_->certs().named_client_cert;
  o.tls.key_file = etcd_->certs().named_client_key;
  o.user = "root";
  o.password = kPassword;
  auto client = Client(o);
  ASSERT_TRUE(client);
  auto put = Put(*client, "/cn/a", "one");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.status().message().find("HTTP 400: CommonName"), std::string::npos)
      << put.status().message();
  EXPECT_EQ(put.status().message().find(kPassword), std::string::npos);
}

TEST_F(EtcdTlsTest, AUserAndPasswordAuthenticateOnceForCallsAndWatches) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd({}));
  ASSERT_NO_FATAL_FAILURE(etcd_->EnableAuth(kPassword));
  auto anonymous = Client(EtcdClientOptions{});
  ASSERT_TRUE(anonymous);
  EXPECT_FALSE(Put(*anonymous, "/auth/a", "x").ok()) << "etcd takes calls without a token";

  EtcdClientOptions o;
  o.user = "root";
  o.password = kPassword;
  auto client = Client(o);
  ASSERT_TRUE(client);
  auto put = Put(*client, "/auth/a", "one");
  ASSERT_TRUE(put.ok()) << put.status().message();
  auto kv = Get(*client, "/auth/a");
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status().message();
  EXPECT_EQ((*kv)->value, "one");
  EXPECT_EQ(PutSeenByWatch(*client, "/auth/b", "two"), "two");
  EXPECT_EQ(client->authentications(), 1);
}

TEST_F(EtcdTlsTest, AWrongPasswordFailsClearlyWithoutThePasswordInTheError) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd({.tls = true}));
  ASSERT_NO_FATAL_FAILURE(etcd_->EnableAuth(kPassword));
  EtcdClientOptions o = WithCa();
  o.user = "root";
  o.password = "wrong-Hk3-password";
  auto client = Client(o);
  ASSERT_TRUE(client);
  auto put = Put(*client, "/auth/a", "one");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kPermissionDenied) << put.status().message();
  EXPECT_NE(put.status().message().find("authenticate as root"), std::string::npos)
      << put.status().message();
  EXPECT_EQ(put.status().message().find(o.password), std::string::npos);
  EXPECT_EQ(put.status().message().find(kPassword), std::string::npos);
  std::optional<Status> ended;
  auto watch = client->Watch(
      "/auth/a", false, 0, [](const EtcdEvent&) {}, [&](const Status& st) { ended = st; });
  ASSERT_TRUE(Until([&] { return ended.has_value(); }));
  EXPECT_EQ(ended->code(), StatusCode::kPermissionDenied) << ended->message();
  EXPECT_EQ(ended->message().find(o.password), std::string::npos);
}

TEST_F(EtcdTlsTest, AnExpiredTokenIsReplacedOnceAndTheCallOrWatchGoesThrough) {
  // Simple tokens live --auth-token-ttl seconds after their last use.
  ASSERT_NO_FATAL_FAILURE(StartEtcd({.tls = true, .auth_token_ttl = 1}));
  ASSERT_NO_FATAL_FAILURE(etcd_->EnableAuth(kPassword));
  EtcdClientOptions o = WithCa();
  o.user = "root";
  o.password = kPassword;
  auto client = Client(o);
  ASSERT_TRUE(client);
  ASSERT_TRUE(Put(*client, "/auth/a", "one").ok());
  EXPECT_EQ(client->authentications(), 1);
  Until([] { return false; }, Millis(3000));  // the token expires
  auto kv = Get(*client, "/auth/a");
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status().message();
  EXPECT_EQ(client->authentications(), 2);
  Until([] { return false; }, Millis(3000));  // and the new one
  EXPECT_EQ(PutSeenByWatch(*client, "/auth/b", "two"), "two");
  EXPECT_EQ(client->authentications(), 3);
}

TEST_F(EtcdTlsTest, AfterEtcdRestartsTheNextCallGoesOverANewTlsConnection) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd({.tls = true}));
  auto client = Client(WithCa());
  ASSERT_TRUE(client);
  ASSERT_TRUE(Put(*client, "/restart/a", "one").ok());
  etcd_->Stop();
  ASSERT_NO_FATAL_FAILURE(etcd_->Start());
  Until([] { return false; }, Millis(300));  // the client sees its idle connection close
  // A TLS session cannot go on over a new socket: the call needs a new connection.
  auto kv = Get(*client, "/restart/a");
  ASSERT_TRUE(kv.ok() && kv->has_value()) << kv.status().message();
  EXPECT_EQ((*kv)->value, "one");
}

TEST_F(EtcdTlsTest, ALeaderElectionRunsUnchangedOverMutualTlsWithAToken) {
  ASSERT_NO_FATAL_FAILURE(StartEtcd({.tls = true, .client_cert_auth = true}));
  ASSERT_NO_FATAL_FAILURE(etcd_->EnableAuth(kPassword));
  EtcdClientOptions o = WithCa();
  o.tls.cert_file = etcd_->certs().client_cert;
  o.tls.key_file = etcd_->certs().client_key;
  o.user = "root";
  o.password = kPassword;
  struct Node {
    std::unique_ptr<EtcdClient> etcd;
    std::unique_ptr<LeaderElection> election;
    std::string leader;
  };
  std::vector<Node> nodes(2);
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].etcd = Client(o);
    ASSERT_TRUE(nodes[i].etcd);
    std::string* leader = &nodes[i].leader;
    nodes[i].election = std::make_unique<LeaderElection>(
        loop_, *nodes[i].etcd,
        ElectionOptions{"/tls/leader", "n" + std::to_string(i), 2, Millis(500), Millis(200)},
        [leader](bool, const std::string& now) { *leader = now; });
    nodes[i].election->Start();
  }
  auto leaders = [&] {
    return int(nodes[0].election->leading()) + int(nodes[1].election->leading());
  };
  ASSERT_TRUE(Until([&] { return leaders() == 1 && nodes[0].leader == nodes[1].leader; }));
  Node& first = nodes[0].election->leading() ? nodes[0] : nodes[1];
  Node& second = &first == &nodes[0] ? nodes[1] : nodes[0];
  // A resignation reaches the other node through its watch, which takes over at once.
  bool resigned = false;
  first.election->Resign([&] { resigned = true; });
  ASSERT_TRUE(Until([&] { return resigned && second.election->leading(); }, Millis(3000)));
  EXPECT_FALSE(first.election->leading());
}

}  // namespace
}  // namespace pgrt::testing
