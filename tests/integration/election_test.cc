// Leader election on a real etcd: three candidates, exactly one leads and all agree on it;
// a crashed leader is replaced within its lease; a leader cut off from etcd stops leading on
// its own before anyone else can take over (fencing); a resignation hands over at once.
#include "ha/election.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/harness.h"
#include "integration/etcd_server.h"
#include "integration/tcp_relay.h"

namespace pgrt::testing {
namespace {

constexpr int kTtl = 2;
constexpr Millis kMargin{500};

struct Candidate {
  std::unique_ptr<EtcdClient> etcd;
  std::unique_ptr<LeaderElection> election;
  bool leading = false;
  std::string leader;
  std::optional<std::chrono::steady_clock::time_point> stopped_leading, started_leading;
};

class ElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop_.Init().ok());
    ASSERT_NO_FATAL_FAILURE(etcd_.Start());
  }
  // A candidate reaching etcd at `port` (etcd itself, or a relay in front of it).
  Candidate& Add(const std::string& name, int port) {
    auto c = std::make_unique<Candidate>();
    c->etcd = std::make_unique<EtcdClient>(loop_, std::vector<EtcdEndpoint>{{"127.0.0.1", port}},
                                           Millis(1000));
    Candidate* raw = c.get();
    c->election = std::make_unique<LeaderElection>(
        loop_, *c->etcd, ElectionOptions{"/t/leader", name, kTtl, kMargin, Millis(200)},
        [raw](bool leading, const std::string& leader) {
          if (raw->leading && !leading) raw->stopped_leading = std::chrono::steady_clock::now();
          if (!raw->leading && leading) raw->started_leading = std::chrono::steady_clock::now();
          raw->leading = leading;
          raw->leader = leader;
        });
    candidates_.push_back(std::move(c));
    return *raw;
  }
  bool Until(const std::function<bool()>& done, Millis limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      EXPECT_TRUE(loop_.RunOnce(Millis(10)).ok());
    }
    return true;
  }
  int Leaders() const {
    int n = 0;
    for (const auto& c : candidates_) n += c->election && c->election->leading() ? 1 : 0;
    return n;
  }
  Candidate* Leader() {
    for (auto& c : candidates_)
      if (c->election && c->election->leading()) return c.get();
    return nullptr;
  }

  RealClock clock_;
  EventLoop loop_{clock_};
  EtcdServer etcd_;
  std::vector<std::unique_ptr<Candidate>> candidates_;
};

TEST_F(ElectionTest, ExactlyOneOfThreeLeadsAndEveryoneKnowsWho) {
  for (const char* name : {"a", "b", "c"}) Add(name, etcd_.port()).election->Start();
  ASSERT_TRUE(Until([&] { return Leaders() == 1; }, Millis(5000)));
  const std::string leader = Leader()->leader;
  ASSERT_TRUE(Until(
      [&] {
        for (auto& c : candidates_)
          if (c->leader != leader) return false;
        return true;
      },
      Millis(5000)));
  // And it stays that way across several lease periods.
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(loop_.RunOnce(Millis(10)).ok());
    ASSERT_EQ(Leaders(), 1);
  }
  EXPECT_EQ(Leader()->leader, leader);
}

TEST_F(ElectionTest, ACrashedLeaderIsReplacedWithinItsLease) {
  for (const char* name : {"a", "b", "c"}) Add(name, etcd_.port()).election->Start();
  ASSERT_TRUE(Until([&] { return Leaders() == 1; }, Millis(5000)));
  Candidate* old = Leader();
  const auto crashed = std::chrono::steady_clock::now();
  old->election.reset();  // no resignation: it simply stops renewing
  ASSERT_TRUE(Until([&] { return Leaders() == 1; }, Millis(kTtl * 1000 + 3000)));
  const auto took = std::chrono::steady_clock::now() - crashed;
  EXPECT_LT(took, Millis(kTtl * 1000 + 1500)) << "TTL plus etcd's expiry check";
  EXPECT_NE(Leader()->leader, old->leader);
}

TEST_F(ElectionTest, ALeaderCutOffFromEtcdStopsLeadingBeforeAnyoneElseLeads) {
  auto relay = std::make_unique<TcpRelay>(etcd_.port(), int64_t{1} << 30, TcpRelay::Mode::kForward);
  Candidate& cut = Add("cut", relay->port());
  cut.election->Start();
  ASSERT_TRUE(Until([&] { return cut.leading; }, Millis(5000)));
  Candidate& other = Add("other", etcd_.port());
  other.election->Start();
  ASSERT_TRUE(Until([&] { return other.leader == "cut"; }, Millis(5000)));

  relay.reset();  // every connection of "cut" to etcd is gone, new ones are refused
  ASSERT_TRUE(Until([&] { return other.leading; }, Millis(kTtl * 1000 + 3000)));
  ASSERT_TRUE(cut.stopped_leading.has_value()) << "the cut-off leader never gave up";
  ASSERT_TRUE(other.started_leading.has_value());
  // No moment with two leaders: the fence fired before the lease could end.
  EXPECT_LT(*cut.stopped_leading, *other.started_leading);
  EXPECT_GE(*other.started_leading - *cut.stopped_leading, Millis(kMargin.count() / 2));
  EXPECT_FALSE(cut.election->leading());
}

TEST_F(ElectionTest, AResignationHandsOverAtOnce) {
  for (const char* name : {"a", "b"}) Add(name, etcd_.port()).election->Start();
  ASSERT_TRUE(Until([&] { return Leaders() == 1; }, Millis(5000)));
  Candidate* old = Leader();
  bool resigned = false;
  const auto start = std::chrono::steady_clock::now();
  old->election->Resign([&] { resigned = true; });
  ASSERT_TRUE(Until([&] { return resigned && Leaders() == 1; }, Millis(3000)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, Millis(1000));
  EXPECT_NE(Leader(), old);
}

}  // namespace
}  // namespace pgrt::testing
