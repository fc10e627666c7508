#include "pgdata/single_user.h"

#include <spdlog/spdlog.h>

#include <sstream>

#include "pgdata/private_dir.h"
#include "process/command.h"

namespace pgrt {
namespace {

void LogNotices(const std::string& output) {
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    auto at = line.find("NOTICE:");
    if (at != std::string::npos) spdlog::info("set-up: {}", line.substr(at + 8));
  }
}

}  // namespace

Task<Status> RunSingleUser(const TaskContext& tc, const NodeContext& ctx,
                           const std::string& datadir, const std::string& private_dir,
                           const std::string& dbname, const std::vector<std::string>& statements) {
  std::string input;
  for (const auto& s : statements) {
    if (s.find_first_of("\r\n") != std::string::npos)
      co_return Status::Error("single-user statement spans lines: " + s.substr(0, 40));
    input += s + "\n";
  }
  // Not a secret, but the same nameless run-as-readable file serves: the backend reads its
  // stdin to the end and exits.
  auto stdin_file = UnnamedSecretFile(ctx, private_dir, input);
  if (!stdin_file.ok()) co_return stdin_file.status().Wrap("single-user postgres");
  SpawnSpec spec;
  spec.name = "postgres (single-user)";
  // --single must come first. -F: no fsync (see above); exit_on_error turns the first ERROR
  // into an exit with a failing status, which is how an error is told from success.
  spec.argv = {
      ctx.Bin("postgres"),        "--single", "-D", datadir, "-F", "-c", "exit_on_error=true", "-c",
      "log_min_messages=warning", dbname};
  spec.stdin_fd = stdin_file->get();
  spec.env = ctx.child_env;
  spec.run_as = ctx.run_as;
  spec.cwd = datadir;
  auto r = co_await RunCommand(tc, spec, /*capture=*/true, Millis(300000));
  if (!r.ok()) co_return r.status().Wrap("single-user postgres");
  LogNotices(r->output);
  if (!ExitedCleanly(r->wait_status))
    co_return Status::Error("single-user postgres in " + dbname + " " +
                            DescribeWaitStatus(r->wait_status) + ": " + Tail(r->output));
  co_return Status::Ok();
}

}  // namespace pgrt
