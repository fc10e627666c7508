// Node's rejoin of data that may have forked: pg_rewind from the new primary, tried again
// when it fails, then a re-clone at run time where PGRT_REPLICA_RECLONE allows it. Each
// Rewind or Reclone action is one task on the loop (process/task.h) that reads top to
// bottom; its commands run through RunCommand, its file work off the loop, and the node's
// CancelToken ends it when pgrt stops (Node::Shutdown waits for it).
#include <spdlog/spdlog.h>

#include "node/node.h"
#include "node/node_limits.h"
#include "pgdata/private_dir.h"
#include "process/command.h"
#include "replication/clone.h"
#include "replication/rewind.h"
#include "replication/standby_files.h"

namespace pgrt {

using namespace node_limits;

namespace {

std::string TrimEnd(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Where(const Upstream& up) { return up.host + ":" + std::to_string(up.port); }

}  // namespace

void Node::Rewind() { StartRejoin(RewindTask()); }

void Node::Reclone() { StartRejoin(RecloneTask()); }

void Node::StartRejoin(Task<RejoinEnd> task) {
  const uint64_t id = ++rejoin_id_;
  rejoining_ = true;
  TaskHandle handle =
      StartTask<RejoinEnd>(std::move(task), [this](RejoinEnd end) { EndRejoin(end); });
  // A task that finished inside StartTask (nothing waited) is freed with `handle`; so is
  // one whose end already started the next rejoin (the controller's next action), which
  // rejoin_ holds.
  if (rejoining_ && rejoin_id_ == id) rejoin_ = std::move(handle);
}

void Node::EndRejoin(RejoinEnd end) {
  rejoining_ = false;
  if (after_rejoin_stop_) {
    // A shutdown was waiting; the role file still says "rewinding" (or PGDATA holds no
    // complete clone): the next start finds out.
    auto stop = std::move(after_rejoin_stop_);
    after_rejoin_stop_ = nullptr;
    return stop();
  }
  if (end == RejoinEnd::kReport) Report();
}

Task<Status> Node::WriteTopologyStep(const Topology& t, std::string why, bool rewinding) {
  struct Written {  // a Status as AwaitCallback's value (Result<Status> cannot be)
    Status status;
  };
  std::function<void(std::function<void(Written)>)> write =
      [this, t, why = std::move(why), rewinding](std::function<void(Written)> resolve) {
        WriteTopology(t, why, rewinding,
                      [resolve = std::move(resolve)](Status st) { resolve({std::move(st)}); });
      };
  auto written = co_await AwaitCallback<Written>(*tasks_, std::move(write), "role");
  if (!written.ok()) co_return written.status();
  co_return written->status;
}

Task<Node::RejoinEnd> Node::RewindTask() {
  const TaskContext& tc = *tasks_;
  for (int tries = 1;; ++tries) {
    // Each try follows the wish as it is now.
    const Topology want = controller_.desired().topology;
    const std::string why = controller_.desired().topology_why;
    // The wish changed while postgres stopped (this node leads again): it starts as it was.
    if (!want.replica()) co_return RejoinEnd::kReport;
    Status st;
    if (want.waiting()) {
      // Fenced, and no leader known yet: a standby of no one. The data keeps its mark, so it
      // is rewound before it follows anyone.
      rewind_needed_ = true;
      st = co_await WriteTopologyStep(want, why, false);
      if (st.ok()) {
        Applied(want);
        co_return RejoinEnd::kReport;
      }
    } else {
      // A node that could not rejoin one primary tries again under a new one.
      action_failed_ = false;
      failed_for_.reset();
      st = co_await RunRewind(want, why);
    }
    if (tc.cancel.cancelled()) co_return RejoinEnd::kQuiet;  // pgrt stops: EndRejoin
    if (st.ok()) break;
    const std::string failed = "pg_rewind failed: " + st.message();
    role_error_ = failed;
    if (tries >= kRewindTries) {
      spdlog::error("{} (try {} of {}: giving up)", failed, tries, kRewindTries);
      action_failed_ = true;
      failed_for_ = want;
      if (!ctx_.config.replica_reclone)
        state_.SetMessage(
            "pg_rewind from " + Where(want.upstream) + " failed " + std::to_string(kRewindTries) +
            " times (" + st.message() +
            "); postgres stays stopped and this node does not take part in elections. Set "
            "PGRT_REPLICA_RECLONE=true and restart pgrt to move this data aside and clone the "
            "leader again (pgrt keeps the old data), or fix the cause and restart pgrt");
      co_return RejoinEnd::kReport;
    }
    const Millis delay = kRewindRetry * (1 << (tries - 1));
    spdlog::warn("{} (try {} of {}; again in {} s)", failed, tries, kRewindTries,
                 delay.count() / 1000);
    state_.SetMessage(failed + " (trying again)");
    Status paused = co_await Sleep(tc, delay, "pg_rewind");
    if (!paused.ok()) co_return RejoinEnd::kQuiet;                // pgrt stops: EndRejoin
    if (mode() != Mode::kRewinding) co_return RejoinEnd::kQuiet;  // moved on meanwhile
  }
  set_up_done_ = false;
  rewind_needed_ = false;
  forked_ = false;
  // pg_rewind copied the new primary's files (its settings, pg_hba.conf, role file) and
  // removed the ones it lacks (standby.signal, the passfile): this node's are written again.
  const Topology want = controller_.desired().topology;
  Status written = co_await WriteTopologyStep(want, controller_.desired().topology_why, false);
  if (tc.cancel.cancelled()) co_return RejoinEnd::kQuiet;
  if (!written.ok()) {
    action_failed_ = true;
    role_error_ = written.message();
    state_.SetMessage(written.message());
    co_return RejoinEnd::kReport;
  }
  spdlog::info("pg_rewind finished");
  Applied(want);
  co_return RejoinEnd::kReport;
}

Task<Status> Node::RunRewind(const Topology& want, const std::string& why) {
  // The role file says "rewinding" first: a pgrt killed meanwhile finds out at its next
  // start that the data may be half rewound, and does not start it as it was.
  Status marked = co_await WriteTopologyStep(want, why, true);
  if (!marked.ok()) co_return marked;
  auto dir = PrivateDir::Create(ctx_);
  if (!dir.ok()) co_return dir.status();
  // The password descriptor stays open until pg_rewind is spawned; the child holds its copy.
  auto cmd = RewindCommandFor(ctx_, want.upstream, dir->path());
  if (!cmd.ok()) co_return cmd.status();
  spdlog::info("pg_rewind: making {} follow {}", ctx_.layout.pgdata, Where(want.upstream));
  auto run = co_await RunCommand(*tasks_, cmd->spec, /*capture=*/true, kRewindTimeout);
  if (!run.ok()) co_return run.status();
  if (ExitedCleanly(run->wait_status)) co_return Status::Ok();
  // pg_rewind's own words: what the operator needs to fix the cause.
  const std::string output = TrimEnd(std::move(run->output));
  std::string error = "pg_rewind " + DescribeWaitStatus(run->wait_status);
  if (!output.empty()) error += ": " + Tail(output, 1500);
  co_return Status::Error(error);
}

Task<Node::RejoinEnd> Node::RecloneTask() {
  const TaskContext& tc = *tasks_;
  action_failed_ = false;
  const Topology from = controller_.desired().topology;
  Status st = co_await CloneAgain(from);
  if (tc.cancel.cancelled()) co_return RejoinEnd::kQuiet;  // pgrt stops: EndRejoin
  // The files follow the wish as it is now.
  const Topology want = controller_.desired().topology;
  if (st.ok()) {
    set_up_done_ = false;
    rewind_needed_ = false;
    forked_ = false;
    st = co_await WriteTopologyStep(want, controller_.desired().topology_why, false);
    if (tc.cancel.cancelled()) co_return RejoinEnd::kQuiet;
  }
  if (!st.ok()) {
    action_failed_ = true;
    failed_for_ = want;
    const std::string why = "the new clone of " + want.upstream.host + " failed: " + st.message() +
                            "; postgres stays stopped (the old data is kept beside PGDATA). "
                            "Restart pgrt to clone again";
    spdlog::error("{}", why);
    role_error_ = why;
    state_.SetMessage(why);
    co_return RejoinEnd::kReport;
  }
  spdlog::info("the new clone of {} is in place", Where(want.upstream));
  state_.SetMessage("");
  Applied(want);
  co_return RejoinEnd::kReport;
}

Task<Status> Node::CloneAgain(const Topology& want) {
  const TaskContext& tc = *tasks_;
  if (!want.replica() || want.waiting()) co_return Status::Unavailable("no leader to clone");
  const std::string where = Where(want.upstream);
  spdlog::warn("re-clone (PGRT_REPLICA_RECLONE): moving {} aside to clone {}", ctx_.layout.pgdata,
               where);
  state_.SetMessage("pg_rewind kept failing: cloning " + where +
                    " again (PGRT_REPLICA_RECLONE); the old data is kept beside PGDATA");
  // Renames and a new empty directory, fsynced: off the loop. pgrt never deletes the data.
  std::function<Status()> aside = [ctx = ctx_] {
    PGRT_RETURN_IF_ERROR(MoveDataAside(ctx), "re-clone");
    return PrepareScratch(ctx).Wrap("re-clone");
  };
  Status moved = co_await OffThread(tc, std::move(aside), kFilesDeadline, "re-clone");
  if (!moved.ok()) co_return moved;
  Status cloned = co_await CloneIntoScratch(tc, ctx_, want.upstream, kRecloneTimeout);
  if (!cloned.ok()) co_return cloned;
  // pg_basebackup ran with --no-sync: one syncfs, then the move into PGDATA.
  std::function<Status()> place = [ctx = ctx_] {
    PGRT_RETURN_IF_ERROR(PlaceClone(ctx, false), "re-clone");
    return PlaceClone(ctx, true).Wrap("re-clone");
  };
  co_return co_await OffThread(tc, std::move(place), kRecloneTimeout, "re-clone");
}

}  // namespace pgrt
