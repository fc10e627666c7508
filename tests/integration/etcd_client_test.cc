// The etcd client against a real etcd (Debian's etcd-server) on free loopback ports: the
// compare-and-swap a leader election needs, leases that expire or are kept alive, watches
// that see it happen, and an etcd that is gone — all on pgrt's event loop, which never waits.
#include "ha/etcd_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "harness/harness.h"
#include "integration/etcd_server.h"
#include "integration/loop_turns.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop_.Init().ok());
    ASSERT_NO_FATAL_FAILURE(etcd_.Start());
    client_ = std::make_unique<EtcdClient>(
        loop_, std::vector<EtcdEndpoint>{{"127.0.0.1", etcd_.port()}}, Millis(2000));
  }
  bool Until(const std::function<bool()>& done, Millis limit = Millis(5000)) {
    return TurnUntil(loop_, done, limit);
  }
  template <typename T>
  Result<T> Wait(std::function<void(EtcdClient::Done<T>)> call) {
    return TurnForAnswer<T>(loop_, std::move(call));
  }
  Result<std::optional<EtcdKeyValue>> GetKey(const std::string& key) {
    return Wait<std::optional<EtcdKeyValue>>(
        [&](auto done) { client_->Get(key, std::move(done)); });
  }

  RealClock clock_;
  EventLoop loop_{clock_};
  EtcdServer etcd_;
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(EtcdClientTest, CreateIsACompareAndSwapOnlyTheFirstCallerWins) {
  auto lease = Wait<int64_t>([&](auto done) { client_->GrantLease(10, std::move(done)); });
  ASSERT_TRUE(lease.ok()) << lease.status().message();
  auto first = Wait<bool>([&](auto done) { client_->Create("/c/leader", "node-a", *lease, done); });
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(*first);
  auto second = Wait<bool>([&](auto done) { client_->Create("/c/leader", "node-b", 0, done); });
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  auto kv = GetKey("/c/leader");
  ASSERT_TRUE(kv.ok() && kv->has_value());
  EXPECT_EQ((*kv)->value, "node-a");
  EXPECT_EQ((*kv)->lease, *lease);
  EXPECT_GT((*kv)->mod_revision, 0);

  // Released only by its holder.
  auto wrong = Wait<bool>([&](auto done) { client_->DeleteIf("/c/leader", "node-b", done); });
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(*wrong);
  auto right = Wait<bool>([&](auto done) { client_->DeleteIf("/c/leader", "node-a", done); });
  ASSERT_TRUE(right.ok());
  EXPECT_TRUE(*right);
  kv = GetKey("/c/leader");
  ASSERT_TRUE(kv.ok());
  EXPECT_FALSE(kv->has_value());
}

TEST_F(EtcdClientTest, BytesAndPrefixesSurviveTheGateway) {
  const std::string value("a\0b\xff\n\"{}", 9);
  ASSERT_TRUE((Wait<int64_t>([&](auto done) { client_->Put("/p/m/2", value, 0, done); })).ok());
  ASSERT_TRUE((Wait<int64_t>([&](auto done) { client_->Put("/p/m/1", "one", 0, done); })).ok());
  ASSERT_TRUE((Wait<int64_t>([&](auto done) { client_->Put("/p/n", "other", 0, done); })).ok());
  auto members = Wait<std::vector<EtcdKeyValue>>(
      [&](auto done) { client_->GetPrefix("/p/m/", std::move(done)); });
  ASSERT_TRUE(members.ok()) << members.status().message();
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].key, "/p/m/1");
  EXPECT_EQ((*members)[1].value, value);
}

TEST_F(EtcdClientTest, AKeyOnAnExpiredLeaseIsGoneAndAWatchSeesItGo) {
  auto lease = Wait<int64_t>([&](auto done) { client_->GrantLease(1, std::move(done)); });
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(
      (Wait<bool>([&](auto done) { client_->Create("/w/leader", "a", *lease, done); })).ok());
  std::vector<EtcdEvent> events;
  std::optional<Status> ended;
  auto watch = client_->Watch(
      "/w/", true, 0, [&](const EtcdEvent& e) { events.push_back(e); },
      [&](const Status& st) { ended = st; });
  // Not kept alive: the lease runs out within its TTL plus etcd's lease check.
  ASSERT_TRUE(Until([&] { return !events.empty(); }, Millis(6000))) << "no event";
  EXPECT_TRUE(events[0].deleted);
  EXPECT_EQ(events[0].kv.key, "/w/leader");
  EXPECT_FALSE(ended.has_value());
  auto kv = GetKey("/w/leader");
  ASSERT_TRUE(kv.ok());
  EXPECT_FALSE(kv->has_value());
  auto renewed = Wait<int64_t>([&](auto done) { client_->KeepAlive(*lease, done); });
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(*renewed, 0) << "an expired lease cannot be renewed";
}

TEST_F(EtcdClientTest, KeepAlivesHoldALeaseAndARevokeEndsItAtOnce) {
  auto lease = Wait<int64_t>([&](auto done) { client_->GrantLease(2, std::move(done)); });
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((Wait<int64_t>([&](auto done) { client_->Put("/k/me", "x", *lease, done); })).ok());
  for (int i = 0; i < 6; ++i) {  // 3 s: longer than the TTL
    auto ttl = Wait<int64_t>([&](auto done) { client_->KeepAlive(*lease, done); });
    ASSERT_TRUE(ttl.ok()) << ttl.status().message();
    EXPECT_GE(*ttl, 1);
    Until([] { return false; }, Millis(500));
  }
  auto kv = GetKey("/k/me");
  ASSERT_TRUE(kv.ok() && kv->has_value());
  std::vector<EtcdEvent> events;
  auto watch = client_->Watch(
      "/k/me", false, 0, [&](const EtcdEvent& e) { events.push_back(e); }, [](const Status&) {});
  Until([] { return false; }, Millis(200));  // the watch is set up
  ASSERT_TRUE((Wait<bool>([&](auto done) { client_->Revoke(*lease, done); })).ok());
  ASSERT_TRUE(Until([&] { return !events.empty(); }, Millis(2000)));
  EXPECT_TRUE(events[0].deleted);
}

TEST_F(EtcdClientTest, AWatchFromJustAfterAReadSeesEveryLaterChangeAndNoEarlierOne) {
  ASSERT_TRUE((Wait<int64_t>([&](auto done) { client_->Put("/r/k", "1", 0, done); })).ok());
  auto read = Wait<EtcdRead>([&](auto done) { client_->Read("/r/k", std::move(done)); });
  ASSERT_TRUE(read.ok() && read->kv.has_value());
  EXPECT_GE(read->revision, read->kv->mod_revision);
  // A change to another key moves the store's revision, not this key's.
  ASSERT_TRUE((Wait<int64_t>([&](auto done) { client_->Put("/r/other", "x", 0, done); })).ok());
  auto again = Wait<EtcdRead>([&](auto done) { client_->Read("/r/k", std::move(done)); });
  ASSERT_TRUE(again.ok());
  EXPECT_GT(again->revision, read->revision);
  EXPECT_EQ(again->kv->mod_revision, read->kv->mod_revision);
  ASSERT_TRUE((Wait<int64_t>([&](auto done) { client_->Put("/r/k", "2", 0, done); })).ok());

  std::vector<std::string> seen;
  auto watch = client_->Watch(
      "/r/k", false, read->revision + 1, [&](const EtcdEvent& e) { seen.push_back(e.kv.value); },
      [](const Status&) {});
  ASSERT_TRUE(Until([&] { return !seen.empty(); }, Millis(2000)));
  Until([] { return false; }, Millis(200));
  EXPECT_EQ(seen, std::vector<std::string>{"2"});
}

TEST_F(EtcdClientTest, AGoneEtcdFailsCallsWithinTheTimeoutAndEndsWatchesWithoutHoldingTheLoop) {
  std::optional<Status> ended;
  auto watch = client_->Watch(
      "/x", false, 0, [](const EtcdEvent&) {}, [&](const Status& st) { ended = st; });
  Until([] { return false; }, Millis(200));
  etcd_.Stop();
  ASSERT_TRUE(Until([&] { return ended.has_value(); }, Millis(5000)));
  const auto start = std::chrono::steady_clock::now();
  auto r = Wait<int64_t>([&](auto done) { client_->Put("/x", "y", 0, done); });
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, Millis(3000));
  EXPECT_LT(loop_.TakeWorstLag(), Millis(100));
}

}  // namespace
}  // namespace pgrt::testing
