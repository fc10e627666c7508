#include "replication/timeline.h"

#include <fmt/format.h>

#include <charconv>
#include <memory>

#include "pg/async_conn.h"

namespace pgrt {
namespace {

Result<uint64_t> ParseHex(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || s.size() > 8)
    return Status::InvalidArgument("not a WAL position");
  return v;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// IDENTIFY_SYSTEM's row: systemid, timeline, xlogpos, dbname.
struct Identity {
  std::string system_id;
  WalPoint point;
};

Result<Identity> ReadIdentity(const Result<AsyncPgConn::Results>& r, const std::string& who) {
  if (!r.ok()) return r.status().Wrap(who);
  if (r->empty() || (*r)[0].rows() != 1 || (*r)[0].cols() < 3)
    return Status::Error(who + ": IDENTIFY_SYSTEM gave no row");
  const PgResult& row = (*r)[0];
  Identity id;
  id.system_id = row.Get(0, 0);
  uint32_t tli = 0;
  const std::string t = row.Get(0, 1);
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), tli);
  if (ec != std::errc() || end != t.data() + t.size() || tli == 0)
    return Status::Error(who + ": IDENTIFY_SYSTEM gave timeline '" + t + "'");
  auto lsn = ParseWalPosition(row.Get(0, 2));
  if (!lsn.ok())
    return Status::Error(who + ": IDENTIFY_SYSTEM gave position '" + row.Get(0, 2) + "'");
  id.point = {tli, *lsn};
  return id;
}

}  // namespace

Result<uint64_t> ParseWalPosition(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return Status::InvalidArgument("not a WAL position");
  auto hi = ParseHex(text.substr(0, slash));
  auto lo = ParseHex(text.substr(slash + 1));
  if (!hi.ok() || !lo.ok()) return Status::InvalidArgument("not a WAL position");
  return (*hi << 32) | *lo;
}

std::string FormatWalPosition(uint64_t lsn) {
  return fmt::format("{:X}/{:X}", lsn >> 32, lsn & 0xffffffffu);
}

Result<std::vector<TimelineSwitch>> ParseTimelineHistory(std::string_view text) {
  std::vector<TimelineSwitch> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const size_t tab = line.find_first_of(" \t");
    if (tab == std::string_view::npos)
      return Status::InvalidArgument("timeline history: '" + std::string(line) + "'");
    TimelineSwitch s;
    std::string_view tli = line.substr(0, tab);
    auto [end, ec] = std::from_chars(tli.data(), tli.data() + tli.size(), s.parent);
    std::string_view rest = Trim(line.substr(tab + 1));
    const size_t sep = rest.find_first_of(" \t");
    auto lsn = ParseWalPosition(rest.substr(0, sep));
    if (ec != std::errc() || end != tli.data() + tli.size() || !lsn.ok())
      return Status::InvalidArgument("timeline history: '" + std::string(line) + "'");
    s.switchpoint = *lsn;
    out.push_back(s);
  }
  return out;
}

ForkVerdict JudgeFork(const WalPoint& local, uint32_t primary_timeline,
                      const std::vector<TimelineSwitch>& history) {
  const std::string here =
      fmt::format("timeline {} at {}", local.timeline, FormatWalPosition(local.lsn));
  if (local.timeline == primary_timeline)
    return {false, "on the primary's timeline " + std::to_string(primary_timeline)};
  if (local.timeline > primary_timeline)
    return {true,
            fmt::format("its {} is newer than the primary's timeline {}", here, primary_timeline)};
  // The history lists every ancestor of the primary's timeline in order: the first one that
  // is this node's timeline tells where the primary's history left it.
  for (const TimelineSwitch& s : history) {
    if (s.parent == local.timeline) {
      if (local.lsn > s.switchpoint)
        return {true, fmt::format("its {} is past {}, where the primary's timeline {} forked off",
                                  here, FormatWalPosition(s.switchpoint), primary_timeline)};
      return {false, fmt::format("its {} is not past {}, where the primary's timeline {} "
                                 "forked off",
                                 here, FormatWalPosition(s.switchpoint), primary_timeline)};
    }
    if (s.parent > local.timeline) break;
  }
  return {true, fmt::format("its timeline {} is not in the history of the primary's timeline {}",
                            local.timeline, primary_timeline)};
}

void CheckFork(EventLoop& loop, ConnParams local, ConnParams primary, Millis deadline,
               std::function<void(Result<ForkVerdict>)> done) {
  local["replication"] = "true";
  primary["replication"] = "true";
  auto finish = std::make_shared<std::function<void(Result<ForkVerdict>)>>(std::move(done));
  QueryOnce(
      loop, local, "IDENTIFY_SYSTEM", deadline,
      [&loop, primary, deadline, finish](Result<AsyncPgConn::Results> r) {
        auto mine = ReadIdentity(r, "this node");
        if (!mine.ok()) return (*finish)(mine.status());
        QueryOnce(
            loop, primary, "IDENTIFY_SYSTEM", deadline,
            [&loop, primary, deadline, finish, mine = *mine](Result<AsyncPgConn::Results> r2) {
              auto theirs = ReadIdentity(r2, "the primary");
              if (!theirs.ok()) return (*finish)(theirs.status());
              if (theirs->system_id != mine.system_id)
                return (*finish)(Status::FailedPrecondition(
                    "the primary belongs to another cluster (system identifier " +
                    theirs->system_id + ", this node's is " + mine.system_id + ")"));
              const uint32_t tli = theirs->point.timeline;
              if (mine.point.timeline >= tli || tli == 1)
                return (*finish)(JudgeFork(mine.point, tli, {}));
              QueryOnce(
                  loop, primary, "TIMELINE_HISTORY " + std::to_string(tli), deadline,
                  [finish, mine, tli](Result<AsyncPgConn::Results> r3) {
                    if (!r3.ok())
                      return (*finish)(r3.status().Wrap("the primary's timeline history"));
                    if (r3->empty() || (*r3)[0].rows() != 1 || (*r3)[0].cols() < 2)
                      return (*finish)(Status::Error("the primary's timeline history: no row"));
                    auto history = ParseTimelineHistory((*r3)[0].Get(0, 1));
                    if (!history.ok()) return (*finish)(history.status());
                    (*finish)(JudgeFork(mine.point, tli, *history));
                  });
            });
      });
}

}  // namespace pgrt
