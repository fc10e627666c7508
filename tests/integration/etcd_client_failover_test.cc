// The etcd client over a three-member cluster when the member it talks to fails: a killed one
// refuses at once, a frozen one (SIGSTOP) accepts connections and never answers. Either way
// every call ends (with an answer or an error, within the timeout), the client moves to another
// member, and a watch that depended on the abandoned member ends so its owner can watch again.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "ha/etcd_client.h"
#include "harness/harness.h"
#include "integration/etcd_cluster.h"

namespace pgrt::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr Millis kTimeout{500};

class EtcdClientFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop_.Init().ok());
    ASSERT_NO_FATAL_FAILURE(etcd_.Start());
    auto endpoints = ParseEtcdEndpoints(etcd_.endpoints());
    ASSERT_TRUE(endpoints.ok());
    client_ = std::make_unique<EtcdClient>(loop_, *endpoints, kTimeout);
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << etcd_.Logs();
  }
  bool Until(const std::function<bool()>& done, Millis limit) {
    const auto end = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() >= end) return false;
      EXPECT_TRUE(loop_.RunOnce(Millis(10)).ok());
    }
    return true;
  }
  int Member() const { return etcd_.IndexOfPort(client_->endpoint().port); }

  RealClock clock_;
  EventLoop loop_{clock_};
  EtcdCluster etcd_{3};
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(EtcdClientFailoverTest, CallsQueuedOnAFrozenMemberAllEndAndTheNextOnesGoElsewhere) {
  ASSERT_EQ(Member(), 0);
  ASSERT_NO_FATAL_FAILURE(etcd_.Stop(0));
  // Three calls at once share the one connection: the first times out, the others wait
  // behind it and must not be dropped when the client moves on.
  std::vector<std::optional<Status>> ends(3);
  const auto start = Clock::now();
  for (int i = 0; i < 3; ++i)
    client_->Put("/q/" + std::to_string(i), "v", 0,
                 [&ends, i](Result<int64_t> r) { ends[i] = r.status(); });
  ASSERT_TRUE(Until(
      [&] {
        for (const auto& e : ends)
          if (!e) return false;
        return true;
      },
      Millis(3 * kTimeout.count())))
      << "a queued call was never answered";
  EXPECT_LT(Clock::now() - start, kTimeout + Millis(300));
  for (const auto& e : ends) EXPECT_TRUE(e->IsUnavailable()) << e->message();
  EXPECT_NE(Member(), 0);

  std::optional<Result<int64_t>> put;
  client_->Put("/q/after", "v", 0, [&](Result<int64_t> r) { put.emplace(r); });
  ASSERT_TRUE(Until([&] { return put.has_value(); }, Millis(3000)));
  EXPECT_TRUE(put->ok()) << put->status().message();
  ASSERT_NO_FATAL_FAILURE(etcd_.Cont(0));
}

TEST_F(EtcdClientFailoverTest, AWatchOnAFrozenMemberEndsWhenTheClientMovesOn) {
  std::optional<Status> ended;
  std::vector<EtcdEvent> events;
  auto watch = client_->Watch(
      "/w", false, 0, [&](const EtcdEvent& e) { events.push_back(e); },
      [&](const Status& st) { ended = st; });
  Until([] { return false; }, Millis(200));  // the watch is set up on member 0
  ASSERT_NO_FATAL_FAILURE(etcd_.Stop(0));
  // Member 0 will never tell this watch anything; the client finds out with its next call.
  std::optional<Result<int64_t>> put;
  client_->Put("/w", "1", 0, [&](Result<int64_t> r) { put.emplace(r); });
  ASSERT_TRUE(Until([&] { return put.has_value() && ended.has_value(); }, Millis(3000)))
      << "the watch on the frozen member never ended";
  EXPECT_FALSE(put->ok());
  EXPECT_TRUE(ended->IsUnavailable()) << ended->message();
  EXPECT_TRUE(events.empty());

  // Watching again through the member in use sees what the frozen one would have hidden.
  auto again = client_->Watch(
      "/w", false, 0, [&](const EtcdEvent& e) { events.push_back(e); }, [](const Status&) {});
  Until([] { return false; }, Millis(200));
  client_->Put("/w", "2", 0, [](Result<int64_t>) {});
  ASSERT_TRUE(Until([&] { return !events.empty(); }, Millis(3000)));
  EXPECT_EQ(events.back().kv.value, "2");
  ASSERT_NO_FATAL_FAILURE(etcd_.Cont(0));
}

TEST_F(EtcdClientFailoverTest, AKilledMemberEndsItsWatchAndTheClientMovesOnAfterOneRefusal) {
  std::optional<Status> ended;
  auto watch = client_->Watch(
      "/k", false, 0, [](const EtcdEvent&) {}, [&](const Status& st) { ended = st; });
  Until([] { return false; }, Millis(200));
  etcd_.Kill(0);
  ASSERT_TRUE(Until([&] { return ended.has_value(); }, Millis(2000)));
  ASSERT_TRUE(etcd_.WaitHealthy()) << "the other two members elect a leader if needed";
  // A refused connection fails at once, not after the timeout; the call after it goes to
  // member 1.
  std::optional<Result<int64_t>> first, second;
  const auto start = Clock::now();
  client_->Put("/k", "1", 0, [&](Result<int64_t> r) { first.emplace(r); });
  ASSERT_TRUE(Until([&] { return first.has_value(); }, Millis(2000)));
  EXPECT_FALSE(first->ok());
  EXPECT_LT(Clock::now() - start, kTimeout / 2);
  EXPECT_EQ(Member(), 1);
  client_->Put("/k", "2", 0, [&](Result<int64_t> r) { second.emplace(r); });
  ASSERT_TRUE(Until([&] { return second.has_value(); }, Millis(3000)));
  EXPECT_TRUE(second->ok()) << second->status().message();
}

TEST_F(EtcdClientFailoverTest, TheClusterElectsANewLeaderSoonAfterItsLeaderIsKilled) {
  const int old = etcd_.LeaderIndex();
  ASSERT_GE(old, 0);
  const auto killed = Clock::now();
  etcd_.Kill(old);
  int now = -1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        now = etcd_.LeaderIndex();
        return now >= 0;
      },
      milliseconds(10000), milliseconds(10)));
  const Millis took = std::chrono::duration_cast<Millis>(Clock::now() - killed);
  EXPECT_NE(now, old);
  // A follower campaigns after one to two election timeouts of silence.
  EXPECT_LT(took, Millis(8 * EtcdCluster::kElectionTimeoutMs)) << etcd_.Logs();
  std::cerr << "etcd leader m" << old << " killed: m" << now << " leads after " << took.count()
            << " ms\n";
}

}  // namespace
}  // namespace pgrt::testing
