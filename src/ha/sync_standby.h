// SyncStandby: with PGRT_SYNC_MODE=on|strict the leader keeps one synchronous standby and says
// which in etcd (`/pgrt/<cluster>/sync`: {leader, standby}); only that standby may be
// promoted, so every commit the leader acknowledged is on the node that takes over.
//
// The order of each change keeps that true at every instant: the key first stops naming a
// standby (no node may be promoted), then synchronous_standby_names names the new one, and
// only once postgres reports it as `sync` does the key name it. Without a streaming replica,
// `on` falls back to asynchronous commits (the key names no one: no failover until one is
// back), `strict` keeps commits waiting ('*': any standby that connects acknowledges them).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ha/etcd_client.h"
#include "ha/member.h"
#include "pg/async_conn.h"
#include "process/event_loop.h"

namespace pgrt {

struct SyncState {
  std::string leader;
  std::string standby;  // "" : none
  bool operator==(const SyncState&) const = default;
};
std::string RenderSync(const SyncState& s);
std::optional<SyncState> ParseSync(const std::string& json);

class SyncStandby {
 public:
  SyncStandby(EventLoop& loop, EtcdClient& etcd, std::string key, ConnParams local, bool strict);
  ~SyncStandby();

  // On the leader, about once a second: `standbys` is pg_stat_replication as the monitor saw
  // it (applicationName, state, syncState), `published` the key as etcd last said.
  void Tick(const std::string& me, const std::map<std::string, Member>& members,
            const nlohmann::json& standbys, const std::optional<SyncState>& published);
  // This node stopped leading: whatever was in flight is dropped.
  void Reset();

 private:
  void PutKey(SyncState s, std::function<void()> then);
  void SetNames(const std::string& names, std::function<void()> then);
  void Done() { busy_ = false; }

  EventLoop& loop_;
  EtcdClient& etcd_;
  std::string key_;
  AsyncPgConn pg_;
  bool strict_;
  bool busy_ = false;
  std::optional<std::string> names_;  // synchronous_standby_names as last set
  std::string pending_;               // the member being made synchronous
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pgrt
