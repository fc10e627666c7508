// The subcommands of the pgrt binary. Each returns the process exit code:
// 0 ok, 1 runtime failure, 2 invalid configuration or usage.
#pragma once

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
// status, promote, pause, resume, hibernate, wake: thin clients of the local management API.
int ApiClientCommand(const std::string& verb);
// backup [--type], dump: start one through the local API and follow it to its end.
int JobCommand(const std::string& what, const std::string& type);
// backups: the repository's backups (pgbackrest info) as JSON.
int BackupsCommand();

}  // namespace pgrt
