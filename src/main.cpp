// pgrt: a PostgreSQL node runtime. main parses the command line and hands over to the
// subcommand; everything else lives in the subsystems under src/.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "pgrt: turns an installed PostgreSQL into a self-managing node.\n"
      "Configured by environment variables; see `pgrt config` and docs/configuration.md."};
  app.require_subcommand(1);
  std::vector<std::string> pg_args;
  auto* run = app.add_subcommand(
      "run", "Run the node: validate, prepare PGDATA, start and supervise postgres");
  run->add_option("postgres_args", pg_args,
                  "Arguments after -- go to postgres (e.g. -- -c work_mem=64MB)");
  bool reference = false;
  auto* config = app.add_subcommand(
      "config", "Validate the environment and print the effective settings (secrets redacted)");
  config->add_flag("--reference", reference,
                   "Print the Markdown reference of every variable instead");
  bool value_rules = false;
  config->add_flag("--value-rules", value_rules,
                   "Print the Markdown table of which characters each value may hold instead");
  app.add_subcommand("healthcheck", "Exit 0 when this node's /__opr/health answers 200");
  app.add_subcommand("status", "Print this node's /__opr/status");
  app.add_subcommand("promote", "Promote this replica (needs PGRT_API_TOKEN)");
  std::string follow_host, follow_slot;
  int follow_port = 5432;
  bool no_slot = false;
  auto* follow = app.add_subcommand(
      "follow",
      "Replicate from another primary: re-point a replica, or rewind a primary (pg_rewind) "
      "and restart it as a replica (needs PGRT_API_TOKEN)");
  follow->add_option("host", follow_host, "The new primary's host")->required();
  follow->add_option("--port", follow_port, "Its port (default 5432)")->check(CLI::Range(1, 65535));
  follow->add_option("--slot", follow_slot,
                     "Replication slot on it (default: POSTGRES_REPLICATION_SLOT_NAME)");
  follow->add_flag("--no-slot", no_slot, "Use no replication slot");
  app.add_subcommand("cluster", "Print the HA cluster's members (PGRT_HA=etcd)");
  std::string switchover_to;
  app.add_subcommand("switchover",
                     "Hand the leadership to another member: writes stop, the candidate catches "
                     "up and takes over (PGRT_HA=etcd; needs PGRT_API_TOKEN)")
      ->add_option("--to", switchover_to,
                   "The member to take over (default: the most advanced ready replica)");
  app.add_subcommand("pause", "Pause WAL replay on this replica (needs PGRT_API_TOKEN)");
  app.add_subcommand("resume", "Resume WAL replay on this replica (needs PGRT_API_TOKEN)");
  app.add_subcommand("hibernate",
                     "Stop postgres cleanly and keep pgrt serving (needs PGRT_API_TOKEN)");
  app.add_subcommand("wake", "Start a hibernated postgres again (needs PGRT_API_TOKEN)");
  std::string backup_type;
  auto* backup = app.add_subcommand(
      "backup", "Take a pgBackRest backup now, through the local API (needs PGRT_API_TOKEN)");
  backup
      ->add_option("--type", backup_type,
                   "full, diff or incr (default: pgBackRest's, incr after a full)")
      ->check(CLI::IsMember({"full", "diff", "incr"}));
  app.add_subcommand("backups", "Print the backups in the pgBackRest repository as JSON");
  app.add_subcommand("dump",
                     "Write logical dumps (pg_dump) into PGRT_DUMP_DIR now (needs PGRT_API_TOKEN)");
  app.add_subcommand("version", "Print the versions of pgrt and of its PostgreSQL");
  // Started by `pgrt run` itself on an HA leader (src/ha/fence_watchdog.h); not for users.
  app.add_subcommand("fence-watchdog", "")->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : pgrt::kExitUsage;
  }
  const std::string cmd = app.get_subcommands().front()->get_name();
  if (cmd == "run") return pgrt::RunNodeCommand(pg_args);
  if (cmd == "config" && value_rules) return pgrt::ValueRulesReferenceCommand();
  if (cmd == "config") return reference ? pgrt::ConfigReferenceCommand() : pgrt::ConfigCommand();
  if (cmd == "healthcheck") return pgrt::HealthcheckCommand();
  if (cmd == "version") return pgrt::VersionCommand();
  if (cmd == "cluster") return pgrt::ClusterCommand();
  if (cmd == "switchover") return pgrt::SwitchoverCommand(switchover_to);
  if (cmd == "fence-watchdog") return pgrt::FenceWatchdogCommand();
  if (cmd == "backup" || cmd == "dump") return pgrt::JobCommand(cmd, backup_type);
  if (cmd == "backups") return pgrt::BackupsCommand();
  if (cmd == "follow") {
    std::optional<std::string> slot;  // unset: the node's POSTGRES_REPLICATION_SLOT_NAME
    if (no_slot) slot = "";
    if (!follow_slot.empty()) slot = follow_slot;
    return pgrt::ApiClientCommand(cmd, pgrt::FollowBody(follow_host, follow_port, slot));
  }
  return pgrt::ApiClientCommand(cmd);
}
