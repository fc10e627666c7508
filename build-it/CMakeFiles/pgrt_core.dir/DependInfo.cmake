
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/api/db_probe.cc" "CMakeFiles/pgrt_core.dir/src/api/db_probe.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/api/db_probe.cc.o.d"
  "/work/main/src/api/replication_routes.cc" "CMakeFiles/pgrt_core.dir/src/api/replication_routes.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/api/replication_routes.cc.o.d"
  "/work/main/src/api/replication_view.cc" "CMakeFiles/pgrt_core.dir/src/api/replication_view.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/api/replication_view.cc.o.d"
  "/work/main/src/api/role_checks.cc" "CMakeFiles/pgrt_core.dir/src/api/role_checks.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/api/role_checks.cc.o.d"
  "/work/main/src/api/routes.cc" "CMakeFiles/pgrt_core.dir/src/api/routes.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/api/routes.cc.o.d"
  "/work/main/src/api/server.cc" "CMakeFiles/pgrt_core.dir/src/api/server.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/api/server.cc.o.d"
  "/work/main/src/api/views.cc" "CMakeFiles/pgrt_core.dir/src/api/views.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/api/views.cc.o.d"
  "/work/main/src/cli/run.cc" "CMakeFiles/pgrt_core.dir/src/cli/run.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/cli/run.cc.o.d"
  "/work/main/src/cli/tools.cc" "CMakeFiles/pgrt_core.dir/src/cli/tools.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/cli/tools.cc.o.d"
  "/work/main/src/config/apply.cc" "CMakeFiles/pgrt_core.dir/src/config/apply.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/config/apply.cc.o.d"
  "/work/main/src/config/config.cc" "CMakeFiles/pgrt_core.dir/src/config/config.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/config/config.cc.o.d"
  "/work/main/src/config/descriptors.cc" "CMakeFiles/pgrt_core.dir/src/config/descriptors.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/config/descriptors.cc.o.d"
  "/work/main/src/config/render.cc" "CMakeFiles/pgrt_core.dir/src/config/render.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/config/render.cc.o.d"
  "/work/main/src/config/validate.cc" "CMakeFiles/pgrt_core.dir/src/config/validate.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/config/validate.cc.o.d"
  "/work/main/src/config/values.cc" "CMakeFiles/pgrt_core.dir/src/config/values.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/config/values.cc.o.d"
  "/work/main/src/node/context.cc" "CMakeFiles/pgrt_core.dir/src/node/context.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/context.cc.o.d"
  "/work/main/src/node/data_dir.cc" "CMakeFiles/pgrt_core.dir/src/node/data_dir.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/data_dir.cc.o.d"
  "/work/main/src/node/init_scripts.cc" "CMakeFiles/pgrt_core.dir/src/node/init_scripts.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/init_scripts.cc.o.d"
  "/work/main/src/node/initialize.cc" "CMakeFiles/pgrt_core.dir/src/node/initialize.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/initialize.cc.o.d"
  "/work/main/src/node/memory.cc" "CMakeFiles/pgrt_core.dir/src/node/memory.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/memory.cc.o.d"
  "/work/main/src/node/monitor.cc" "CMakeFiles/pgrt_core.dir/src/node/monitor.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/monitor.cc.o.d"
  "/work/main/src/node/node.cc" "CMakeFiles/pgrt_core.dir/src/node/node.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/node.cc.o.d"
  "/work/main/src/node/postgres_process.cc" "CMakeFiles/pgrt_core.dir/src/node/postgres_process.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/postgres_process.cc.o.d"
  "/work/main/src/node/prepare.cc" "CMakeFiles/pgrt_core.dir/src/node/prepare.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/prepare.cc.o.d"
  "/work/main/src/node/private_dir.cc" "CMakeFiles/pgrt_core.dir/src/node/private_dir.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/private_dir.cc.o.d"
  "/work/main/src/node/settings.cc" "CMakeFiles/pgrt_core.dir/src/node/settings.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/settings.cc.o.d"
  "/work/main/src/node/state.cc" "CMakeFiles/pgrt_core.dir/src/node/state.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/state.cc.o.d"
  "/work/main/src/node/temp_server.cc" "CMakeFiles/pgrt_core.dir/src/node/temp_server.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/temp_server.cc.o.d"
  "/work/main/src/node/timings.cc" "CMakeFiles/pgrt_core.dir/src/node/timings.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/node/timings.cc.o.d"
  "/work/main/src/pg/connection.cc" "CMakeFiles/pgrt_core.dir/src/pg/connection.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/pg/connection.cc.o.d"
  "/work/main/src/process/child.cc" "CMakeFiles/pgrt_core.dir/src/process/child.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/process/child.cc.o.d"
  "/work/main/src/process/command.cc" "CMakeFiles/pgrt_core.dir/src/process/command.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/process/command.cc.o.d"
  "/work/main/src/process/environment.cc" "CMakeFiles/pgrt_core.dir/src/process/environment.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/process/environment.cc.o.d"
  "/work/main/src/process/event_loop.cc" "CMakeFiles/pgrt_core.dir/src/process/event_loop.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/process/event_loop.cc.o.d"
  "/work/main/src/process/signals.cc" "CMakeFiles/pgrt_core.dir/src/process/signals.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/process/signals.cc.o.d"
  "/work/main/src/process/supervisor.cc" "CMakeFiles/pgrt_core.dir/src/process/supervisor.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/process/supervisor.cc.o.d"
  "/work/main/src/process/user.cc" "CMakeFiles/pgrt_core.dir/src/process/user.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/process/user.cc.o.d"
  "/work/main/src/replication/clone.cc" "CMakeFiles/pgrt_core.dir/src/replication/clone.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/replication/clone.cc.o.d"
  "/work/main/src/replication/conninfo.cc" "CMakeFiles/pgrt_core.dir/src/replication/conninfo.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/replication/conninfo.cc.o.d"
  "/work/main/src/replication/control.cc" "CMakeFiles/pgrt_core.dir/src/replication/control.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/replication/control.cc.o.d"
  "/work/main/src/replication/primary_setup.cc" "CMakeFiles/pgrt_core.dir/src/replication/primary_setup.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/replication/primary_setup.cc.o.d"
  "/work/main/src/replication/standby_files.cc" "CMakeFiles/pgrt_core.dir/src/replication/standby_files.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/replication/standby_files.cc.o.d"
  "/work/main/src/util/fs.cc" "CMakeFiles/pgrt_core.dir/src/util/fs.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/util/fs.cc.o.d"
  "/work/main/src/util/log.cc" "CMakeFiles/pgrt_core.dir/src/util/log.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/util/log.cc.o.d"
  "/work/main/src/util/status.cc" "CMakeFiles/pgrt_core.dir/src/util/status.cc.o" "gcc" "CMakeFiles/pgrt_core.dir/src/util/status.cc.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
