// A bank-style workload for the HA fault trials: kAccounts accounts holding a fixed total;
// client threads move money between them in transactions (BEGIN; UPDATE a; UPDATE b; INSERT
// INTO transfers; COMMIT) and record every transfer id whose COMMIT was acknowledged. Audit()
// then checks on one node that the total is conserved, that every account's balance is its
// opening balance plus the transfers it holds (no half transaction), and which acknowledged
// transfers are missing.
//
// PrimaryMonitor watches every node from a thread of its own (pg_is_in_recovery() every
// 10 ms over a kept connection) and reports the intervals in which two nodes were both seen
// writable. Each interval is taken conservatively (from the answer of the first writable
// sample to the sending of the last one of a run), so a reported overlap is a real one.
//
// Both take an `enter` hook run first on each of their threads (a network namespace to join:
// setns affects only the calling thread). Every loop is bounded in time and count.
#pragma once

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/harness.h"

namespace pgrt::testing::bank {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline constexpr int kAccounts = 16;
inline constexpr long kOpening = 1000;
inline constexpr long kTotal = kAccounts * kOpening;
// No workload thread runs longer than this, whatever the test does.
inline constexpr std::chrono::seconds kMaxRun{120};

// The tables, run once on the first leader.
inline std::string SchemaSql() {
  return "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);"
         "INSERT INTO accounts SELECT g, " +
         std::to_string(kOpening) + " FROM generate_series(1, " + std::to_string(kAccounts) +
         ") g;"
         "CREATE TABLE transfers (id bigint PRIMARY KEY, src int NOT NULL, dst int NOT NULL,"
         " amount bigint NOT NULL);";
}

// libpq parameters that reach whichever of `targets` (host, port) accepts writes: every node
// in one multi-host connection with target_session_attrs=read-write, as a client of a
// cluster would be configured without a load balancer.
inline ConnParams AnyWritable(ConnParams base,
                              const std::vector<std::pair<std::string, int>>& targets) {
  std::string hosts, ports;
  for (size_t i = 0; i < targets.size(); ++i) {
    hosts += (i ? "," : "") + targets[i].first;
    ports += (i ? "," : "") + std::to_string(targets[i].second);
  }
  base["host"] = hosts;
  base["port"] = ports;
  base["target_session_attrs"] = "read-write";
  base["connect_timeout"] = "2";
  return base;
}

using ThreadEntry = std::function<void()>;

class BankClients {
 public:
  // `threads` clients over `params`, transfer ids from `first_id` on.
  BankClients(ConnParams params, int threads, int64_t first_id, ThreadEntry enter = {})
      : params_(std::move(params)), enter_(std::move(enter)), next_id_(first_id) {
    for (int i = 0; i < threads; ++i) {
      acked_.push_back(std::make_unique<std::vector<int64_t>>());
      threads_.emplace_back([this, i] { Run(i); });
    }
  }
  ~BankClients() { Stop(); }
  BankClients(const BankClients&) = delete;
  BankClients& operator=(const BankClients&) = delete;

  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }
  int acknowledged() const { return acked_count_; }
  Clock::time_point last_ack() const { return last_ack_; }
  // After Stop(): every transfer id whose COMMIT was acknowledged.
  std::vector<int64_t> AcknowledgedIds() const {
    std::vector<int64_t> out;
    for (const auto& ids : acked_) out.insert(out.end(), ids->begin(), ids->end());
    return out;
  }

 private:
  void Run(int index) {
    if (enter_) enter_();
    std::mt19937 rng(static_cast<unsigned>(index) * 7919u + 1u);
    std::uniform_int_distribution<int> account(1, kAccounts);
    std::uniform_int_distribution<int> amount(1, 100);
    const auto end = Clock::now() + kMaxRun;
    std::vector<int64_t>& acked = *acked_[index];
    while (!stop_ && Clock::now() < end && acked.size() < 200000) {
      auto conn = PgConn::Connect(params_);
      if (!conn.ok()) {
        std::this_thread::sleep_for(milliseconds(20));
        continue;
      }
      while (!stop_ && Clock::now() < end) {
        const int64_t id = next_id_++;
        const int a = account(rng);
        int b = account(rng);
        if (b == a) b = a % kAccounts + 1;
        const std::string amt = std::to_string(amount(rng));
        // The lower account first in every transaction: no two transfers deadlock.
        const std::string debit =
            "UPDATE accounts SET balance = balance - " + amt + " WHERE id = " + std::to_string(a);
        const std::string credit =
            "UPDATE accounts SET balance = balance + " + amt + " WHERE id = " + std::to_string(b);
        const std::string body = "BEGIN;" + (a < b ? debit + ";" + credit : credit + ";" + debit) +
                                 ";INSERT INTO transfers VALUES (" + std::to_string(id) + ", " +
                                 std::to_string(a) + ", " + std::to_string(b) + ", " + amt + ")";
        if (!conn->Exec(body).ok()) break;
        // Acknowledged only when the server answers COMMIT (an aborted transaction's COMMIT
        // answers ROLLBACK without an error).
        PGresult* r = PQexec(conn->raw(), "COMMIT");
        const bool committed = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK &&
                               std::string(PQcmdStatus(r)) == "COMMIT";
        PQclear(r);
        if (!committed) break;
        acked.push_back(id);
        ++acked_count_;
        last_ack_ = Clock::now();
      }
    }
  }

  ConnParams params_;
  ThreadEntry enter_;
  std::atomic<int64_t> next_id_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acked_count_{0};
  std::atomic<Clock::time_point> last_ack_{};
  std::vector<std::unique_ptr<std::vector<int64_t>>> acked_;  // one per thread
  std::vector<std::thread> threads_;
};

struct BankAudit {
  std::string error;             // "" when every query answered
  long total = -1;               // sum of the balances
  long accounts = -1;            // rows in accounts
  long transfers = -1;           // rows in transfers
  long unbalanced = -1;          // accounts whose balance is not opening + credits - debits
  std::vector<int64_t> missing;  // acknowledged ids not in transfers
};

// The audit of the bank on the node `params` reaches, against the acknowledged ids.
inline BankAudit Audit(const ConnParams& params, const std::vector<int64_t>& acknowledged) {
  BankAudit out;
  auto conn = PgConn::Connect(params);
  if (!conn.ok()) {
    out.error = conn.status().message();
    return out;
  }
  auto sums = conn->Exec(
      "SELECT (SELECT sum(balance) FROM accounts), (SELECT count(*) FROM accounts),"
      " (SELECT count(*) FROM transfers),"
      " (SELECT count(*) FROM accounts a WHERE balance <> " +
      std::to_string(kOpening) +
      " + coalesce((SELECT sum(amount) FROM transfers WHERE dst = a.id), 0)"
      " - coalesce((SELECT sum(amount) FROM transfers WHERE src = a.id), 0))");
  if (!sums.ok()) {
    out.error = sums.status().message();
    return out;
  }
  out.total = std::stol(sums->Get(0, 0));
  out.accounts = std::stol(sums->Get(0, 1));
  out.transfers = std::stol(sums->Get(0, 2));
  out.unbalanced = std::stol(sums->Get(0, 3));
  auto ids = conn->Exec("SELECT id FROM transfers");
  if (!ids.ok()) {
    out.error = ids.status().message();
    return out;
  }
  std::set<int64_t> present;
  for (int i = 0; i < ids->rows(); ++i) present.insert(std::stoll(ids->Get(i, 0)));
  for (int64_t id : acknowledged)
    if (!present.count(id)) out.missing.push_back(id);
  return out;
}

class PrimaryMonitor {
 public:
  struct Target {
    std::string name;
    ConnParams params;
  };
  explicit PrimaryMonitor(std::vector<Target> targets, ThreadEntry enter = {})
      : targets_(std::move(targets)), enter_(std::move(enter)), samples_(targets_.size()) {
    start_ = Clock::now();
    for (size_t i = 0; i < targets_.size(); ++i) threads_.emplace_back([this, i] { Run(i); });
  }
  ~PrimaryMonitor() { Stop(); }
  PrimaryMonitor(const PrimaryMonitor&) = delete;
  PrimaryMonitor& operator=(const PrimaryMonitor&) = delete;

  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }
  // After Stop(): how many answers said writable, for target `i` (a monitor that saw no
  // primary proves nothing).
  int WritableSamples(size_t i) const {
    return static_cast<int>(std::count_if(samples_[i].begin(), samples_[i].end(),
                                          [](const Sample& s) { return s.writable; }));
  }
  // After Stop(): each interval in which two targets were both writable, described.
  std::vector<std::string> Overlaps() const {
    std::vector<std::vector<Interval>> runs(targets_.size());
    for (size_t i = 0; i < targets_.size(); ++i) runs[i] = WritableRuns(samples_[i]);
    std::vector<std::string> out;
    for (size_t i = 0; i < runs.size(); ++i)
      for (size_t j = i + 1; j < runs.size(); ++j)
        for (const Interval& a : runs[i])
          for (const Interval& b : runs[j]) {
            const auto from = std::max(a.from, b.from), to = std::min(a.to, b.to);
            if (from < to)
              out.push_back(targets_[i].name + " and " + targets_[j].name + " both writable " +
                            std::to_string(Ms(from)) + "-" + std::to_string(Ms(to)) +
                            " ms after the monitor started");
          }
    return out;
  }

 private:
  struct Sample {
    Clock::time_point sent, answered;
    bool writable = false;  // answered f; an error or no answer is not writable
  };
  struct Interval {
    Clock::time_point from, to;
  };

  long Ms(Clock::time_point t) const {
    return static_cast<long>(std::chrono::duration_cast<milliseconds>(t - start_).count());
  }

  // Runs of consecutive writable answers, each from the first one's answer to the last one's
  // sending: the node was writable at both ends, so throughout as far as anyone can tell.
  static std::vector<Interval> WritableRuns(const std::vector<Sample>& samples) {
    std::vector<Interval> out;
    const Sample* first = nullptr;
    const Sample* last = nullptr;
    auto close = [&] {
      if (first != nullptr && first->answered < last->sent)
        out.push_back({first->answered, last->sent});
      first = last = nullptr;
    };
    for (const Sample& s : samples) {
      if (!s.writable) {
        close();
        continue;
      }
      if (first == nullptr) first = &s;
      last = &s;
    }
    close();
    return out;
  }

  void Run(size_t i) {
    if (enter_) enter_();
    ConnParams params = targets_[i].params;
    params["connect_timeout"] = "1";
    std::vector<Sample>& samples = samples_[i];
    const auto end = Clock::now() + kMaxRun;
    std::optional<PgConn> conn;
    while (!stop_ && Clock::now() < end && samples.size() < 100000) {
      Sample s;
      s.sent = Clock::now();
      if (!conn || !conn->ok()) {
        auto c = PgConn::Connect(params);
        if (c.ok())
          conn.emplace(std::move(*c));
        else
          conn.reset();
      }
      if (conn) {
        auto r = conn->Exec("SELECT pg_is_in_recovery()");
        s.writable = r.ok() && r->rows() == 1 && r->Get(0, 0) == "f";
        if (!r.ok()) conn.reset();
      }
      s.answered = Clock::now();
      samples.push_back(s);
      std::this_thread::sleep_for(milliseconds(10));
    }
  }

  std::vector<Target> targets_;
  ThreadEntry enter_;
  Clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::vector<std::vector<Sample>> samples_;  // one per target, written by its thread only
  std::vector<std::thread> threads_;
};

}  // namespace pgrt::testing::bank
