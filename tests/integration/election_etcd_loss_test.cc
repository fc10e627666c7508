// Leader election while etcd itself fails: three candidates over a real three-member etcd
// cluster lose the etcd leader, the member they talk to (killed or frozen), or all of etcd.
// Throughout, no two candidates lead at once (checked at every change of leadership, not only
// when sampled), a leader that can still renew keeps leading, one that cannot gives up before
// its lease could end, and a leader exists again within the lease's TTL plus a few seconds.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ha/election.h"
#include "harness/harness.h"
#include "integration/etcd_cluster.h"

namespace pgrt::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Short enough for a fast suite, long enough that an etcd election (kElectionTimeoutMs) plus a
// call timeout fit in one lease: renewals every TTL/3 = 1 s, leadership valid for TTL − margin
// = 2.5 s after the last confirmed renewal was sent.
constexpr int kTtl = 3;
constexpr Millis kMargin{500};
constexpr Millis kCallTimeout{700};
constexpr Millis kRetry{200};
const Millis kLease{kTtl * 1000};

Millis Since(Clock::time_point t) { return std::chrono::duration_cast<Millis>(Clock::now() - t); }

struct Candidate {
  std::string name;
  std::unique_ptr<EtcdClient> etcd;
  std::unique_ptr<LeaderElection> election;
  bool leading = false;
  std::string leader;
  std::optional<Clock::time_point> started_leading, stopped_leading;
};

class ElectionEtcdLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop_.Init().ok());
    ASSERT_NO_FATAL_FAILURE(etcd_.Start());
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << etcd_.Logs();
  }

  // A candidate whose endpoint list starts at member `first` (each node of a real cluster may
  // list etcd in any order; rotating spreads the candidates over the members).
  Candidate& Add(const std::string& name, int first) {
    std::vector<EtcdEndpoint> endpoints;
    for (int i = 0; i < etcd_.size(); ++i)
      endpoints.push_back({"127.0.0.1", etcd_.port((first + i) % etcd_.size())});
    auto c = std::make_unique<Candidate>();
    c->name = name;
    c->etcd = std::make_unique<EtcdClient>(loop_, endpoints, kCallTimeout);
    Candidate* raw = c.get();
    c->election = std::make_unique<LeaderElection>(
        loop_, *c->etcd, ElectionOptions{"/t/leader", name, kTtl, kMargin, kRetry},
        [this, raw](bool leading, const std::string& leader) {
          if (!raw->leading && leading) {
            raw->started_leading = Clock::now();
            // The invariant, checked at the moment it could break.
            for (const auto& other : candidates_)
              EXPECT_FALSE(!overlap_allowed_ && other.get() != raw && other->election &&
                           other->election->leading())
                  << raw->name << " starts leading while " << other->name << " still leads";
          }
          if (raw->leading && !leading) raw->stopped_leading = Clock::now();
          raw->leading = leading;
          raw->leader = leader;
        });
    candidates_.push_back(std::move(c));
    return *raw;
  }
  void StartThree(bool rotate = true) {
    for (int i = 0; i < 3; ++i)
      Add(std::string(1, static_cast<char>('a' + i)), rotate ? i : 0).election->Start();
    ASSERT_TRUE(Until([&] { return Leader() != nullptr && Agreed(); }, Millis(10000)));
  }

  // Turns the loop until `done` or `limit`, checking at every turn that at most one leads.
  bool Until(const std::function<bool()>& done, Millis limit) {
    const auto end = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() >= end) return false;
      EXPECT_TRUE(loop_.RunOnce(Millis(10)).ok());
      if (!overlap_allowed_) {
        EXPECT_LE(Leaders(), 1);
      }
    }
    return true;
  }
  void RunFor(Millis d) {
    Until([] { return false; }, d);
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
  // Every live candidate knows the one leader.
  bool Agreed() {
    Candidate* l = Leader();
    if (l == nullptr) return false;
    for (auto& c : candidates_)
      if (c->election && c->election->leader() != l->name) return false;
    return true;
  }
  // The member a candidate's client talks to.
  int MemberOf(const Candidate& c) const { return etcd_.IndexOfPort(c.etcd->endpoint().port); }

  RealClock clock_;
  EventLoop loop_{clock_};
  EtcdCluster etcd_{3};
  std::vector<std::unique_ptr<Candidate>> candidates_;
  // Only a manual deletion of the leader key may briefly leave two leaders (it is not fenced).
  bool overlap_allowed_ = false;
};

TEST_F(ElectionEtcdLossTest, KillingTheEtcdLeaderKeepsThePgrtLeaderLeading) {
  ASSERT_NO_FATAL_FAILURE(StartThree());
  Candidate* leader = Leader();
  const int etcd_leader = etcd_.LeaderIndex();
  ASSERT_GE(etcd_leader, 0);
  const auto killed = Clock::now();
  etcd_.Kill(etcd_leader);
  // Two lease periods: the leader's keepalives must reach the new etcd leader each time.
  RunFor(2 * kLease);
  EXPECT_TRUE(leader->election->leading()) << "the lease did not survive an etcd election";
  EXPECT_FALSE(leader->stopped_leading.has_value());
  EXPECT_EQ(Leader(), leader);
  EXPECT_TRUE(Agreed());
  const int new_leader = etcd_.LeaderIndex();
  EXPECT_GE(new_leader, 0);
  EXPECT_NE(new_leader, etcd_leader);
  spdlog::info("etcd leader m{} killed; m{} leads etcd, {} still leads after {} ms", etcd_leader,
               new_leader, leader->name, Since(killed).count());
}

TEST_F(ElectionEtcdLossTest, KillingTheMemberALeaderTalksToMovesItToAnotherAndItKeepsLeading) {
  ASSERT_NO_FATAL_FAILURE(StartThree());
  Candidate* leader = Leader();
  const int member = MemberOf(*leader);
  etcd_.Kill(member);
  ASSERT_TRUE(Until([&] { return MemberOf(*leader) != member; }, kLease))
      << "the client stayed on the killed member";
  RunFor(2 * kLease);
  EXPECT_TRUE(leader->election->leading());
  EXPECT_FALSE(leader->stopped_leading.has_value());
  EXPECT_NE(MemberOf(*leader), member);
  EXPECT_TRUE(Agreed());
}

TEST_F(ElectionEtcdLossTest, AFollowerWhoseMemberIsKilledStillTakesOverAfterAResignation) {
  ASSERT_NO_FATAL_FAILURE(StartThree());
  Candidate* leader = Leader();
  // A follower on a member the leader does not use: its watch breaks with the member.
  Candidate* follower = nullptr;
  for (auto& c : candidates_)
    if (c.get() != leader && MemberOf(*c) != MemberOf(*leader)) follower = c.get();
  ASSERT_NE(follower, nullptr);
  const int member = MemberOf(*follower);
  etcd_.Kill(member);
  ASSERT_TRUE(Until([&] { return MemberOf(*follower) != member; }, kLease));
  RunFor(Millis(1000));  // the follower watches again, from another member
  EXPECT_EQ(follower->election->leader(), leader->name);

  // The other follower is out of the race, so only a working watch can hand over at once.
  for (auto& c : candidates_)
    if (c.get() != leader && c.get() != follower) c->election->SetEligible(false);
  bool resigned = false;
  const auto start = Clock::now();
  leader->election->Resign([&] { resigned = true; });
  ASSERT_TRUE(Until([&] { return resigned && follower->election->leading(); }, kLease))
      << "the follower did not see the leader key go";
  EXPECT_LT(Since(start), Millis(2000));
  spdlog::info("handover to {} after its member was killed: {} ms", follower->name,
               Since(start).count());
}

TEST_F(ElectionEtcdLossTest, ALeaderWhoseWatchMemberDiesStillSeesItsKeyTakenAway) {
  ASSERT_NO_FATAL_FAILURE(StartThree());
  Candidate* leader = Leader();
  const int member = MemberOf(*leader);
  // Its member dies and, before its watch is back, an operator deletes the key (a manual
  // failover) through another member: a follower takes over; the old leader must notice.
  overlap_allowed_ = true;
  etcd_.Kill(member);
  EtcdClient admin(
      loop_,
      {{"127.0.0.1", etcd_.port((member + 1) % 3)}, {"127.0.0.1", etcd_.port((member + 2) % 3)}},
      kCallTimeout);
  std::optional<Result<bool>> deleted;
  // A few tries: the killed member may have been etcd's leader, and etcd elects a new one.
  for (int i = 0; i < 5 && !(deleted && deleted->ok()); ++i) {
    deleted.reset();
    admin.DeleteIf("/t/leader", leader->name, [&](Result<bool> r) { deleted.emplace(r); });
    ASSERT_TRUE(Until([&] { return deleted.has_value(); }, Millis(3000)));
  }
  ASSERT_TRUE(deleted->ok() && **deleted) << deleted->status().message();
  const auto start = Clock::now();
  // Two leaders are possible for a moment here: a manual deletion is not fenced, only watched.
  bool stopped = false;
  while (Since(start) < Millis(3000) && !stopped) {
    ASSERT_TRUE(loop_.RunOnce(Millis(10)).ok());
    stopped = !leader->election->leading();
  }
  EXPECT_TRUE(stopped) << "the old leader kept leading after its key was taken";
  overlap_allowed_ = false;
  ASSERT_TRUE(Until([&] { return Leader() != nullptr && Agreed(); }, kLease + Millis(3000)));
  EXPECT_NE(Leader(), leader);
}

TEST_F(ElectionEtcdLossTest, FreezingTheMemberALeaderTalksToNeverYieldsTwoLeaders) {
  ASSERT_NO_FATAL_FAILURE(StartThree());
  Candidate* leader = Leader();
  const int member = MemberOf(*leader);
  const auto frozen = Clock::now();
  ASSERT_NO_FATAL_FAILURE(etcd_.Stop(member));
  // Either it keeps leading through another member or it fences itself; a leader exists again
  // within the TTL plus a few seconds either way, and never two (Until checks every turn).
  RunFor(kLease + Millis(3000));
  EXPECT_NE(Leader(), nullptr);
  EXPECT_TRUE(Agreed());
  EXPECT_NE(MemberOf(*leader), member) << "the leader's client stayed on the frozen member";
  spdlog::info("member m{} frozen: {} {} ({} ms)", member, leader->name,
               leader->election->leading() ? "kept leading" : "fenced itself",
               Since(frozen).count());
  ASSERT_NO_FATAL_FAILURE(etcd_.Cont(member));
  RunFor(Millis(1000));
  EXPECT_NE(Leader(), nullptr);
}

TEST_F(ElectionEtcdLossTest, WithTheSameEndpointListAFrozenFirstMemberDoesNotHideALeaderCrash) {
  // Every node lists etcd in the same order, so all talk and watch on member 0.
  ASSERT_NO_FATAL_FAILURE(StartThree(/*rotate=*/false));
  ASSERT_NO_FATAL_FAILURE(etcd_.Stop(0));
  // Each client's next call times out there and moves on.
  ASSERT_TRUE(Until(
      [&] {
        for (auto& c : candidates_)
          if (MemberOf(*c) == 0) return false;
        return true;
      },
      kLease + Millis(2000)));
  Candidate* leader = Leader();
  ASSERT_NE(leader, nullptr);
  const std::string old = leader->name;
  const auto crashed = Clock::now();
  leader->election.reset();  // no resignation: its key expires with its lease
  ASSERT_TRUE(Until([&] { return Leader() != nullptr; }, kLease + Millis(3000)))
      << "the followers' watches stayed on the frozen member";
  EXPECT_NE(Leader()->name, old);
  spdlog::info("leader crash with member 0 frozen: {} leads after {} ms", Leader()->name,
               Since(crashed).count());
  ASSERT_NO_FATAL_FAILURE(etcd_.Cont(0));
}

TEST_F(ElectionEtcdLossTest, LosingAllOfEtcdFencesTheLeaderInTimeAndALeaderReturnsWithIt) {
  ASSERT_NO_FATAL_FAILURE(StartThree());
  Candidate* leader = Leader();
  const auto lost = Clock::now();
  for (int i = 0; i < 3; ++i) etcd_.Kill(i);
  // Its last confirmed renewal was sent before etcd was lost, so the fence falls no later
  // than TTL − margin after that (plus a loop turn).
  ASSERT_TRUE(Until([&] { return !leader->election->leading(); }, kLease));
  const Millis fenced = Since(lost);
  EXPECT_LE(fenced, kLease - kMargin + Millis(100));
  RunFor(kLease);  // and no one leads without etcd
  EXPECT_EQ(Leaders(), 0);

  const auto back = Clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(etcd_.Restart(i));
  ASSERT_TRUE(etcd_.WaitHealthy());
  ASSERT_TRUE(Until([&] { return Leader() != nullptr && Agreed(); }, kLease + Millis(5000)))
      << "no leader after etcd came back";
  spdlog::info("etcd lost: {} fenced after {} ms; etcd back: {} leads after {} ms", leader->name,
               fenced.count(), Leader()->name, Since(back).count());
  RunFor(Millis(1000));
  EXPECT_EQ(Leaders(), 1);
}

}  // namespace
}  // namespace pgrt::testing
