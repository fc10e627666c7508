#include "pgdata/orphans.h"

#include <limits.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <memory>
#include <sstream>

#include "util/fs.h"

namespace pgrt {
namespace {

struct ProcStat {
  char state = '?';
  pid_t pgrp = 0;
  unsigned long long start_time = 0;
};

// /proc/PID/stat: "pid (comm) S ppid pgrp session ... starttime(22) ..."; comm may hold
// spaces and parentheses, so the fields are counted from the last ')'.
std::optional<ProcStat> ReadStat(pid_t pid) {
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return std::nullopt;
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat->substr(close + 1));
  ProcStat out;
  long ppid = 0;
  std::string skip;
  if (!(rest >> out.state >> ppid >> out.pgrp)) return std::nullopt;
  for (int field = 6; field < 22; ++field) rest >> skip;  // session .. itrealvalue
  if (!(rest >> out.start_time)) return std::nullopt;
  return out;
}

// The account a process runs as: the owner of its /proc directory (its effective uid).
std::optional<uid_t> OwnerOf(pid_t pid) {
  struct stat st {};
  if (::stat(("/proc/" + std::to_string(pid)).c_str(), &st) != 0) return std::nullopt;
  return st.st_uid;
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

std::string Line(const std::string& text, int index) {
  std::istringstream in(text);
  std::string line;
  for (int i = 0; i <= index; ++i) {
    if (!std::getline(in, line)) return "";
  }
  return line;
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> out;
  auto entries = ListDirectory("/proc");
  if (!entries.ok()) return out;  // no /proc: nothing we could find anyway
  for (const std::string& e : *entries) {
    if (e.empty() || !std::isdigit(static_cast<unsigned char>(e[0]))) continue;
    out.push_back(static_cast<pid_t>(std::stol(e)));
  }
  return out;
}

std::string Describe(const std::vector<ProcessId>& ps) {
  std::string out;
  for (const ProcessId& p : ps) out += (out.empty() ? "" : ", ") + std::to_string(p.pid);
  return out;
}

}  // namespace

std::optional<LockFileFacts> ParseLockFile(const std::string& text) {
  LockFileFacts f;
  try {
    f.postmaster = static_cast<pid_t>(std::stol(Line(text, 0)));
  } catch (...) {
    return std::nullopt;
  }
  // A negative pid marks a standalone backend (postgres --single).
  if (f.postmaster < 0) f.postmaster = -f.postmaster;
  if (f.postmaster == 0) return std::nullopt;
  f.datadir = Line(text, 1);
  std::istringstream shm(Line(text, 6));
  long key = 0;
  long id = 0;
  if (shm >> key >> id) {
    f.shm_key = key;
    f.shm_id = id;
  }
  return f;
}

bool MapsAttachSegment(const std::string& maps, long key, long id) {
  char name[32];
  std::snprintf(name, sizeof name, "/SYSV%08lx", static_cast<unsigned long>(key));
  std::istringstream in(maps);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(name) == std::string::npos) continue;
    // address perms offset dev inode path: for System V memory the inode is the shm id.
    std::istringstream fields(line);
    std::string address, perms, offset, dev;
    long inode = -1;
    if (fields >> address >> perms >> offset >> dev >> inode && inode == id) return true;
  }
  return false;
}

std::optional<int> SegmentAttachCount(const std::string& sysvipc_shm, long key, long id) {
  std::istringstream in(sysvipc_shm);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    // key shmid perms size cpid lpid nattch ...
    std::istringstream fields(line);
    long k = 0, shmid = 0, perms = 0, cpid = 0, lpid = 0;
    unsigned long long size = 0;
    int nattch = 0;
    if (!(fields >> k >> shmid >> perms >> size >> cpid >> lpid >> nattch)) continue;
    if (shmid == id) return k == key ? std::optional<int>(nattch) : std::nullopt;
  }
  return std::nullopt;
}

bool PostmasterRuns(const LockFileFacts& facts, const std::string& datadir, uid_t owner) {
  auto stat = ReadStat(facts.postmaster);
  if (!stat || stat->state == 'Z') return false;
  if (OwnerOf(facts.postmaster) != owner) return false;
  std::string cwd = RealPath("/proc/" + std::to_string(facts.postmaster) + "/cwd");
  return cwd == RealPath(datadir);
}

std::vector<ProcessId> FindLeftovers(const LockFileFacts& facts, const std::string& datadir,
                                     uid_t owner) {
  std::vector<ProcessId> out;
  // Nobody attached means no process can be found by its segment; skip reading every
  // process's maps then (the process group is still looked at).
  bool attached = false;
  if (facts.shm_key && facts.shm_id) {
    auto table = ReadFile("/proc/sysvipc/shm");
    auto count =
        table.ok() ? SegmentAttachCount(*table, *facts.shm_key, *facts.shm_id) : std::nullopt;
    attached = count.value_or(0) > 0;
  }
  const pid_t self = ::getpid();
  const std::string data = RealPath(datadir);
  for (pid_t pid : AllPids()) {
    if (pid == self || OwnerOf(pid) != owner) continue;
    auto stat = ReadStat(pid);
    if (!stat || stat->state == 'Z') continue;  // a zombie holds no memory any more
    // The group id alone could be a later process that reuses the dead postmaster's pid as
    // its own group; what the postmaster started also works in its data directory.
    bool ours =
        stat->pgrp == facts.postmaster && RealPath("/proc/" + std::to_string(pid) + "/cwd") == data;
    if (!ours && attached) {
      auto maps = ReadFile("/proc/" + std::to_string(pid) + "/maps");
      ours = maps.ok() && MapsAttachSegment(*maps, *facts.shm_key, *facts.shm_id);
    }
    if (ours) out.push_back({pid, stat->start_time});
  }
  return out;
}

bool StillRunning(const ProcessId& p) {
  auto stat = ReadStat(p.pid);
  return stat && stat->state != 'Z' && stat->start_time == p.start_time;
}

namespace {

// One cleanup in progress; its timers own it.
struct Cleanup : std::enable_shared_from_this<Cleanup> {
  Cleanup(EventLoop& l, LeftoverCleanup h, LockFileFacts f, std::function<void(Status)> d)
      : loop(l), how(std::move(h)), facts(std::move(f)), done(std::move(d)) {}

  void Begin(std::vector<ProcessId> found) {
    SteadyTime now = loop.clock().Now();
    kill_at = now + how.grace;
    give_up_at = kill_at + how.kill_timeout;
    Signal(found, SIGTERM);
    left = std::move(found);
    Schedule();
  }

  void Signal(const std::vector<ProcessId>& ps, int sig) {
    for (const ProcessId& p : ps)
      if (StillRunning(p)) ::kill(p.pid, sig);  // ESRCH: gone meanwhile, as wanted
  }

  void Schedule() {
    auto self = shared_from_this();
    loop.AddTimer(how.poll, [self] { self->Check(); });
  }

  void Check() {
    std::erase_if(left, [](const ProcessId& p) { return !StillRunning(p); });
    SteadyTime now = loop.clock().Now();
    if (left.empty()) {
      // A leftover may have forked meanwhile (an archiver's command): look once more.
      std::vector<ProcessId> more = FindLeftovers(facts, how.datadir, how.owner);
      if (more.empty() || ++rounds > 3) return Finish(Status::Ok());
      Signal(more, killed ? SIGKILL : SIGTERM);
      left = std::move(more);
    }
    if (!killed && now >= kill_at) {
      spdlog::warn("leftovers of the previous postmaster ignored SIGTERM; killing {}",
                   Describe(left));
      Signal(left, SIGKILL);
      killed = true;
    }
    if (now >= give_up_at)
      return Finish(Status::Error("processes of the previous postmaster (pid " +
                                  std::to_string(facts.postmaster) +
                                  ") did not exit: " + Describe(left)));
    Schedule();
  }

  void Finish(Status st) {
    if (st.ok()) spdlog::info("the previous postmaster's leftovers are gone");
    auto d = std::move(done);
    d(std::move(st));
  }

  EventLoop& loop;
  LeftoverCleanup how;
  LockFileFacts facts;
  std::function<void(Status)> done;
  std::vector<ProcessId> left;
  SteadyTime kill_at;
  SteadyTime give_up_at;
  bool killed = false;
  int rounds = 0;
};

}  // namespace

void EndLeftovers(EventLoop& loop, const LeftoverCleanup& how, std::function<void(Status)> done) {
  auto text = ReadFile(JoinPath(how.datadir, "postmaster.pid"));
  if (!text.ok()) return done(Status::Ok());  // no lock file: no postmaster left anything
  std::optional<LockFileFacts> facts = ParseLockFile(*text);
  if (!facts) return done(Status::Ok());  // unreadable: postgres reports it clearly itself
  if (PostmasterRuns(*facts, how.datadir, how.owner))
    return done(Status::Error("a postmaster (pid " + std::to_string(facts->postmaster) +
                              ") still runs on " + how.datadir));
  std::vector<ProcessId> found = FindLeftovers(*facts, how.datadir, how.owner);
  if (found.empty()) return done(Status::Ok());
  spdlog::warn("ending {} processes left by the previous postmaster (pid {}): {}", found.size(),
               facts->postmaster, Describe(found));
  auto cleanup = std::make_shared<Cleanup>(loop, how, std::move(*facts), std::move(done));
  cleanup->Begin(std::move(found));
}

}  // namespace pgrt
