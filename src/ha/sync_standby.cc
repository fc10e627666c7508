#include "ha/sync_standby.h"

#include <spdlog/spdlog.h>

#include "ha/alive_guard.h"

namespace pgrt {
namespace {

constexpr Millis kDeadline{5000};

std::string StandbyState(const nlohmann::json& standbys, const std::string& app,
                         const char* field) {
  for (const nlohmann::json& s : standbys)
    if (s.value("applicationName", std::string()) == app && s.contains(field) &&
        s[field].is_string())
      return s[field];
  return "";
}

}  // namespace

std::string RenderSync(const SyncState& s) {
  return nlohmann::json{{"leader", s.leader}, {"standby", s.standby}}.dump();
}

std::optional<SyncState> ParseSync(const std::string& json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  return SyncState{j.value("leader", std::string()), j.value("standby", std::string())};
}

SyncStandby::SyncStandby(EventLoop& loop, EtcdClient& etcd, std::string key, ConnParams local,
                         bool strict)
    : loop_(loop),
      etcd_(etcd),
      key_(std::move(key)),
      pg_(loop, std::move(local)),
      strict_(strict) {}

SyncStandby::~SyncStandby() { *alive_ = false; }

void SyncStandby::Reset() {
  if (!busy_ && !names_ && pending_.empty()) return;
  *alive_ = false;
  alive_ = std::make_shared<bool>(true);
  busy_ = false;
  names_.reset();
  pending_.clear();
}

void SyncStandby::Tick(const std::string& me, const std::map<std::string, Member>& members,
                       const nlohmann::json& standbys, const std::optional<SyncState>& published) {
  if (busy_) return;
  auto app_of = [&members](const std::string& name) {
    auto it = members.find(name);
    return it == members.end() ? std::string() : it->second.application_name;
  };
  auto healthy = [&](const std::string& name) {
    auto it = members.find(name);
    return !name.empty() && name != me && it != members.end() && it->second.ready &&
           it->second.role == "replica" && !it->second.application_name.empty() &&
           StandbyState(standbys, it->second.application_name, "state") == "streaming";
  };
  const SyncState current = published && published->leader == me ? *published : SyncState{me, ""};

  // A standby being made synchronous: named in the key once postgres counts it as `sync`.
  if (!pending_.empty()) {
    if (!healthy(pending_)) {
      pending_.clear();
    } else if (StandbyState(standbys, app_of(pending_), "syncState") == "sync") {
      busy_ = true;
      const std::string name = pending_;
      return PutKey({me, name}, [this, name] {
        spdlog::info("ha: {} is the synchronous standby", name);
        pending_.clear();
        Done();
      });
    } else {
      return;  // not yet
    }
  }
  if (healthy(current.standby)) {
    const std::string want = "\"" + app_of(current.standby) + "\"";
    if (names_ == want && published == current) return;
    busy_ = true;
    return PutKey(current, [this, want] { SetNames(want, [this] { Done(); }); });
  }
  // The standby named is gone or unhealthy (or none is named yet): the most advanced
  // streaming replica replaces it.
  std::string next;
  uint64_t best = 0;
  for (const auto& [name, m] : members)
    if (healthy(name) && (next.empty() || m.lsn > best)) {
      next = name;
      best = m.lsn;
    }
  const std::string fallback = strict_ ? "*" : "";
  busy_ = true;
  // First no one may be promoted, then postgres waits for the new standby.
  PutKey({me, ""}, [this, next, fallback, app = app_of(next)] {
    if (next.empty()) return SetNames(fallback, [this] { Done(); });
    pending_ = next;
    SetNames("\"" + app + "\"", [this] { Done(); });
  });
}

void SyncStandby::PutKey(SyncState s, std::function<void()> then) {
  etcd_.Put(key_, RenderSync(s), 0, Guard(alive_, [this, then](Result<int64_t> r) {
              if (!r.ok()) {
                spdlog::warn("ha: sync key: {}", r.status().message());
                return Done();
              }
              then();
            }));
}

void SyncStandby::SetNames(const std::string& names, std::function<void()> then) {
  if (names_ == names) return then();
  // ALTER SYSTEM takes no parameters: the literal is quoted by libpq on the connection. It
  // must be a statement of its own (not in a transaction block), the reload another.
  pg_.QueryBuilt(
      [names](PgConn& conn) -> Result<std::string> {
        auto literal = conn.QuoteLiteral(names);
        if (!literal.ok()) return literal.status();
        return "ALTER SYSTEM SET synchronous_standby_names = " + *literal;
      },
      kDeadline, Guard(alive_, [this, names, then](Result<AsyncPgConn::Results> r) {
        if (!r.ok()) {
          spdlog::warn("ha: synchronous_standby_names: {}", r.status().message());
          return Done();
        }
        pg_.Query("SELECT pg_reload_conf()", kDeadline,
                  Guard(alive_, [this, names, then](Result<AsyncPgConn::Results> reloaded) {
                    if (!reloaded.ok()) {
                      spdlog::warn("ha: reload: {}", reloaded.status().message());
                      return Done();
                    }
                    spdlog::info("ha: synchronous_standby_names = '{}'", names);
                    names_ = names;
                    then();
                  }));
      }));
}

}  // namespace pgrt
