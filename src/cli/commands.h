// The subcommands of the pgrt binary. Each returns the process exit code:
// 0 ok, 1 runtime failure, 2 invalid configuration or usage.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pgrt {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int RunNodeCommand(const std::vector<std::string>& postgres_args);
int ConfigCommand();
int ConfigReferenceCommand();
int ValueRulesReferenceCommand();  // docs/security.md's table of characters per variable
int HealthcheckCommand();
int VersionCommand();
int FenceWatchdogCommand();  // reads its commands from stdin (ha/fence_watchdog.h)
// status, promote, pause, resume, hibernate, wake: thin clients of the local management API.
// `body`: the request's JSON body (follow), else empty.
int ApiClientCommand(const std::string& verb, const std::string& body = "");
// The JSON body of `pgrt follow`: slot nullopt leaves the node's configured one.
std::string FollowBody(const std::string& host, int port, const std::optional<std::string>& slot);
// PGRT_HA: the cluster's members as a table; a planned switchover (to `to`, or to the most
// advanced ready replica when empty).
int ClusterCommand();
int SwitchoverCommand(const std::string& to);
std::string RenderClusterTable(const nlohmann::json& view);
// backup [--type], dump: start one through the local API and follow it to its end.
int JobCommand(const std::string& what, const std::string& type);
// backups: the repository's backups (pgbackrest info) as JSON.
int BackupsCommand();

}  // namespace pgrt
