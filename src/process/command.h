// Running one-shot commands (initdb, psql for init scripts, pg_basebackup, pgbackrest
// restore) to completion as a step of a task on the loop: the child's exit is a loop event
// (ChildExits), its output is read as the pipe becomes readable, and the loop serves
// everything else meanwhile. A termination signal (the TaskContext's CancelToken) stops the
// command's process group and the task gets an error that says so, instead of pgrt hanging
// until the command ends.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "process/awaitables.h"
#include "process/child.h"
#include "util/clock.h"

namespace pgrt {

struct CommandResult {
  int wait_status = 0;
  std::string output;  // stdout and stderr, interleaved, when captured
};

// Runs spec to completion. capture: collect stdout+stderr (else inherited); `on_output`
// (with capture) sees each piece of output as it arrives (progress reports), on the loop.
// Fails when the command cannot start, when `timeout` (0: none) passes (its group gets
// SIGKILL), or on cancellation: its group gets SIGTERM, then SIGKILL after 5 s, and the
// error ("<name>: interrupted by signal 15") comes once it has exited.
Task<Result<CommandResult>> RunCommand(const TaskContext& tc, SpawnSpec spec, bool capture,
                                       Millis timeout = Millis(0),
                                       std::function<void(std::string_view)> on_output = nullptr);

// Throws away a command's output, keeping the last `max` bytes for error messages.
std::string Tail(const std::string& s, size_t max = 2000);

}  // namespace pgrt
