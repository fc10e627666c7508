// Node's rejoin of data that may have forked: pg_rewind from the new primary, tried again
// when it fails, then a re-clone at run time where PGRT_REPLICA_RECLONE allows it.
#include <signal.h>
#include <spdlog/spdlog.h>

#include "node/node.h"
#include "node/node_limits.h"
#include "pgdata/role_file.h"
#include "process/off_loop.h"
#include "replication/clone.h"
#include "replication/conninfo.h"
#include "replication/rewind.h"
#include "replication/standby_files.h"

namespace pgrt {

using namespace node_limits;

void Node::Rewind() {
  const Topology want = controller_.desired().topology;
  const std::string why = controller_.desired().topology_why;
  if (!want.replica()) {
    // The wish changed while postgres stopped (this node leads again): it starts as it was.
    rewind_tries_ = 0;
    return Report();
  }
  if (want.waiting()) {
    // Fenced, and no leader known yet: a standby of no one. The data keeps its mark, so it
    // is rewound before it follows anyone.
    rewind_needed_ = true;
    return WriteTopology(want, why, false, [this, want](Status st) {
      if (!st.ok()) return FinishRewind(st);
      Applied(want);
      Report();
    });
  }
  // A node that could not rejoin one primary tries again under a new one.
  action_failed_ = false;
  failed_for_.reset();
  // The role file says "rewinding" first: a pgrt killed meanwhile finds out at its next
  // start that the data may be half rewound, and does not start it as it was.
  ++rewind_tries_;
  WriteTopology(want, why, true, [this, want, why](Status st) {
    if (!st.ok()) return FinishRewind(st);
    auto dir = PrivateDir::Create(ctx_);
    if (!dir.ok()) return FinishRewind(dir.status());
    rewind_dir_.emplace(std::move(*dir));
    auto cmd = RewindCommandFor(ctx_, want.upstream, rewind_dir_->path());
    if (!cmd.ok()) return FinishRewind(cmd.status());
    spdlog::info("pg_rewind: making {} follow {}:{}", ctx_.layout.pgdata, want.upstream.host,
                 want.upstream.port);
    rewind_job_ = std::make_unique<ChildJob>(
        *loop_, "pg_rewind", JoinPath(rewind_dir_->path(), "pg_rewind"),
        std::vector<JobStep>{{cmd->spec, nullptr}}, [this](const Status& st) {
          // Later, on the loop: the job object is not destroyed inside its own callback.
          loop_->Post([this, st] { FinishRewind(st); });
        });
    if (Status started = rewind_job_->Start(kRewindTimeout); !started.ok())
      return FinishRewind(started);
    // cmd's password descriptor closes here: the child holds its own copy.
  });
}

bool Node::StopWaitingForJob() {
  rewind_job_.reset();
  rewind_dir_.reset();
  if (!after_rewind_stop_) return false;
  // A shutdown was waiting; the role file still says "rewinding" (or PGDATA holds no
  // complete clone): the next start finds out.
  auto stop = std::move(after_rewind_stop_);
  after_rewind_stop_ = nullptr;
  stop();
  return true;
}

void Node::FinishRewind(const Status& st) {
  if (StopWaitingForJob()) return;
  const Topology want = controller_.desired().topology;
  if (!st.ok()) {
    const std::string why = "pg_rewind failed: " + st.message();
    role_error_ = why;
    if (rewind_tries_ < kRewindTries) {
      const Millis delay = kRewindRetry * (1 << (rewind_tries_ - 1));
      spdlog::warn("{} (try {} of {}; again in {} s)", why, rewind_tries_, kRewindTries,
                   delay.count() / 1000);
      state_.SetMessage(why + " (trying again)");
      loop_->AddTimer(delay, [this] {
        if (mode() == Mode::kRewinding && !rewind_job_) Rewind();
      });
      return;
    }
    spdlog::error("{} (try {} of {}: giving up)", why, rewind_tries_, kRewindTries);
    rewind_tries_ = 0;
    action_failed_ = true;
    failed_for_ = want;
    if (!ctx_.config.replica_reclone)
      state_.SetMessage(
          "pg_rewind from " + want.upstream.host + ":" + std::to_string(want.upstream.port) +
          " failed " + std::to_string(kRewindTries) + " times (" + st.message() +
          "); postgres stays stopped and this node does not take part in elections. Set "
          "PGRT_REPLICA_RECLONE=true and restart pgrt to move this data aside and clone the "
          "leader again (pgrt keeps the old data), or fix the cause and restart pgrt");
    Report();
    return;
  }
  rewind_tries_ = 0;
  set_up_done_ = false;
  rewind_needed_ = false;
  forked_ = false;
  // pg_rewind copied the new primary's files (its settings, pg_hba.conf, role file) and
  // removed the ones it lacks (standby.signal, the passfile): this node's are written again.
  WriteTopology(want, controller_.desired().topology_why, false, [this, want](Status st2) {
    if (!st2.ok()) {
      action_failed_ = true;
      role_error_ = st2.message();
      state_.SetMessage(st2.message());
      Report();
      return;
    }
    spdlog::info("pg_rewind finished");
    Applied(want);
    Report();
  });
}

void Node::Reclone() {
  const Topology want = controller_.desired().topology;
  action_failed_ = false;
  if (!want.replica() || want.waiting())
    return FinishReclone(Status::Unavailable("no leader to clone"));
  const std::string where = want.upstream.host + ":" + std::to_string(want.upstream.port);
  spdlog::warn("re-clone (PGRT_REPLICA_RECLONE): moving {} aside to clone {}", ctx_.layout.pgdata,
               where);
  state_.SetMessage("pg_rewind kept failing: cloning " + where +
                    " again (PGRT_REPLICA_RECLONE); the old data is kept beside PGDATA");
  // Renames and a new empty directory, fsynced: off the loop. pgrt never deletes the data.
  NodeContext ctx = ctx_;
  std::function<Result<bool>()> aside = [ctx]() -> Result<bool> {
    PGRT_RETURN_IF_ERROR(MoveDataAside(ctx), "re-clone");
    PGRT_RETURN_IF_ERROR(PrepareScratch(ctx), "re-clone");
    return true;
  };
  RunOffLoop<bool>(*loop_, std::move(aside), kFilesDeadline, [this, want](Result<bool> r) {
    if (!r.ok()) return FinishReclone(r.status());
    auto dir = PrivateDir::Create(ctx_);
    if (!dir.ok()) return FinishReclone(dir.status().Wrap("re-clone"));
    rewind_dir_.emplace(std::move(*dir));
    const std::string passfile = JoinPath(rewind_dir_->path(), "pgpass");
    if (Status st = WriteOwnedFile(ctx_, passfile, PassfileLine(ctx_.config, want.upstream), 0600);
        !st.ok())
      return FinishReclone(st.Wrap("re-clone"));
    SpawnSpec spec = BaseBackupSpec(ctx_, want.upstream, ctx_.layout.init_scratch, passfile);
    rewind_job_ = std::make_unique<ChildJob>(
        *loop_, "pg_basebackup", JoinPath(rewind_dir_->path(), "pg_basebackup"),
        std::vector<JobStep>{{spec, nullptr}},
        [this](const Status& st) { loop_->Post([this, st] { PlaceReclone(st); }); });
    if (Status started = rewind_job_->Start(kRecloneTimeout); !started.ok())
      return PlaceReclone(started);
  });
}

void Node::PlaceReclone(const Status& st) {
  if (StopWaitingForJob()) return;
  if (!st.ok()) return FinishReclone(st);
  NodeContext ctx = ctx_;
  std::function<Result<bool>()> place = [ctx]() -> Result<bool> {
    PGRT_RETURN_IF_ERROR(PlaceClone(ctx, false), "re-clone");
    PGRT_RETURN_IF_ERROR(PlaceClone(ctx, true), "re-clone");
    return true;
  };
  RunOffLoop<bool>(*loop_, std::move(place), kRecloneTimeout,
                   [this](Result<bool> r) { FinishReclone(r.status()); });
}

void Node::FinishReclone(const Status& st) {
  const Topology want = controller_.desired().topology;
  if (!st.ok()) {
    action_failed_ = true;
    failed_for_ = want;
    const std::string why = "the new clone of " + want.upstream.host + " failed: " + st.message() +
                            "; postgres stays stopped (the old data is kept beside PGDATA). "
                            "Restart pgrt to clone again";
    spdlog::error("{}", why);
    role_error_ = why;
    state_.SetMessage(why);
    return Report();
  }
  set_up_done_ = false;
  rewind_needed_ = false;
  forked_ = false;
  WriteTopology(want, controller_.desired().topology_why, false, [this, want](Status st2) {
    if (!st2.ok()) return FinishReclone(st2);
    spdlog::info("the new clone of {}:{} is in place", want.upstream.host, want.upstream.port);
    state_.SetMessage("");
    Applied(want);
    Report();
  });
}

}  // namespace pgrt
