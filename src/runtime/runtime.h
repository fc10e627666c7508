// Runtime: everything one node runs, built in dependency order and stopped in reverse: the
// event loop, the supervisor, the node (its controller, monitor and lifecycle), PgBouncer,
// backups, metrics and the management API. `pgrt run` validates the environment and hands
// over to it; a test can build one the same way.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/api.h"
#include "backup/manager.h"
#include "config/config.h"
#include "ha/cluster_agent.h"
#include "ha/etcd_client.h"
#include "ha/fence_watchdog.h"
#include "metrics/collector.h"
#include "node/node.h"
#include "pgdata/context.h"
#include "pooler/pooler.h"
#include "process/awaitables.h"
#include "process/event_loop.h"
#include "process/signals.h"
#include "process/supervisor.h"
#include "process/task.h"
#include "runtime/sleeper.h"
#include "state/node_state.h"
#include "state/timings.h"
#include "tls/cert_watch.h"
#include "tls/server_context.h"
#include "util/clock.h"

namespace pgrt {

class Runtime {
 public:
  // `config` and `clock` outlive the runtime; `child_env` is already scrubbed of secrets.
  Runtime(const Config& config, Credentials run_as, std::map<std::string, std::string> child_env,
          const Clock& clock, Timings& timings);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Prepares PGDATA, starts postgres and serves until a signal from `signals` stops it or
  // postgres keeps failing. Returns the process's exit code (0, or 1 on a failure).
  int Run(SignalSource& signals, std::vector<std::string> postgres_args);

 private:
  Status Init();
  // The start-up task on the loop (the cluster's boot decision, then PGDATA: initdb, a clone
  // or a restore); the API, the heartbeat and the signals are served meanwhile.
  Task<Status> StartUp();
  // Its end: postgres starts and the node serves, or pgrt stops (a failure, or a
  // termination signal that cancelled the start-up).
  void AfterStartUp(Status st);
  // TLS (runtime/tls.cc): the configured sets checked at start, then watched and rotated.
  Status InitTls();
  Status InstallPostgresTls(const TlsMaterial& m);
  void Beat();
  void OnSignals(SignalSource& signals);
  // SIGTERM/SIGINT (fast: SIGINT to postgres) or SIGQUIT (immediate).
  void RequestShutdown(int pg_signal, const char* why);
  void ShutDown();  // the controller's Shutdown action
  // PGRT_HA: how this node boots (waits for etcd, on the loop), and how it follows the
  // cluster afterwards (lead, follow the leader, or stop taking writes).
  Task<Result<Topology>> DecideClusterBoot();
  void SteerByCluster();
  Member Self() const;
  // The leader's fence when pgrt cannot act (ha/fence_watchdog.h): armed while leading.
  Status StartWatchdog();
  void OnWatchdogExit(int wait_status);
  void ArmFence();
  bool MayWrite() const;

  const Config& user_config_;  // as given: the client port the door holds (PGRT_IDLE_TIMEOUT)
  // PGRT_IDLE_TIMEOUT: the client port shared with postgres, or why it is not (then every
  // client is relayed).
  Result<HandoffPlan> handoff_;
  // The configuration postgres runs with: the user's, with a private port behind the door
  // when the node may sleep (runtime/sleeper.h).
  Result<Config> facing_;
  const Config& config_;
  const Clock& clock_;
  Timings& timings_;
  EventLoop loop_;
  // The start-up's and the node's commands, whose exits the loop reaps. Before node_: a
  // rejoin task the node still holds at the end unregisters its command here.
  ChildExits exits_;
  NodeState state_;
  NodeContext ctx_;
  Node node_;
  LiveProbe probe_;
  AsyncPgConn control_;
  BackupManager backups_;
  std::unique_ptr<Pooler> pooler_;
  std::unique_ptr<MetricsCollector> metrics_;
  std::unique_ptr<ApiServer> api_;
  std::unique_ptr<EtcdClient> etcd_;
  std::unique_ptr<ClusterAgent> cluster_;
  std::unique_ptr<FenceWatchdog> watchdog_;
  std::unique_ptr<SyncStandby> sync_;                  // PGRT_SYNC_MODE on|strict
  std::unique_ptr<Sleeper> sleeper_;                   // PGRT_IDLE_TIMEOUT
  std::unique_ptr<CertWatch> postgres_tls_;            // POSTGRES_TLS_*: postgres and PgBouncer
  std::unique_ptr<CertWatch> api_tls_;                 // PGRT_API_TLS_*
  std::shared_ptr<ServerTlsContext> api_tls_context_;  // new API connections use this one
  Supervisor supervisor_;
  // Cancelled by a termination signal while the start-up runs: its running step ends (a
  // command's process group is stopped) and the task unwinds with that error.
  CancelToken cancel_;
  TaskContext tasks_{loop_, exits_, cancel_};
  TaskHandle startup_;
  bool starting_up_ = false;
  int startup_signal_ = 0;                  // the one that cancelled the start-up
  std::vector<std::string> postgres_args_;  // for the first start of postgres
  int exit_code_ = 0;
  bool stopping_ = false;
  bool led_ = false;
  bool start_pages_released_ = false;  // ReleaseIdleMemory after the first ready postgres
  std::string handing_over_;  // PGRT_HA: the switchover candidate this leader hands over to  //
                              // PGRT_HA: this node held the leader key in this life
  int stop_signal_ = 0;
};

}  // namespace pgrt
