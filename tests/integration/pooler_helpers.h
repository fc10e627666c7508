// Shared set-up for the pooler and metrics integration tests (their own namespace, so
// helpers others add to the harness cannot collide): a node with PgBouncer, connections
// through it, its pid, and /metrics parsed into samples.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "harness/harness.h"

namespace pgrt::testing::pool {

using std::chrono::milliseconds;

// A node with PgBouncer on its own free port (not started).
inline Env PoolerEnv(const Env& extra = {}) {
  Env env = {{"PGBOUNCER_ENABLED", "true"}, {"PGBOUNCER_PORT", std::to_string(FreePort())}};
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

inline int PoolerPort(PgrtNode& node) { return std::stoi(node.env().at("PGBOUNCER_PORT")); }

// TCP through PgBouncer as `user` (default: the superuser) to POSTGRES_DB.
inline ConnParams PoolerConn(PgrtNode& node, const std::string& user = "",
                             const std::string& password = "") {
  ConnParams p = node.Conn();
  p["port"] = std::to_string(PoolerPort(node));
  if (!user.empty()) p["user"] = user;
  if (!password.empty()) p["password"] = password;
  return p;
}

// Until a query through PgBouncer succeeds.
inline bool WaitPoolerAnswers(PgrtNode& node, milliseconds timeout = milliseconds(20000)) {
  return WaitUntil(
      [&] {
        auto c = PgConn::Connect(PoolerConn(node));
        return c.ok() && c->Exec("SELECT 1").ok();
      },
      timeout, milliseconds(50));
}

// The pgbouncer process pgrt supervises (0: none).
// A client tool (psql, pgbench) run through PgBouncer's port as POSTGRES_USER.
inline CommandOutput PoolerClient(PgrtNode& node, const std::string& tool,
                                  const std::vector<std::string>& args) {
  std::vector<std::string> argv = {PgBinDir() + "/" + tool,
                                   "-h",
                                   "127.0.0.1",
                                   "-p",
                                   std::to_string(PoolerPort(node)),
                                   "-U",
                                   node.env().at("POSTGRES_USER")};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, {{"PATH", "/usr/bin:/bin"}, {"PGPASSWORD", node.password()}});
}

inline pid_t PgbouncerPid(const PgrtNode& node) {
  for (pid_t pid : DescendantsOf(node.pid())) {
    std::string comm = ReadProcFile(pid, "comm");
    if (comm.rfind("pgbouncer", 0) == 0 && ProcessAlive(pid)) return pid;
  }
  return 0;
}

// The text of `argv` run with PATH only, as with a shell (for `promtool ... < file`).
inline CommandOutput Shell(const std::string& script) {
  return RunCommand({"/bin/sh", "-c", script},
                    {{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}});
}

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The samples of a Prometheus text page (label values unescaped).
inline std::vector<Sample> ParseMetrics(const std::string& body) {
  std::vector<Sample> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (i != std::string::npos && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        std::string key = line.substr(i, eq - i);
        std::string value;
        for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
        }
        s.labels[key] = value;
        ++i;  // closing quote
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    s.value = std::stod(line.substr(line.find_last_of(' ') + 1));
    out.push_back(s);
  }
  return out;
}

// The value of the sample named `name` whose labels include `labels`.
inline std::optional<double> Value(const std::string& body, const std::string& name,
                                   const std::map<std::string, std::string>& labels = {}) {
  for (const Sample& s : ParseMetrics(body)) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) match = match && s.labels.count(k) && s.labels.at(k) == v;
    if (match) return s.value;
  }
  return std::nullopt;
}

inline std::string Metrics(const PgrtNode& node) {
  HttpResponse r = node.Get("/metrics");
  EXPECT_EQ(r.status, 200) << r.body;
  return r.body;
}

}  // namespace pgrt::testing::pool
