#include "figures.h"

#include <functional>
#include <thread>

#include "sides.h"

namespace pgrt::bench {
namespace {

constexpr milliseconds kIdle{1000};

void RecordIdleMemory(testing::PgrtNode& node, Results& r) {
  r.idle_rss.pgrt.push_back(static_cast<double>(VmRssKb(node.pid())));
  r.pgrt_rss_anon.push_back(static_cast<double>(StatusFieldKb(node.pid(), "RssAnon")));
  r.pgrt_pss.push_back(static_cast<double>(PssKb(node.pid())));
  r.pgrt_postmaster_rss.push_back(static_cast<double>(VmRssKb(node.PostmasterPid())));
}

void RecordIdleMemory(BareCluster& bare, Results& r) {
  r.idle_rss.baseline.push_back(static_cast<double>(VmRssKb(bare.PostmasterPid())));
}

}  // namespace

void RunRepetition(Results& r, bool pgrt_first) {
  PgrtSide pgrt;
  BareSide bare;
  if (Step s = bare.Prepare(); !s.ok()) {
    r.errors.push_back(s.error);
    return;
  }
  auto pair = [&](Samples* into, const std::function<Step()>& p, const std::function<Step()>& b) {
    return RunPair(pgrt_first, into, r.errors, p, b);
  };

  if (!pair(
          &r.first_boot, [&] { return pgrt.FirstBoot(r.boot_phases); },
          [&] { return bare.FirstBoot(); }))
    return;
  if (!pair(
          nullptr, [&] { return pgrt.StopQuietly(); }, [&] { return bare.StopQuietly(); }))
    return;
  Step bare_restart;
  if (!pair(
          &r.restart, [&] { return pgrt.Restart(r.restart_phases); },
          [&] { return bare_restart = bare.Restart(); }))
    return;

  // Both idle at once, then each one's memory.
  pgrt.Probe();
  std::this_thread::sleep_for(kIdle);
  RecordIdleMemory(pgrt.node(), r);
  RecordIdleMemory(bare.cluster(), r);

  if (!pair(
          &r.sigterm, [&] { return pgrt.SigtermToExit(); }, [&] { return bare.StopFast(); }))
    return;
  Step crash = pgrt.Kill9ToQuery();
  if (!crash.ok()) {
    r.errors.push_back(crash.error);
    return;
  }
  r.kill9.pgrt.push_back(crash.value);
  r.kill9.baseline.push_back(bare_restart.value);
}

}  // namespace pgrt::bench
