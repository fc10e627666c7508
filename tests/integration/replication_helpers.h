// Shared set-up for the replication integration tests (in their own namespace, so helpers
// others add to the harness cannot collide): a primary and replicas as real
// `pgrt run` processes on free loopback ports, their JSON views, and bounded waits.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness/harness.h"

namespace pgrt::testing::repl {

using nlohmann::json;
using std::chrono::milliseconds;

inline constexpr char kReplicationPassword[] = "repl-secret-pw";
inline constexpr char kApiToken[] = "repl-test-token";

// A primary's environment (not started): replication on, an API token for control calls.
inline std::unique_ptr<PgrtNode> NewPrimary(const Env& extra = {}) {
  Env env = {{"POSTGRES_REPLICATION_MODE", "primary"},
             {"POSTGRES_REPLICATION_PASSWORD", kReplicationPassword},
             {"PGRT_API_TOKEN", kApiToken}};
  for (const auto& [k, v] : extra) env[k] = v;
  return std::make_unique<PgrtNode>(env);
}

// A replica of `primary` (not started) streaming through `slot`.
inline std::unique_ptr<PgrtNode> NewReplica(PgrtNode& primary, const std::string& slot,
                                            const Env& extra = {}) {
  Env env = {{"POSTGRES_REPLICATION_MODE", "replica"},
             {"POSTGRES_REPLICATION_PASSWORD", kReplicationPassword},
             {"POSTGRES_PRIMARY_HOST", "127.0.0.1"},
             {"POSTGRES_PRIMARY_PORT", std::to_string(primary.pg_port())},
             {"POSTGRES_REPLICATION_SLOT_NAME", slot},
             {"PGRT_API_TOKEN", kApiToken}};
  for (const auto& [k, v] : extra) env[k] = v;
  return std::make_unique<PgrtNode>(env);
}

// Starts `node` and waits for /__opr/health; use with ASSERT_NO_FATAL_FAILURE.
inline void StartHealthy(PgrtNode& node, milliseconds timeout = milliseconds(30000)) {
  node.Start();
  ASSERT_TRUE(node.WaitHealthy(timeout)) << node.Log();
}

// The JSON body of GET `path`, nullopt when there is no answer or it is not JSON.
inline std::optional<json> GetJson(int port, const std::string& path, int* status = nullptr) {
  HttpResponse r = HttpGet(port, path);
  if (status != nullptr) *status = r.status;
  if (r.status == 0) return std::nullopt;
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

inline json Replication(const PgrtNode& node) {
  return GetJson(node.api_port(), "/__opr/replication").value_or(json());
}

// A JSON body's field as text ("" when absent or not a string).
inline std::string Str(const json& j, const std::string& key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// Until the replica's WAL receiver streams and the primary lists it as streaming.
inline bool WaitStreaming(const PgrtNode& primary, const PgrtNode& replica,
                          milliseconds timeout = milliseconds(30000)) {
  return WaitUntil(
      [&] {
        json r = Replication(replica);
        if (!r.contains("walReceiver") || Str(r["walReceiver"], "status") != "streaming")
          return false;
        json p = Replication(primary);
        if (!p.contains("standbys")) return false;
        for (const json& s : p["standbys"])
          if (Str(s, "state") == "streaming") return true;
        return false;
      },
      timeout, milliseconds(50));
}

// Runs `sql` on `node`, cancelling it from the client once `timeout` passed (statement_timeout
// does not cover the wait of a synchronous commit). A cancelled synchronous commit still
// commits locally (with a warning).
struct TimedQuery {
  bool connected = false;
  bool timed_out = false;
  std::string error;  // the last result's error, "" when it succeeded
};
inline TimedQuery QueryWithTimeout(const PgrtNode& node, const std::string& sql,
                                   milliseconds timeout) {
  TimedQuery out;
  auto conn = PgConn::Connect(node.Conn());
  if (!conn.ok()) {
    out.error = conn.status().message();
    return out;
  }
  out.connected = true;
  PGconn* raw = conn->raw();
  // The expected "canceling wait for synchronous replication" warning is not test output.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  if (PQsendQuery(raw, sql.c_str()) != 1) {
    out.error = PQerrorMessage(raw);
    return out;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (PQconsumeInput(raw) != 1) {
      out.error = PQerrorMessage(raw);
      return out;
    }
    if (PQisBusy(raw) == 0) break;
    if (!out.timed_out && std::chrono::steady_clock::now() >= deadline) {
      out.timed_out = true;
      PGcancel* cancel = PQgetCancel(raw);
      char buf[256];
      if (cancel != nullptr) PQcancel(cancel, buf, sizeof buf);
      PQfreeCancel(cancel);
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  while (PGresult* r = PQgetResult(raw)) {
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_FATAL_ERROR) out.error = PQresultErrorMessage(r);
    PQclear(r);
  }
  return out;
}

// Until `sql` on `node` returns `expected`.
inline bool WaitForValue(const PgrtNode& node, const std::string& sql, const std::string& expected,
                         milliseconds timeout = milliseconds(15000)) {
  return WaitUntil([&] { return node.Query(sql) == expected; }, timeout, milliseconds(20));
}

// Until GET `path` answers `status`.
inline bool WaitForStatus(const PgrtNode& node, const std::string& path, int status,
                          milliseconds timeout = milliseconds(10000)) {
  return WaitUntil([&] { return node.Get(path).status == status; }, timeout, milliseconds(50));
}

// A POST or DELETE with the test token; the JSON body (null when not JSON) and status.
struct JsonResponse {
  int status = 0;
  json body;
};
inline JsonResponse Call(const PgrtNode& node, const std::string& method, const std::string& path,
                         const std::string& token = kApiToken, const std::string& body = "") {
  HttpResponse r = HttpRequest(node.api_port(), method, path, token, body);
  return {r.status, json::parse(r.body, nullptr, /*allow_exceptions=*/false)};
}

// A primary (`primary_extra` merged into its environment) with an empty table t and a
// replica streaming from it, both healthy; use with ASSERT_NO_FATAL_FAILURE.
inline void StartPair(std::unique_ptr<PgrtNode>& primary, std::unique_ptr<PgrtNode>& replica,
                      const std::string& slot = "replica_slot", const Env& primary_extra = {}) {
  primary = NewPrimary(primary_extra);
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  ASSERT_EQ(primary->Query("CREATE TABLE t (v text); SELECT 'ok'"), "ok");
  replica = NewReplica(*primary, slot);
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();
}

// Entries of `dir` whose names start with `prefix`.
inline std::vector<std::string> EntriesStartingWith(const std::string& dir,
                                                    const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) out.push_back(e.path().string());
  }
  return out;
}

// On a writable node: a switch to a new WAL segment, `write` (SQL), then a checkpoint. The
// file name of the checkpoint's redo segment ("" on an error): the node needs no segment
// before it any more.
inline std::string WriteAndCheckpointInNewSegment(const PgrtNode& node, const std::string& write) {
  if (node.Query("SELECT pg_switch_wal(); " + write + "; CHECKPOINT; SELECT 'ok'") != "ok")
    return "";
  return node.Query("SELECT pg_walfile_name(redo_lsn) FROM pg_control_checkpoint()");
}

// Removes the WAL segments in `pgdata`/pg_wal whose names sort before `keep_from` (one of
// the same timeline's, e.g. the last checkpoint's redo segment: postgres needs none before
// it, pg_rewind reading back from an earlier fork does); how many it removed.
inline int RemoveWalBefore(const std::string& pgdata, const std::string& keep_from) {
  int removed = 0;
  for (const auto& e : std::filesystem::directory_iterator(pgdata + "/pg_wal")) {
    const std::string name = e.path().filename().string();
    if (name.size() == 24 && name.find_first_not_of("0123456789ABCDEF") == std::string::npos &&
        name < keep_from) {
      std::filesystem::remove(e.path());
      ++removed;
    }
  }
  return removed;
}

}  // namespace pgrt::testing::repl
