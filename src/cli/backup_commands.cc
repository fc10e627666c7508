// `pgrt backup`, `pgrt dump`, `pgrt backups`: thin clients of the node's API, so there is
// one runner (the node's loop) and one job of each kind at a time. A start returns at once
// with the run's id; the command then follows it until it is the last run and prints that
// record. The job belongs to the node: interrupting the command does not stop it.
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/local_api.h"

namespace pgrt {
namespace {

using nlohmann::json;

constexpr auto kPoll = std::chrono::milliseconds(100);  // a local, cheap GET
constexpr int kUnreachableLimit = 300;                  // polls: 30 s without an answer
constexpr int kLostLimit = 30;  // polls (3 s) in which the node knows nothing of our run

json Parse(const std::string& body) { return json::parse(body, nullptr, false); }

std::string ErrorOf(const Result<HttpAnswer>& res) {
  if (!res.ok()) return "API unreachable: " + res.status().message();
  json j = Parse(res->body);
  if (j.is_object() && j.contains("error")) return j["error"].get<std::string>();
  return "HTTP " + std::to_string(res->status) + " " + res->body;
}

uint64_t IdOf(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_object()) return 0;
  const json& r = j[key];
  return r.contains("id") && r["id"].is_number() ? r["id"].get<uint64_t>() : 0;
}

// Polls GET /__opr/<what> until `id` is the last run; prints it; its exit code.
int Follow(HttpClient& cli, const std::string& what, uint64_t id) {
  int unreachable = 0, lost = 0;
  for (;;) {
    std::this_thread::sleep_for(kPoll);
    auto res = cli.Get("/__opr/" + what);
    if (!res.ok() || res->status != 200) {
      if (++unreachable < kUnreachableLimit) continue;
      std::cerr << "pgrt " << what << ": " << ErrorOf(res) << "\n";
      return kExitFailure;
    }
    unreachable = 0;
    json j = Parse(res->body);
    if (IdOf(j, "last") == id) {
      std::cout << j["last"].dump(2) << "\n";
      return j["last"].value("result", "") == "ok" ? kExitOk : kExitFailure;
    }
    if (IdOf(j, "running") == id) {
      lost = 0;
    } else if (++lost >= kLostLimit) {
      std::cerr << "pgrt " << what << ": the node no longer knows run " << id
                << " (did pgrt restart?)\n";
      return kExitFailure;
    }
  }
}

}  // namespace

int JobCommand(const std::string& what, const std::string& type) {
  Environment env = ProcessEnvironment();
  auto cli = LocalApi(env, 30);
  std::string path = "/__opr/" + what + (type.empty() ? "" : "?type=" + type);
  auto res = cli.Request("POST", path, {{"Authorization", "Bearer " + ApiToken(env)}});
  if (!res.ok() || res->status != 202) {
    std::cerr << "pgrt " << what << ": " << ErrorOf(res) << "\n";
    return kExitFailure;
  }
  json started = Parse(res->body);
  uint64_t id = started.is_object() ? started.value("id", uint64_t{0}) : 0;
  if (id == 0) {
    std::cerr << "pgrt " << what << ": unexpected answer " << res->body << "\n";
    return kExitFailure;
  }
  std::cerr << "pgrt " << what << ": " << what << " " << id << " started\n";
  return Follow(cli, what, id);
}

int BackupsCommand() {
  auto cli = LocalApi(ProcessEnvironment(), 100);
  auto res = cli.Get("/__opr/backups");
  if (!res.ok() || res->status != 200) {
    std::cerr << "pgrt backups: " << ErrorOf(res) << "\n";
    return kExitFailure;
  }
  json j = Parse(res->body);
  std::cout << (j.is_discarded() ? res->body : j.dump(2)) << "\n";
  return kExitOk;
}

}  // namespace pgrt
