// Where a node keeps its files. Derived from the Config, never stored.
#pragma once

#include <string>

#include "config/config.h"
#include "util/fs.h"

namespace pgrt {

// The role file's name inside PGDATA (replication/role_file.h).
inline constexpr const char* kRoleFileName = "pgrt.role";

struct NodeLayout {
  std::string pgdata;
  std::string socket_dir;
  std::string include_file;  // pgrt's settings, included by postgresql.conf
  std::string hba_file;      // pg_hba.conf, owned by pgrt
  std::string ident_file;    // pg_ident.conf, owned by pgrt
  std::string tls_dir;       // copies of the TLS files with the modes postgres demands
  std::string init_scratch;  // where a first initialization happens before moving into place
  std::string passfile;      // replica: the replication password, for primary_conninfo
  std::string standby_signal;
  std::string role_file;  // the node's topology (replication/role_file.h)

  static NodeLayout From(const Config& c) {
    NodeLayout l;
    l.pgdata = c.pgdata;
    l.socket_dir = c.socket_dir;
    l.include_file = JoinPath(c.pgdata, "pgrt.conf");
    l.hba_file = JoinPath(c.pgdata, "pg_hba.conf");
    l.ident_file = JoinPath(c.pgdata, "pg_ident.conf");
    l.tls_dir = JoinPath(c.pgdata, "pgrt-tls");
    l.init_scratch = JoinPath(c.pgdata, ".pgrt-init");
    l.passfile = JoinPath(c.pgdata, "pgrt-replication.pgpass");
    l.standby_signal = JoinPath(c.pgdata, "standby.signal");
    l.role_file = JoinPath(c.pgdata, kRoleFileName);
    return l;
  }
};

}  // namespace pgrt
