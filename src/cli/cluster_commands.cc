// `pgrt cluster` and `pgrt switchover`: the HA cluster (PGRT_HA=etcd) through this node's API.
// The table reads like Patroni's `patronictl list`: one row per member, the leader first.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/local_api.h"

namespace pgrt {

std::string RenderClusterTable(const nlohmann::json& view) {
  struct Row {
    std::string member, host, role, state, tl, lsn, lag;
  };
  std::vector<Row> rows = {{"Member", "Host", "Role", "State", "TL", "LSN", "Lag (bytes)"}};
  const nlohmann::json members = view.value("members", nlohmann::json::array());
  auto text = [](const nlohmann::json& m, const char* key) {
    if (!m.contains(key) || m[key].is_null()) return std::string();
    return m[key].is_string() ? m[key].get<std::string>() : m[key].dump();
  };
  for (int pass = 0; pass < 2; ++pass) {  // the leader first, then the others in name order
    for (const nlohmann::json& m : members) {
      if ((text(m, "role") == "leader") != (pass == 0)) continue;
      rows.push_back({text(m, "name"), text(m, "host") + ":" + text(m, "port"), text(m, "role"),
                      text(m, "state"), text(m, "timeline"), text(m, "lsn"), text(m, "lag")});
    }
  }
  size_t w[7] = {};
  for (const Row& r : rows) {
    const std::string* cells[] = {&r.member, &r.host, &r.role, &r.state, &r.tl, &r.lsn, &r.lag};
    for (int i = 0; i < 7; ++i) w[i] = std::max(w[i], cells[i]->size());
  }
  std::ostringstream out;
  out << "Cluster: " << view.value("scope", std::string()) << "\n";
  for (const Row& r : rows) {
    const std::string* cells[] = {&r.member, &r.host, &r.role, &r.state, &r.tl, &r.lsn, &r.lag};
    for (int i = 0; i < 7; ++i)
      out << (i ? " | " : "| ") << std::left << std::setw(static_cast<int>(w[i])) << *cells[i];
    out << " |\n";
  }
  return out.str();
}

int ClusterCommand() {
  auto cli = LocalApi(ProcessEnvironment());
  auto res = cli.Get("/cluster");
  if (!res.ok()) {
    std::cerr << "pgrt cluster: API unreachable: " << res.status().message() << "\n";
    return kExitFailure;
  }
  nlohmann::json view = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status != 200 || !view.is_object()) {
    std::cerr << "pgrt cluster: " << res->body << "\n";
    return kExitFailure;
  }
  std::cout << RenderClusterTable(view);
  return kExitOk;
}

int SwitchoverCommand(const std::string& to) {
  Environment env = ProcessEnvironment();
  auto cli = LocalApi(env, 120);
  nlohmann::json body = nlohmann::json::object();
  if (!to.empty()) body["candidate"] = to;
  auto res = cli.Request("POST", "/switchover", {{"Authorization", "Bearer " + ApiToken(env)}},
                         body.dump());
  if (!res.ok()) {
    std::cerr << "pgrt switchover: API unreachable: " << res.status().message() << "\n";
    return kExitFailure;
  }
  std::cout << res->body << (res->body.empty() || res->body.back() != '\n' ? "\n" : "");
  return res->status == 200 ? kExitOk : kExitFailure;
}

}  // namespace pgrt
